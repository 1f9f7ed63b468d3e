"""A stand-in for `hearth_chat.domain.safeguarding` while that package is not in the
tree yet: the same interface, naive matching. Installed by conftest only if needed."""

from __future__ import annotations

import sys
import types
import unicodedata
from dataclasses import dataclass

CATEGORIES = ("self_harm", "abuse", "neglect", "distress", "exploitation")
SEVERITIES = ("low", "medium", "high", "critical")


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class PhraseEntry:
    phrase: str
    category: str
    severity: str

    def __post_init__(self) -> None:
        if not normalise(self.phrase):
            raise ValueError("phrase is empty")
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")


@dataclass(frozen=True)
class PhraseMatch:
    phrase: str
    category: str
    severity: str
    start: int
    end: int


class PhraseScanner:
    def __init__(self, entries: list[PhraseEntry]) -> None:
        self.entries = entries

    @classmethod
    def build(cls, entries, *, allow=()):  # type: ignore[no-untyped-def]
        allowed = {normalise(a) for a in allow}
        return cls([e for e in entries if normalise(e.phrase) not in allowed])

    def scan(self, text: str) -> list[PhraseMatch]:
        norm = normalise(text)
        found = []
        for e in self.entries:
            at = norm.find(normalise(e.phrase))
            if at >= 0:
                found.append(PhraseMatch(e.phrase, e.category, e.severity, at, at + len(e.phrase)))
        return sorted(found, key=lambda m: -SEVERITIES.index(m.severity))


def baseline_phrases() -> list[PhraseEntry]:
    return [
        PhraseEntry("kill myself", "self_harm", "critical"),
        PhraseEntry("nobody feeds me", "neglect", "high"),
        PhraseEntry("so lonely", "distress", "medium"),
    ]


def install() -> None:
    try:
        from hearth_chat.domain.safeguarding import PhraseScanner as _  # noqa: F401
    except ImportError:
        module = types.ModuleType("hearth_chat.domain.safeguarding")
        for name in (
            "CATEGORIES",
            "SEVERITIES",
            "normalise",
            "PhraseEntry",
            "PhraseMatch",
            "PhraseScanner",
            "baseline_phrases",
        ):
            setattr(module, name, globals()[name])
        sys.modules["hearth_chat.domain.safeguarding"] = module


install()
