"""Safeguarding phrases: find the words that say someone may be in danger in a chat message.

Pure domain code (standard library and `pyahocorasick` only, no I/O at import). A
council's phrase list sits on top of the baseline Hearth ships
(`hearth_chat/data/baseline_phrases.json`, read on first use); each phrase has a category
(`CATEGORIES`) and a severity (`SEVERITIES`, the alerts contract's literals).
`PhraseScanner.build` compiles a list (minus the council's allow-list) into an
Aho-Corasick automaton; `scan` returns the phrases found in a message, one match per
phrase, most severe first, with offsets into the original text.

Matching sees through what people type (the steps are in `normal_form`): case, accents,
look-alike letters from other scripts, full-width and "fancy" letters, invisible
characters, apostrophes, leetspeak ("k1ll mys3lf"), stretched letters ("hellllp"),
letter-by-letter spacing ("h u r t", "h.u.r.t"). It matches whole tokens only: "scam" is
not found in "scampi", nor "fall" in "falling" (list "falling" if it is meant). `normalise`
gives the form phrases are matched in: two phrases with the same normal form are one.

Doubled letters: the automaton matches a form where every run of a letter is collapsed to
one, on both phrase and message; a match is then kept only if its runs agree with the
phrase's ("fallll" and "fal" match "fall"; "feel" does not match "fell").

Negation (see `negation`): a match is dropped when a single negation cue ("not", "never",
"don't", "won't", "isn't", "haven't", "nobody", ...; "no" only right before) is among the
3 tokens just before the phrase in the same clause. Phrases that hold a negation
themselves ("can't get up", "haven't eaten") are never dropped; two cues cancel out; and a
critical phrase stays flagged when the clause hedges ("not sure I won't", "can't promise",
"don't think I'll"). For safeguarding a missed cry for help costs more than a reviewed
false alarm, so only near, plain, unhedged negations are honoured.
"""

from __future__ import annotations

from hearth_chat.domain.safeguarding.matcher import PhraseMatch, PhraseScanner
from hearth_chat.domain.safeguarding.normal_form import normalise
from hearth_chat.domain.safeguarding.phrases import (
    CATEGORIES,
    SEVERITIES,
    PhraseEntry,
    baseline_phrases,
)

__all__ = [
    "CATEGORIES",
    "SEVERITIES",
    "PhraseEntry",
    "PhraseMatch",
    "PhraseScanner",
    "baseline_phrases",
    "normalise",
]
