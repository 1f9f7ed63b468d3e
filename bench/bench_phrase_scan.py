"""Safeguarding phrase scan: the Aho-Corasick scanner against one regex alternation.

Both sides see the same messages and the same phrases (the baseline list plus synthetic
2-4 word phrases from a fixed seed, up to 1,000 and 10,000 phrases), in the same run:
- scanner: `PhraseScanner.scan(text)`, normalisation included (and, for messages with a
  hit, offsets into the original text, doubled-letter and negation checks);
- regex: `normalise(text)` then `re.compile(r"\\b(?:" + "|".join(map(re.escape,
  phrases)) + r")\\b").findall(...)` over that normal form (phrases normalised the same
  way): matches only, no offsets, no negation.
Workloads (from the labelled corpus):
- everyday: innocent messages joined to about 100 characters, none holding a baseline
  phrase even before negation is checked (the common case: one fast pass, no hit);
- look-alikes: innocent messages (look-alikes, negated phrases, chat) joined the same way:
  many hit the automaton and take the mapped path, to be dropped there;
- flagged: the corpus's labelled messages (short, nearly all with a hit).
Rounds alternate between the sides; the median is printed in microseconds per message.

    uv run python bench/bench_phrase_scan.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from hearth_chat.domain.safeguarding import (
    CATEGORIES,
    SEVERITIES,
    PhraseEntry,
    PhraseScanner,
    baseline_phrases,
    normalise,
)

SEED = 20_240_611
ROUNDS = 3
SIZES = (1_000, 10_000)


@dataclass(frozen=True)
class Workload:
    messages_per_round: int


FULL = Workload(messages_per_round=20_000)
QUICK = Workload(messages_per_round=2_000)


def corpus() -> list[tuple[str, list[str]]]:
    source = resources.files("hearth_chat.data").joinpath("safeguarding_corpus.jsonl")
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    return [(row["text"], row["labels"]) for row in rows]


def joined_messages(innocent: list[str], rng: random.Random) -> list[str]:
    """About 100 characters each: innocent corpus messages joined until long enough."""
    messages: list[str] = []
    for _ in range(500):
        text = rng.choice(innocent)
        while len(text) < 90:
            text = f"{text} {rng.choice(innocent)}"
        messages.append(text)
    return messages


def everyday_messages(rows: list[tuple[str, list[str]]], rng: random.Random) -> list[str]:
    keys = [f" {normalise(entry.phrase)} " for entry in baseline_phrases()]

    def hits(text: str) -> bool:  # anything for the automaton, before negation and runs
        key = f" {normalise(text)} "
        return any(k in key for k in keys)

    innocent = [text for text, labels in rows if not labels and not hits(text)]
    return [text for text in joined_messages(innocent, rng) if not hits(text)]


def flagged_messages(rows: list[tuple[str, list[str]]]) -> list[str]:
    return [text for text, labels in rows if labels]


def phrase_list(
    size: int, rows: list[tuple[str, list[str]]], everyday: list[str], rng: random.Random
) -> list[str]:
    """The baseline phrases plus synthetic ones made of the corpus's own words (so the
    automaton and the regex walk real partial matches), none of them in an everyday
    message (which stay innocent)."""
    baseline = [entry.phrase for entry in baseline_phrases()]
    words = sorted({w for text, _ in rows for w in normalise(text).split() if w.isalpha()})
    innocent = " | ".join(f" {normalise(text)} " for text in everyday)
    phrases = list(baseline)
    seen = {normalise(p) for p in phrases}
    while len(phrases) < size:
        key = normalise(" ".join(rng.choice(words) for _ in range(rng.randint(2, 4))))
        if key not in seen and f" {key} " not in innocent:
            seen.add(key)
            phrases.append(key)
    return phrases[:size]


def build_scanner(phrases: list[str], rng: random.Random) -> PhraseScanner:
    baseline = {entry.phrase: entry for entry in baseline_phrases()}
    entries = [
        baseline.get(p) or PhraseEntry(p, rng.choice(CATEGORIES), rng.choice(SEVERITIES))
        for p in phrases
    ]
    return PhraseScanner.build(entries)


def build_regex(phrases: list[str]) -> re.Pattern[str]:
    keys = [normalise(p) for p in phrases]
    return re.compile(r"\b(?:" + "|".join(map(re.escape, keys)) + r")\b")


def per_message(scan: Callable[[str], object], messages: list[str], count: int) -> float:
    """Microseconds per message over `count` scans cycling through `messages`."""
    batch = (messages * (count // len(messages) + 1))[:count]
    start = time.perf_counter()
    for text in batch:
        scan(text)
    return (time.perf_counter() - start) / count * 1e6


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller run (a few seconds)")
    workload = QUICK if parser.parse_args().quick else FULL
    rng = random.Random(SEED)
    rows = corpus()
    workloads = {
        "everyday": everyday_messages(rows, rng),
        "look-alikes": joined_messages([t for t, labels in rows if not labels], rng),
        "flagged": flagged_messages(rows),
    }
    lengths = {name: statistics.mean(map(len, msgs)) for name, msgs in workloads.items()}
    print(
        f"Phrase scan: {workload.messages_per_round} messages per round and workload "
        f"(regex: fewer at 10,000 phrases); average length "
        + ", ".join(f"{name} {n:.0f} chars" for name, n in lengths.items())
    )
    started = time.perf_counter()
    table: list[tuple[str, ...]] = [
        ("phrases / workload", "scanner us/msg", "regex us/msg", "regex/scanner", "build s")
    ]
    for size in SIZES:
        phrases = phrase_list(size, rows, workloads["everyday"], rng)
        t0 = time.perf_counter()
        scanner = build_scanner(phrases, rng)
        built = time.perf_counter() - t0
        pattern = build_regex(phrases)

        def regex_scan(text: str, pattern: re.Pattern[str] = pattern) -> list[str]:
            return pattern.findall(normalise(text))

        # The regex is slow enough at 10,000 phrases that fewer messages give a steady figure.
        regex_count = max(200, workload.messages_per_round * 1_000 // size)
        for name, messages in workloads.items():
            hits = sum(1 for text in messages if scanner.scan(text)) / len(messages)
            ours: list[float] = []
            theirs: list[float] = []
            for _ in range(ROUNDS):  # alternate, so a busy moment hits both sides
                ours.append(per_message(scanner.scan, messages, workload.messages_per_round))
                theirs.append(per_message(regex_scan, messages, regex_count))
            mine, other = statistics.median(ours), statistics.median(theirs)
            table.append(
                (
                    f"{scanner.size:,} / {name} ({hits:.0%} reported)",
                    f"{mine:.2f}",
                    f"{other:.2f}",
                    f"{other / mine:.1f}x",
                    f"{built:.2f}",
                )
            )
    everyday = workloads["everyday"]
    normal = statistics.median(
        per_message(normalise, everyday, workload.messages_per_round) for _ in range(ROUNDS)
    )
    print_table(table)
    print(f"normalise() alone on everyday messages: {normal:.2f} us/msg")
    print(f"(median of {ROUNDS} alternating rounds; ran in {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
