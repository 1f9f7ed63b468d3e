"""The scanner's on-demand form gives what `normalise_mapped` gives, field by field, and
the negation pre-check never skips a negated match."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth_chat.domain.safeguarding.negation import is_negated, may_be_negated
from hearth_chat.domain.safeguarding.normal_form import _CLAUSE_BREAK, _FOLD, normalise_mapped
from hearth_chat.domain.safeguarding.scan_form import ScanForm

_ALPHABET = st.sampled_from(
    [
        *"abcdefghijklmnopqrstuvwxyz ABCXYZ 0134579 @$'.-,!?;:\n\t",
        *("\u2019", "\u00e9", "\u0430", "\u0435", "\u03bf", "\uff41", "\u200b", "\u00df"),
        *("\u4e2d", "\u0639", "\U0001f600", "\u0301", "\u00bd", "\u0663", "\u1d00", "\u00a3"),
        *("\u2026", "\uff0c", "\u3002", "\u00e6", "\ufb01", "\u2460", "\u2474"),
    ]
)


def assert_same(text: str) -> None:
    for one_as in ("i", "l"):
        mapped = normalise_mapped(text, one_as=one_as)
        form = ScanForm(text, one_as=one_as)
        assert form.key == f" {mapped.key} "
        if not mapped.key:
            continue
        assert form.tokens == mapped.tokens
        assert form.token_starts == mapped.token_starts
        assert form.runs == mapped.runs
        assert form.breaks == mapped.breaks
        assert form.spaced_tokens() == [i for i, spaced in enumerate(mapped.spaced) if spaced]
        for index, char in enumerate(mapped.key):
            if char != " ":
                expected = (mapped.starts[index], mapped.ends[index])
                assert form.span(index, index + 1) == expected
                # A fresh form, as the scanner has it: nothing else worked out first.
                assert ScanForm(text, one_as=one_as).span(index, index + 1) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I'm not going to hurt myself. Fallll... over",
        "i want to h u r t m y s e l f, h.e.l.l.p",
        "k1ll mys3lf\u2026 n\u043e one c\u0430res",
        "\uff28\uff25\uff2c\uff30 me \u00bd way\u3002 ok",
        "",
        "?!",
    ],
)
def test_examples(text: str) -> None:
    assert_same(text)


@settings(max_examples=400, deadline=None)
@given(st.text(_ALPHABET, max_size=60))
def test_agrees_with_mapped_form(text: str) -> None:
    assert_same(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_agrees_on_any_unicode(text: str) -> None:
    assert_same(text)


_WORDS = st.sampled_from(["i", "not", "no", "never", "dont", "but", "sure", "hurt", "me", "so"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=12), st.data())
def test_no_cue_in_reach_means_not_negated(tokens: list[str], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(tokens) - 1))
    breaks = data.draw(st.lists(st.booleans(), min_size=len(tokens), max_size=len(tokens)))
    if not may_be_negated(tokens, index):
        assert not is_negated(tokens, breaks, index, critical=False)
        assert not is_negated(tokens, breaks, index, critical=True)


def test_clause_breaks_fold_to_spaces_only() -> None:
    # Marking breaks in the folded text relies on them never being deleted or part of a
    # token.
    for code in range(0x10000):
        if _CLAUSE_BREAK.match(chr(code)):
            folded = _FOLD[code]
            assert folded is not None and folded.strip() == "", hex(code)
