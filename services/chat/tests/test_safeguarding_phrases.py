"""Phrase entries, the contract's severities and the shipped baseline list."""

from __future__ import annotations

import json
from importlib import resources
from typing import get_args

import pytest

from hearth_chat.domain.safeguarding import (
    CATEGORIES,
    SEVERITIES,
    PhraseEntry,
    PhraseScanner,
    baseline_phrases,
    normalise,
)
from hearth_contracts.alerts import Severity


def test_severities_are_the_contracts() -> None:
    assert SEVERITIES == get_args(Severity)


def test_categories() -> None:
    assert CATEGORIES == (
        "self_harm",
        "abuse_neglect",
        "financial_abuse_scams",
        "falls_medical",
        "loneliness",
        "cold_hunger",
    )


@pytest.mark.parametrize(
    ("phrase", "category", "severity", "message"),
    [
        ("", "self_harm", "high", "no letters or digits"),
        ("  ...!!  ", "self_harm", "high", "no letters or digits"),
        ("\U0001f622", "self_harm", "high", "no letters or digits"),
        ("x" * 201, "self_harm", "high", "at most 200 characters"),
        ("hurt myself", "sadness", "high", "unknown category 'sadness'"),
        ("hurt myself", "self_harm", "urgent", "unknown severity 'urgent'"),
        ("hurt myself", "Self_Harm", "high", "unknown category"),
    ],
)
def test_entry_validation(phrase: str, category: str, severity: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PhraseEntry(phrase, category, severity)


def test_entry_accepts_the_longest_phrase_and_keeps_it_as_written() -> None:
    entry = PhraseEntry("Can't  get UP " + "a" * 186, "falls_medical", "critical")
    assert entry.phrase.startswith("Can't  get UP")
    assert PhraseEntry("999", "falls_medical", "critical").phrase == "999"


def test_entries_are_frozen_values() -> None:
    entry = PhraseEntry("scam", "financial_abuse_scams", "low")
    assert entry == PhraseEntry("scam", "financial_abuse_scams", "low")
    with pytest.raises(AttributeError):
        entry.severity = "high"  # type: ignore[misc]


def test_baseline_list() -> None:
    entries = baseline_phrases()
    assert 150 <= len(entries) <= 600
    assert {e.category for e in entries} == set(CATEGORIES)
    for category in CATEGORIES:
        assert sum(e.category == category for e in entries) >= 20, category
    keys = [normalise(e.phrase) for e in entries]
    assert len(keys) == len(set(keys)), "a phrase is listed twice"
    assert PhraseScanner.build(entries).size == len(entries)
    for example in ("can't get up", "chest pains", "no heating", "nobody visits", "scam"):
        assert normalise(example) in keys
    # a fresh list each call: callers may add to it
    entries.append(PhraseEntry("extra", "loneliness", "low"))
    assert len(baseline_phrases()) == len(entries) - 1


def test_baseline_ships_as_package_data() -> None:
    source = resources.files("hearth_chat.data").joinpath("baseline_phrases.json")
    document = json.loads(source.read_text(encoding="utf-8"))
    assert set(document["categories"]) <= set(CATEGORIES)
    for by_severity in document["categories"].values():
        assert set(by_severity) <= set(SEVERITIES)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I've had a fall", "falls_medical"),
        ("I can't get up", "falls_medical"),
        ("he hits me", "abuse_neglect"),
        ("they took my bank card", "financial_abuse_scams"),
        ("a man asked for my PIN", "financial_abuse_scams"),
        ("there's no heating", "cold_hunger"),
        ("I haven't eaten for days", "cold_hunger"),
        ("nobody visits", "loneliness"),
        ("I want to end it all", "self_harm"),
        ("I've got chest pains", "falls_medical"),
    ],
)
def test_baseline_finds_the_examples_from_the_issue(text: str, category: str) -> None:
    found = PhraseScanner.build(baseline_phrases()).scan(text)
    assert category in {m.category for m in found}
