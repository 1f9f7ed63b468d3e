"""Phrase entries, their categories and severities, and the baseline list Hearth ships."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from hearth_chat.domain.safeguarding.normal_form import normalise

__all__ = [
    "CATEGORIES",
    "MAX_PHRASE_CHARS",
    "SEVERITIES",
    "PhraseEntry",
    "baseline_phrases",
    "severity_rank",
]

CATEGORIES: tuple[str, ...] = (
    "self_harm",
    "abuse_neglect",
    "financial_abuse_scams",
    "falls_medical",
    "loneliness",
    "cold_hunger",
)
# The alerts contract's `Severity` literals, least severe first.
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
MAX_PHRASE_CHARS = 200
_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def severity_rank(severity: str) -> int:
    """0 for "low" up to 3 for "critical"."""
    return _RANK[severity]


@dataclass(frozen=True)
class PhraseEntry:
    """One phrase of a list, as a person wrote it, with its category and severity."""

    phrase: str
    category: str
    severity: str

    def __post_init__(self) -> None:
        if not isinstance(self.phrase, str):
            raise ValueError("a phrase must be text")
        if len(self.phrase) > MAX_PHRASE_CHARS:
            raise ValueError(
                f"a phrase has at most {MAX_PHRASE_CHARS} characters "
                f"(this one has {len(self.phrase)})"
            )
        if not normalise(self.phrase):
            raise ValueError(
                f"phrase {self.phrase!r} has no letters or digits to match once normalised"
            )
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}: one of {', '.join(CATEGORIES)}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}: one of {', '.join(SEVERITIES)}")


@cache
def _baseline() -> tuple[PhraseEntry, ...]:
    source = resources.files("hearth_chat.data").joinpath("baseline_phrases.json")
    document = json.loads(source.read_text(encoding="utf-8"))
    entries: list[PhraseEntry] = []
    for category, by_severity in document["categories"].items():
        for severity, phrases in by_severity.items():
            entries.extend(PhraseEntry(phrase, category, severity) for phrase in phrases)
    return tuple(entries)


def baseline_phrases() -> list[PhraseEntry]:
    """The phrase list Hearth ships (`hearth_chat/data/baseline_phrases.json`), read once."""
    return list(_baseline())
