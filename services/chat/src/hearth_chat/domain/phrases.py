"""A council's safeguarding phrases: its own list on top of Hearth's baseline, minus the
phrases its staff reviewed as false positives (the allow-list).

A false positive puts the matched phrase on the council's allow-list, so that phrase no
longer fires in that council (the baseline and other councils are unchanged). A council
administrator sees the allow-list and can take a phrase off it again with
`PUT /v1/safeguarding/phrases`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hearth_chat.domain.errors import InvalidInput
from hearth_chat.domain.message import Match
from hearth_chat.domain.safeguarding import (
    PhraseEntry,
    PhraseScanner,
    baseline_phrases,
    normalise,
)

MAX_PHRASES = 2000
MAX_ALLOWED = 2000
MAX_PHRASE_CHARS = 200


@dataclass(frozen=True)
class CouncilPhrases:
    phrases: tuple[PhraseEntry, ...] = ()
    allow: tuple[str, ...] = ()
    updated_by: str | None = None
    updated_at: float | None = None
    # Changes whenever the lists change: replicas rebuild their scanner when it moves.
    revision: int = 0

    def allowing(self, phrase: str) -> CouncilPhrases:
        key = normalise(phrase)
        if key in {normalise(p) for p in self.allow}:
            return self
        return CouncilPhrases(
            phrases=self.phrases,
            allow=(*self.allow, phrase),
            updated_by=self.updated_by,
            updated_at=self.updated_at,
            revision=self.revision + 1,
        )


def check_phrases(items: list[tuple[str, str, str]]) -> tuple[PhraseEntry, ...]:
    """Validated council phrases (phrase, category, severity); duplicates (after
    normalising) keep their first entry."""
    if len(items) > MAX_PHRASES:
        raise InvalidInput(f"at most {MAX_PHRASES} phrases", field="phrases")
    entries: dict[str, PhraseEntry] = {}
    for index, (phrase, category, severity) in enumerate(items):
        where = f"phrases[{index}]"
        if len(phrase) > MAX_PHRASE_CHARS:
            raise InvalidInput(
                f"a phrase has at most {MAX_PHRASE_CHARS} characters", field=f"{where}.phrase"
            )
        try:
            entry = PhraseEntry(phrase, category, severity)
        except ValueError as exc:
            raise InvalidInput(str(exc), field=where, code="invalid_phrase") from exc
        entries.setdefault(normalise(entry.phrase), entry)
    return tuple(entries.values())


def check_allow(items: list[str]) -> tuple[str, ...]:
    if len(items) > MAX_ALLOWED:
        raise InvalidInput(f"at most {MAX_ALLOWED} allowed phrases", field="allow")
    kept: dict[str, str] = {}
    for index, phrase in enumerate(items):
        key = normalise(phrase)
        if not key or len(phrase) > MAX_PHRASE_CHARS:
            raise InvalidInput(
                f"an allowed phrase has 1 to {MAX_PHRASE_CHARS} characters",
                field=f"allow[{index}]",
            )
        kept.setdefault(key, phrase)
    return tuple(kept.values())


def build_scanner(council: CouncilPhrases) -> PhraseScanner:
    return PhraseScanner.build([*baseline_phrases(), *council.phrases], allow=council.allow)


def scan(scanner: PhraseScanner, text: str) -> list[Match]:
    """Matches of a text, most severe first, one per phrase."""
    seen: set[str] = set()
    found: list[Match] = []
    for match in scanner.scan(text):
        if match.phrase in seen:
            continue
        seen.add(match.phrase)
        found.append(Match(match.phrase, match.category, match.severity))
    return found
