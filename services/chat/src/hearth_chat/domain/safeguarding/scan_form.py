"""The normal form the scanner works on: `normalise_mapped` computed on demand.

`ScanForm` builds the padded key with the same string operations as `quick_key` and keeps
the tokens it came from. What `normalise_mapped` holds for every character (runs, clause
breaks, offsets into the original text) is worked out here only when a hit needs it, and
only for the characters of that hit, so a message the automaton finds nothing in, or whose
hits are all dropped, never pays for a full index map. A test checks it against
`normalise_mapped`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate, compress

from hearth_chat.domain.safeguarding.normal_form import (
    _CACHE_LIMIT,
    _CLAUSE_BREAK,
    _DOUBLED,
    _DOUBLED_ASCII,
    _FOLD,
    _FOLD_ASCII,
    _LEET_I,
    _LEET_L,
    _SPACED_HINT,
    _deleet,
    _spaced_runs,
)

__all__ = ["ScanForm"]

# A clause break folds to spaces only: folding it to marks instead (as many as its spaces,
# never part of a token) shows which tokens a break comes before.
_BREAK_MARK = "|"


def _break_fold(code: int) -> str | None:
    folded = _FOLD[code]
    if folded and _CLAUSE_BREAK.match(chr(code)):
        return _BREAK_MARK * len(folded)
    return folded


class _BreakTable(dict[int, str | None]):
    def __missing__(self, key: int) -> str | None:
        value = _break_fold(key)
        if len(self) < _CACHE_LIMIT:
            self[key] = value
        return value


class _LengthTable(dict[int, str]):
    """Each code point to chr(how many characters it folds to)."""

    def __missing__(self, key: int) -> str:
        value = chr(len(_FOLD[key] or ""))
        if len(self) < _CACHE_LIMIT:
            self[key] = value
        return value


_BREAK_ASCII: dict[int, str | None] = {code: _break_fold(code) for code in range(128)}
_BREAK = _BreakTable(_BREAK_ASCII)
_LENGTH_ASCII: dict[int, str] = {code: chr(len(_FOLD_ASCII[code] or "")) for code in range(128)}
_LENGTH = _LengthTable(_LENGTH_ASCII)
# The ASCII characters folding deletes (apostrophes): without them, ASCII folds one to one.
_DELETED_ASCII = re.compile(
    "[" + "".join(re.escape(chr(code)) for code in range(128) if _FOLD_ASCII[code] is None) + "]"
)


class ScanForm:
    """`normalise(text)` (with "1" read as `one_as`) padded with a space at each end, as
    `key`; `spaced` and `ambiguous` as `quick_key` gives them. The rest mirrors the fields
    of `Normalised` (indices into the unpadded key) and is computed on first use."""

    __slots__ = (
        "_breaks",
        "_folded",
        "_joined",
        "_joins",
        "_nonempty",
        "_origin",
        "_parts",
        "_raw_first",
        "_runs",
        "_token_starts",
        "_tokens",
        "_uncollapsed",
        "ambiguous",
        "key",
        "spaced",
        "text",
    )

    def __init__(self, text: str, *, one_as: str = "i") -> None:
        # The steps of `normal_form._padded` and `quick_key`, keeping the tokens.
        ascii_text = text.isascii()
        folded = text.translate(_FOLD_ASCII if ascii_text else _FOLD)
        tokens = folded.split()
        ambiguous = False
        if not "".join(tokens).isalpha():
            tokens, ambiguous = _deleet(tokens, _LEET_L if one_as == "l" else _LEET_I)
        padded = " " + " ".join(tokens) + " "
        joins: list[tuple[int, int]] = []
        if _SPACED_HINT.search(padded):
            joins = _spaced_runs(tokens)
            for first, end in reversed(joins):
                tokens[first:end] = ["".join(tokens[first:end])]
            if joins:
                padded = " " + " ".join(tokens) + " "
        self.text = text
        self._folded = folded
        self.key = (_DOUBLED_ASCII if padded.isascii() else _DOUBLED).sub("", padded)
        self.spaced = bool(joins)
        self.ambiguous = ambiguous
        self._uncollapsed = tokens
        self._joins = joins
        self._tokens: list[str] | None = None
        self._token_starts: list[int] | None = None
        self._runs: dict[int, list[int]] = {}
        self._breaks: list[bool] | None = None
        self._raw_first: list[int] | None = None
        self._joined: list[bool] | None = None
        self._parts: list[str] | None = None
        self._nonempty: list[int] = []
        self._origin: list[int] | None = None

    @property
    def tokens(self) -> list[str]:
        if self._tokens is None:
            self._tokens = self.key[1:-1].split(" ")
        return self._tokens

    @property
    def token_starts(self) -> list[int]:
        if self._token_starts is None:
            self._token_starts = list(accumulate((len(t) + 1 for t in self.tokens), initial=0))
            self._token_starts.pop()
        return self._token_starts

    def spaced_tokens(self) -> list[int]:
        """The indices of the tokens joined from letter-by-letter spacing."""
        if not self._joins:
            return []
        self._raw_index()
        assert self._joined is not None
        return [token for token, joined in enumerate(self._joined) if joined]

    @property
    def runs(self) -> list[int]:
        """How many characters each character of the key stands for (spaces: 1)."""
        return self.runs_between(0, len(self.key) - 2)

    def token_at(self, at: int) -> tuple[int, int]:
        """The token holding key[at] and where that token starts in the key."""
        # Counting spaces in C is cheaper than building `token_starts` for one lookup.
        key = self.key
        return key.count(" ", 1, at + 1), key.rfind(" ", 0, at + 1)

    def runs_between(self, start: int, end: int) -> list[int]:
        """`runs[start:end]`, worked out only for the tokens it covers."""
        token, base = self.token_at(start)
        out: list[int] = []
        at = start
        while at < end:
            runs = self._token_runs(token)
            stop = min(end, base + len(runs))
            out.extend(runs[at - base : stop - base])
            if stop < end:
                out.append(1)  # the space after the token
                stop += 1
            at = stop
            base += len(runs) + 1
            token += 1
        return out

    def _token_runs(self, token: int) -> list[int]:
        runs = self._runs.get(token)
        if runs is None:
            long, short = self._uncollapsed[token], self.tokens[token]
            if long == short:
                runs = [1] * len(short)
            else:
                runs = []
                previous = ""
                for char in long:
                    if char == previous and char.isalpha():
                        runs[-1] += 1
                    else:
                        runs.append(1)
                        previous = char
            self._runs[token] = runs
        return runs

    def _raw_index(self) -> list[int]:
        """For each token, the index of the first folded token it was made from."""
        if self._raw_first is None:
            first: list[int] = []
            joined: list[bool] = []
            raw = 0
            joins = iter(self._joins)
            join = next(joins, None)
            for _ in self._uncollapsed:
                first.append(raw)
                if join is not None and join[0] == raw:
                    joined.append(True)
                    raw = join[1]
                    join = next(joins, None)
                else:
                    joined.append(False)
                    raw += 1
            self._raw_first = first
            self._joined = joined
        return self._raw_first

    @property
    def breaks(self) -> list[bool]:
        """For each token, whether a clause break comes before it."""
        if self._breaks is None:
            marked = self.text.translate(_BREAK_ASCII if self.text.isascii() else _BREAK)
            count = len(self._uncollapsed) + sum(end - first - 1 for first, end in self._joins)
            raw_breaks = [False] * count
            if _BREAK_MARK in marked:
                # Tokens and marks as items spaced once: the tokens before a mark are the
                # items before it less the marks (a few C-level counts per mark).
                items = " ".join(marked.replace(_BREAK_MARK, f" {_BREAK_MARK} ").split())
                token = previous = 0
                at = items.find(_BREAK_MARK)
                while at != -1:
                    token += items.count(" ", previous, at) - items.count(_BREAK_MARK, previous, at)
                    if 0 < token < count:
                        raw_breaks[token] = True
                    previous = at
                    at = items.find(_BREAK_MARK, at + 1)
            if self._joins:
                raw_breaks = [raw_breaks[raw] for raw in self._raw_index()]
            self._breaks = raw_breaks
        return self._breaks

    def _raw_start(self, raw: int) -> int:
        """Where folded token `raw` starts in the folded text."""
        if self._parts is None:
            # Folded text separates tokens with spaces only: splitting on each one keeps
            # every part's place (a part's start is the lengths before it plus its index).
            self._parts = self._folded.split(" ")
            self._nonempty = list(compress(range(len(self._parts)), self._parts))
        part = self._nonempty[raw]
        return sum(map(len, self._parts[:part])) + part

    def _original(self, folded: int) -> int:
        """The index in the text of the character a folded character came from."""
        if self._origin is None:
            text = self.text
            if text.isascii() and _DELETED_ASCII.search(text) is None:
                self._origin = []  # one folded character per character
            else:
                lengths = text.translate(_LENGTH_ASCII if text.isascii() else _LENGTH)
                self._origin = list(accumulate(map(ord, lengths)))
        return bisect_right(self._origin, folded) if self._origin else folded

    def _text_index(self, token: int, offset: int) -> int:
        """The text index of character `offset` of a token before collapsing."""
        if self._joins:
            raw = self._raw_index()[token]
            assert self._joined is not None
            if self._joined[token]:
                raw, offset = raw + offset, 0  # joined tokens are one letter each
        else:
            raw = token
        return self._original(self._raw_start(raw) + offset)

    def stretched(self, first: int, last: int) -> str:
        """Tokens `first` to `last` as typed before runs were collapsed, spaced once."""
        return " ".join(self._uncollapsed[first : last + 1])

    def token_span(self, first: int, last: int) -> tuple[int, int]:
        """Where tokens `first` to `last` are in the text."""
        end = self._text_index(last, len(self._uncollapsed[last]) - 1) + 1
        return self._text_index(first, 0), end

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Where key[start:end] (no spaces at either end) is in the text."""
        token, base = self.token_at(start)
        runs = self._token_runs(token)
        first = self._text_index(token, sum(runs[: start - base]))
        last = end - 1
        if last >= base + len(runs):
            token, base = self.token_at(last)
            runs = self._token_runs(token)
        # The last character of the run the span ends in.
        offset = sum(runs[: last - base + 1]) - 1
        return first, self._text_index(token, offset) + 1
