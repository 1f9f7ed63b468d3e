"""The normal form a message and a phrase are matched in, with and without an index map.

The steps, in order (`normalise` and `normalise_mapped` apply exactly these; a test checks
that the two agree):

1. Fold each character: invisible format characters (zero-width spaces and joiners, soft
   hyphens, bidi controls) and apostrophes are deleted ("can't" -> "cant"); the rest is
   decomposed (NFKD, which also turns full-width, circled, superscript and "mathematical
   bold" letters into plain ones), combining marks (accents) are stripped, look-alikes
   from Cyrillic, Greek and Latin small capitals become the Latin letter they imitate,
   and the result is case-folded. Every character that is not a letter, a digit, `@` or
   `$` becomes a space.
2. Split into tokens on the spaces. Punctuation, emoji and spacing only separate tokens,
   so a phrase matches whole tokens only ("scam" never matches inside "scampi").
3. Leetspeak, only in a token that mixes letters with digits or `@`/`$`: 0->o, 1->i,
   3->e, 4->a, 5->s, 7->t, @->a, $->s. Tokens without letters ("500", "999", "2024",
   "$20") are left alone, so numbers never turn into words. "1" is ambiguous: this form
   reads it as "i"; the scanner also tries "l" when a message has such a token.
4. Letter-by-letter spacing: three or more one-letter tokens in a row ("h u r t",
   "h.u.r.t", "h-u-r-t") are joined into one token ("hurt"), marked as spaced out.
5. Repeated letters: every run of the same letter is collapsed to one ("hellllp" ->
   "help", and also "fall" -> "fal"; digits stay: "999"), in phrase and message alike,
   so stretched words match. The mapped form keeps each run's length, and the scanner
   checks a match against the phrase's own runs (`runs_agree`): "I feel over the moon"
   does not match "fell over" although both collapse to "fel over".

The result is the tokens joined by single spaces. Other scripts pass through (folded and
tokenised the same way) and only match phrases written in them.

Cost: the fast form (`normalise`, `quick_key`) is a handful of C-level string operations
(`str.translate` with a cached per-code-point table, `split`, `join`, `replace`); the
mapped form is built for phrases, while the scanner works out only the parts of it that a
hit needs (`scan_form.ScanForm`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import repeat

from hearth_chat.domain.safeguarding.confusables import CONFUSABLES as _CONFUSABLES

__all__ = ["Normalised", "normalise", "normalise_mapped", "runs_agree"]

# Apostrophes and the accents people type as apostrophes: deleted, so "can't" == "cant".
_APOSTROPHES = frozenset("'`\u2019\u2018\u201b\u02bc\u00b4\u2032\u02b9")
_CACHE_LIMIT = 200_000
_LEET = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_LEET_I = str.maketrans({**_LEET, "1": "i"})
_LEET_L = str.maketrans({**_LEET, "1": "l"})
_MIN_SPACED = 3
# A necessary condition for three one-character tokens in a row (in the padded form).
_SPACED_HINT = re.compile(r" \S \S \S ")
# A letter followed by the same letter: deleting each one collapses every run to one.
_DOUBLED = re.compile(r"([^\W\d_])(?=\1)")
_DOUBLED_ASCII = re.compile(r"([a-z])(?=\1)")
# Punctuation that ends a clause, looked for in the original text between two tokens.
_CLAUSE_BREAK = re.compile(
    r"[.,;:!?\n\r\u2026\u3002\u3001\uff0c\uff0e\uff01\uff1f\uff1b\uff1a\u061f\u060c]"
)
_TOKEN = re.compile(r"[^ ]+")


def _token_char(char: str) -> str:
    return char if char.isalpha() or char.isdecimal() or char in "@$" else " "


def _fold_char(char: str) -> str | None:
    """What a character folds to; None when it is deleted (None, not "", keeps
    `str.translate` on its fast path)."""
    if char in _APOSTROPHES or unicodedata.category(char) == "Cf":
        return None
    out: list[str] = []
    for part in unicodedata.normalize("NFKD", char):
        if part in _APOSTROPHES or unicodedata.category(part).startswith("M"):
            continue
        for folded in _CONFUSABLES.get(part, part).casefold():
            if not unicodedata.category(folded).startswith("M"):
                out.append(_token_char(_CONFUSABLES.get(folded, folded)))
    return "".join(out) or None


class _FoldTable(dict[int, str | None]):
    """A `str.translate` table computed on first sight of each code point."""

    def __missing__(self, key: int) -> str | None:
        value = _fold_char(chr(key))
        if len(self) < _CACHE_LIMIT:
            self[key] = value
        return value


# A plain dict for ASCII text (faster in `str.translate`), the growing table for the rest.
_FOLD_ASCII: dict[int, str | None] = {code: _fold_char(chr(code)) for code in range(128)}
_FOLD = _FoldTable(_FOLD_ASCII)


def _mixed(token: str) -> bool:
    """A token mixing letters with digits or @/$ (where leetspeak is read)."""
    return not token.isalpha() and any(char.isalpha() for char in token)


def _deleet(tokens: list[str], table: dict[int, str]) -> tuple[list[str], bool]:
    ambiguous = False
    out = tokens[:]
    for index, token in enumerate(tokens):
        if not token.isalpha() and not token.isdecimal() and _mixed(token):
            ambiguous = ambiguous or "1" in token
            out[index] = token.translate(table)
    return out, ambiguous


def _single_letter(token: str) -> bool:
    return len(token) == 1 and token.isalpha()


def _spaced_runs(tokens: list[str]) -> list[tuple[int, int]]:
    """(first, end) of each run of at least three one-letter tokens."""
    runs: list[tuple[int, int]] = []
    index = 0
    while index < len(tokens):
        end = index
        while end < len(tokens) and _single_letter(tokens[end]):
            end += 1
        if end - index >= _MIN_SPACED:
            runs.append((index, end))
            index = end
        else:
            index += 1
    return runs


def _collapse(text: str) -> str:
    # Folded text holds letters, digits, @, $ and spaces: ASCII letters are a-z.
    return (_DOUBLED_ASCII if text.isascii() else _DOUBLED).sub("", text)


def _padded(text: str, table: dict[int, str]) -> tuple[str, bool, bool]:
    """Steps 1-4, the tokens joined by spaces with one more space at each end (ready for
    whole-token matching); whether a spaced-out run was joined; whether a "1" was read."""
    tokens = text.translate(_FOLD_ASCII if text.isascii() else _FOLD).split()
    ambiguous = spaced = False
    if not "".join(tokens).isalpha():
        tokens, ambiguous = _deleet(tokens, table)
    padded = " " + " ".join(tokens) + " "
    if _SPACED_HINT.search(padded):
        runs = _spaced_runs(tokens)
        if runs:
            spaced = True
            for first, end in reversed(runs):
                tokens[first:end] = ["".join(tokens[first:end])]
            padded = " " + " ".join(tokens) + " "
    return padded, spaced, ambiguous


def normalise(text: str) -> str:
    """The matching key of a text: folded, tokenised, de-leeted, spacing joined, runs of
    a letter collapsed to one, tokens joined by single spaces ("" when nothing is
    left)."""
    return _collapse(_padded(text, _LEET_I)[0])[1:-1]


def quick_key(text: str, *, one_as: str = "i") -> tuple[str, bool, bool]:
    """`normalise(text)` (with "1" read as `one_as`) padded with a space at each end,
    whether it holds a spaced-out run, and whether a "1" was read as a letter (so the "l"
    reading is worth trying too)."""
    padded, spaced, ambiguous = _padded(text, _LEET_L if one_as == "l" else _LEET_I)
    return (_DOUBLED_ASCII if padded.isascii() else _DOUBLED).sub("", padded), spaced, ambiguous


@dataclass(frozen=True, slots=True)
class Normalised:
    """The normal form of a text with, for each of its characters, where it came from.

    `key` is `normalise(text)` (with "1" read as `one_as`). For each character of `key`:
    `starts`/`ends` give the span of the original text it stands for (a collapsed run
    spans all its characters), `runs` how many characters were collapsed into it
    (spaces: start -1, run 1). For each token: where it starts in `key`, its text,
    whether a clause break (punctuation or a line break) comes before it, and whether it
    was joined from letter-by-letter spacing.
    """

    key: str
    starts: list[int]
    ends: list[int]
    runs: list[int]
    tokens: list[str]
    token_starts: list[int]
    breaks: list[bool]
    spaced: list[bool]


@dataclass(slots=True)
class _Token:
    text: str
    origin: list[int]
    brk: bool
    spaced: bool = False


def _fold_mapped(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index it came from."""
    if text.isascii():  # ASCII folds one character to one, or deletes it
        folded = text.translate(_FOLD_ASCII)
        if len(folded) == len(text):
            return folded, list(range(len(text)))
        return folded, [i for i, c in enumerate(text) if _FOLD_ASCII[ord(c)] is not None]
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        part = _FOLD[ord(char)]
        if part:
            parts.append(part)
            origin.extend(repeat(index, len(part)))
    return "".join(parts), origin


