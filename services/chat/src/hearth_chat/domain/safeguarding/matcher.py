"""The phrase scanner: every phrase of a council's lists in one Aho-Corasick automaton.

Phrases are compiled to their normal form padded with a space on each side, and the
message's normal form is padded the same way, so a hit is always a run of whole tokens.
A second, small automaton holds each phrase with its spaces removed; it only runs over
tokens joined from letter-by-letter spacing ("i want to h u r t m y s e l f"), where
word boundaries are lost, and matches anywhere inside them.

Scanning first builds the normal form without an index map (a few string operations in
C, `scan_form.ScanForm`) and asks the automaton whether any phrase occurs at all; only
then does it check doubled letters and negation, and map each kept match back to the
original text, working out only the parts of the map those hits need.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ahocorasick

from hearth_chat.domain.safeguarding.negation import holds_negation, is_negated, may_be_negated
from hearth_chat.domain.safeguarding.normal_form import (
    Normalised,
    normalise,
    normalise_mapped,
    runs_agree,
)
from hearth_chat.domain.safeguarding.phrases import PhraseEntry, severity_rank
from hearth_chat.domain.safeguarding.scan_form import ScanForm

__all__ = ["PhraseMatch", "PhraseScanner"]

# Joined letter-by-letter runs only match phrases at least this long (without spaces).
_MIN_COMPACT = 4


@dataclass(frozen=True)
class PhraseMatch:
    """A phrase found in a message: the list entry's phrase (not the message's spelling),
    its category and severity, and where it is in the original message (`text[start:end]`
    is what to highlight)."""

    phrase: str
    category: str
    severity: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Compiled:
    entry: PhraseEntry
    rank: int
    runs: tuple[int, ...]
    compact: str  # the normal form without spaces (for letter-by-letter spacing)
    compact_runs: tuple[int, ...]
    negative: bool  # the phrase holds a negation itself
    stretched: str  # the normal form with its runs written out ("fell over")
    last: int  # how many tokens follow the first


# Automaton values: (allow?, length of the key, the phrases compiled to that key).
_Value = tuple[bool, int, tuple[_Compiled, ...]]


def _compact(form: Normalised) -> tuple[str, tuple[int, ...]]:
    """The normal form without spaces, runs of a letter merged across the joins."""
    chars: list[str] = []
    runs: list[int] = []
    for char, run in zip(form.key, form.runs, strict=True):
        if char == " ":
            continue
        if chars and chars[-1] == char and char.isalpha():
            runs[-1] += run
        else:
            chars.append(char)
            runs.append(run)
    return "".join(chars), tuple(runs)


def _automaton(words: dict[str, Any]) -> Any:
    if not words:
        return None
    automaton = ahocorasick.Automaton()
    for key, value in words.items():
        automaton.add_word(key, value)
    automaton.make_automaton()
    return automaton


class PhraseScanner:
    """Finds a list's phrases in messages. Build once per list (`build`), scan many times;
    a scanner is immutable and safe to share."""

    def __init__(self, main: Any, compact: Any, size: int) -> None:
        """Use `build`: the automata map padded normal forms to `_Value`s."""
        self._main = main
        self._compact = compact
        self._size = size

    @classmethod
    def build(cls, entries: Iterable[PhraseEntry], *, allow: Iterable[str] = ()) -> PhraseScanner:
        """A scanner for `entries`. Entries with the same normal form and doubled letters
        are one phrase: the most severe is kept (the first of equal severity).

        `allow` is a council's allow-list: a phrase on it is never reported. An allowed
        phrase longer than a listed one also shields the listed phrase where it occurs
        inside it (allowing "fell asleep over" keeps "fell" in it from firing).
        """
        allowed = {key for key in map(normalise, allow) if key}
        chosen: dict[tuple[str, tuple[int, ...]], _Compiled] = {}
        for entry in entries:
            form = normalise_mapped(entry.phrase)
            if form.key in allowed:
                continue
            compact, compact_runs = _compact(form)
            compiled = _Compiled(
                entry,
                severity_rank(entry.severity),
                tuple(form.runs),
                compact,
                compact_runs,
                holds_negation(form.tokens),
                "".join(char * run for char, run in zip(form.key, form.runs, strict=True)),
                len(form.tokens) - 1,
            )
            slot = (form.key, compiled.runs)
            kept = chosen.get(slot)
            if kept is None or compiled.rank > kept.rank:
                chosen[slot] = compiled
        by_key: dict[str, list[_Compiled]] = {}
        by_compact: dict[str, list[_Compiled]] = {}
        for (key, _), compiled in chosen.items():
            by_key.setdefault(key, []).append(compiled)
            if len(compiled.compact) >= _MIN_COMPACT:
                by_compact.setdefault(compiled.compact, []).append(compiled)
        main: dict[str, _Value] = {
            f" {k} ": (False, len(k) + 2, tuple(v)) for k, v in by_key.items()
        }
        for key in allowed:
            main.setdefault(f" {key} ", (True, len(key) + 2, ()))
        compact_words = {k: (False, len(k), tuple(v)) for k, v in by_compact.items()}
        return cls(_automaton(main), _automaton(compact_words), len(chosen))

    @property
    def size(self) -> int:
        """How many phrases were compiled (after merging duplicates and the allow-list)."""
        return self._size

    def scan(self, text: str) -> list[PhraseMatch]:
        """The phrases in `text`, one match per phrase (its first occurrence that is not
        negated), most severe first, then in the order they occur."""
        if self._main is None:
            return []
        form = ScanForm(text)
        as_i = form.spaced or self._any_phrase(form.key)
        if not (as_i or form.ambiguous):
            return []  # the common case: one pass over the fast form, nothing found
        readings = [form] if as_i else []
        if form.ambiguous:
            other = ScanForm(text, one_as="l")
            if form.spaced or self._any_phrase(other.key):
                readings.append(other)
        found: dict[str, tuple[_Compiled, int, int]] = {}
        for reading in readings:
            self._collect(reading, found)
        ordered = sorted(found.values(), key=lambda hit: (-hit[0].rank, hit[1], hit[2]))
        return [
            PhraseMatch(c.entry.phrase, c.entry.category, c.entry.severity, start, end)
            for c, start, end in ordered
        ]

    def _any_phrase(self, padded: str) -> bool:
        for _, (allow, _, _) in self._main.iter(padded):
            if not allow:
                return True
        return False

    def _collect(self, form: ScanForm, found: dict[str, tuple[_Compiled, int, int]]) -> None:
        shields: list[tuple[int, int]] = []
        hits: list[tuple[int, int, bool, tuple[_Compiled, ...]]] = []
        # Padded index i is key index i - 1; a key of length n ending at e covers padded
        # [e - n + 1, e], so the phrase itself is key [e - n + 1, e - 1).
        for end, (allow, length, compiled) in self._main.iter(form.key):
            span = (end - length + 1, end - 1)
            if allow:
                shields.append(span)
            else:
                hits.append((*span, False, compiled))
        if self._compact is not None:
            for token in form.spaced_tokens():
                offset = form.token_starts[token]
                for end, (_, length, compiled) in self._compact.iter(form.tokens[token]):
                    hits.append((offset + end - length + 1, offset + end + 1, True, compiled))
        for start, end, compact, candidates in hits:
            if shields and any(a <= start and end <= b for a, b in shields):
                continue
            for candidate in candidates:
                self._consider(form, start, end, compact, candidate, found)

    def _consider(
        self,
        form: ScanForm,
        start: int,
        end: int,
        compact: bool,
        candidate: _Compiled,
        found: dict[str, tuple[_Compiled, int, int]],
    ) -> None:
        token = form.token_at(start)[0]
        # Typed exactly as the phrase (the usual case), its runs agree without a check.
        exact = not compact and form.stretched(token, token + candidate.last) == candidate.stretched
        if not exact:
            runs = form.runs_between(start, end)
            wanted = candidate.compact_runs if compact else candidate.runs
            if len(runs) != len(wanted) or not runs_agree(runs, wanted):
                return
        if (
            not candidate.negative
            and may_be_negated(form.tokens, token)
            and is_negated(
                form.tokens, form.breaks, token, critical=candidate.entry.severity == "critical"
            )
        ):
            return
        phrase = candidate.entry.phrase
        previous = found.get(phrase)
        if compact:
            first, last = form.span(start, end)
        else:  # whole tokens
            first, last = form.token_span(token, token + candidate.last)
        if previous is None or first < previous[1]:
            found[phrase] = (candidate, first, last)
