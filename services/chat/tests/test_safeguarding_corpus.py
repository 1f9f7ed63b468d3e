"""Precision and recall of the baseline list on the labelled corpus, per category.

`hearth_chat/data/safeguarding_corpus.jsonl`: one message a line, `{"text", "labels"}`
(no labels: innocent; `"held_out": true`: see below). A message is a true positive for a category when the scanner
reports that category and the labels hold it. Run with `pytest -s` to see the table.

The corpus has plain, obfuscated and negated messages per category, innocent look-alikes
and everyday chat. The list was tuned on all of it but the last batch (56 messages),
marked `held_out`, which was written before the list's latest extension and never tuned
on: recall there (about 0.55) is the honest estimate of what the list catches in messages
it has not seen, and its misses are what phrase matching cannot see.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources

import pytest

from hearth_chat.domain.safeguarding import CATEGORIES, PhraseScanner, baseline_phrases

# Floors just below what the baseline achieves (see the printed table); never below 0.8.
PRECISION_FLOOR = {
    "self_harm": 0.95,
    "abuse_neglect": 0.96,
    "financial_abuse_scams": 0.94,
    "falls_medical": 0.91,
    "loneliness": 0.92,
    "cold_hunger": 0.90,
}
RECALL_FLOOR = {
    "self_harm": 0.88,
    "abuse_neglect": 0.85,
    "financial_abuse_scams": 0.92,
    "falls_medical": 0.96,
    "loneliness": 0.92,
    "cold_hunger": 0.98,
}
MIN_MESSAGES = 320
# Messages never tuned on: the floor is what the list must keep catching as it changes.
HELD_OUT_RECALL_FLOOR = 0.5
HELD_OUT_PRECISION_FLOOR = 0.9


def load_corpus(*, held_out_only: bool = False) -> list[tuple[str, frozenset[str]]]:
    source = resources.files("hearth_chat.data").joinpath("safeguarding_corpus.jsonl")
    rows: list[tuple[str, frozenset[str]]] = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if held_out_only and not row.get("held_out", False):
                continue
            rows.append((row["text"], frozenset(row["labels"])))
    return rows


def test_corpus_shape() -> None:
    rows = load_corpus()
    assert len(rows) >= MIN_MESSAGES
    texts = [text for text, _ in rows]
    assert len(texts) == len(set(texts)), "a message is in the corpus twice"
    for _, labels in rows:
        assert labels <= set(CATEGORIES)
    for category in CATEGORIES:
        assert sum(category in labels for _, labels in rows) >= 30, category
    assert sum(not labels for _, labels in rows) >= 100


def test_precision_and_recall_per_category(record_property: Callable[[str, object], None]) -> None:
    scanner = PhraseScanner.build(baseline_phrases())
    counts = {category: [0, 0, 0] for category in CATEGORIES}  # tp, fp, fn
    for text, labels in load_corpus():
        found = {match.category for match in scanner.scan(text)}
        for category in CATEGORIES:
            if category in found and category in labels:
                counts[category][0] += 1
            elif category in found:
                counts[category][1] += 1
            elif category in labels:
                counts[category][2] += 1
    lines = [f"{'category':<24}{'precision':>10}{'recall':>8}{'tp':>5}{'fp':>5}{'fn':>5}"]
    failures: list[str] = []
    for category, (tp, fp, fn) in counts.items():
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        lines.append(f"{category:<24}{precision:>10.3f}{recall:>8.3f}{tp:>5}{fp:>5}{fn:>5}")
        record_property(f"{category}.precision", round(precision, 3))
        record_property(f"{category}.recall", round(recall, 3))
        if precision < PRECISION_FLOOR[category]:
            failures.append(f"{category} precision {precision:.3f} < {PRECISION_FLOOR[category]}")
        if recall < RECALL_FLOOR[category]:
            failures.append(f"{category} recall {recall:.3f} < {RECALL_FLOOR[category]}")
    print("\n" + "\n".join(lines))
    assert not failures, failures


@pytest.mark.parametrize("category", CATEGORIES)
def test_floors_are_honest(category: str) -> None:
    assert PRECISION_FLOOR[category] >= 0.85
    assert RECALL_FLOOR[category] >= 0.8


def test_recall_on_held_out_messages(record_property: Callable[[str, object], None]) -> None:
    scanner = PhraseScanner.build(baseline_phrases())
    rows = load_corpus(held_out_only=True)
    assert len(rows) >= 50
    tp = fp = fn = 0
    for text, labels in rows:
        found = {match.category for match in scanner.scan(text)}
        tp += len(found & labels)
        fp += len(found - labels)
        fn += len(labels - found)
    recall = tp / (tp + fn)
    precision = tp / (tp + fp)
    record_property("held_out.recall", round(recall, 3))
    record_property("held_out.precision", round(precision, 3))
    print(f"\nheld-out messages: precision {precision:.3f}, recall {recall:.3f} ({tp} tp, {fn} fn)")
    assert recall >= HELD_OUT_RECALL_FLOOR
    assert precision >= HELD_OUT_PRECISION_FLOOR