def _mapped_tokens(text: str, table: dict[int, str]) -> list[_Token]:
    folded, origin = _fold_mapped(text)
    found: list[_Token] = []
    for match in _TOKEN.finditer(folded):
        token = match.group()
        if _mixed(token):
            token = token.translate(table)
        where = origin[match.start() : match.end()]
        brk = bool(found) and (
            _CLAUSE_BREAK.search(text, found[-1].origin[-1] + 1, where[0]) is not None
        )
        found.append(_Token(token, where, brk))
    runs = _spaced_runs([token.text for token in found])
    for first, end in reversed(runs):
        run = found[first:end]
        joined = _Token(
            "".join(t.text for t in run), [o for t in run for o in t.origin], run[0].brk, True
        )
        found[first:end] = [joined]
    return found


def normalise_mapped(text: str, *, one_as: str = "i") -> Normalised:
    """`normalise(text)` with the map back to the original text (see `Normalised`)."""
    table = _LEET_L if one_as == "l" else _LEET_I
    pieces: list[str] = []
    length = 0
    starts: list[int] = []
    ends: list[int] = []
    runs: list[int] = []
    tokens: list[str] = []
    token_starts: list[int] = []
    breaks: list[bool] = []
    spaced: list[bool] = []
    for token in _mapped_tokens(text, table):
        if tokens:
            pieces.append(" ")
            length += 1
            starts.append(-1)
            ends.append(-1)
            runs.append(1)
        if _DOUBLED.search(token.text) is None:
            collapsed = token.text
            starts.extend(token.origin)
            ends.extend([where + 1 for where in token.origin])
            runs.extend([1] * len(collapsed))
        else:
            chars: list[str] = []
            for char, where in zip(token.text, token.origin, strict=True):
                if chars and chars[-1] == char and char.isalpha():
                    runs[-1] += 1
                    ends[-1] = where + 1
                else:
                    chars.append(char)
                    starts.append(where)
                    ends.append(where + 1)
                    runs.append(1)
            collapsed = "".join(chars)
        token_starts.append(length)
        pieces.append(collapsed)
        length += len(collapsed)
        tokens.append(collapsed)
        breaks.append(token.brk)
        spaced.append(token.spaced)
    return Normalised("".join(pieces), starts, ends, runs, tokens, token_starts, breaks, spaced)


def runs_agree(text_runs: list[int], phrase_runs: tuple[int, ...]) -> bool:
    """Whether a matched stretch of text has the phrase's doubled letters: each run in the
    text is as long as the phrase's, or stretched (3 or more: "hellllp", "fallll"), or a
    phrase's double written single ("fel over" for "fell over"). A text double where the
    phrase has a single letter does not agree ("feel" is not "fell")."""
    for got, want in zip(text_runs, phrase_runs, strict=True):
        if got != want and got < 3 and not (want == 2 and got == 1):
            return False
    return True
