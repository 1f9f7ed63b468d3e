"""The safeguarding normal form: each trick people use, and the fast and mapped forms agree."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth_chat.domain.safeguarding import normalise
from hearth_chat.domain.safeguarding.normal_form import normalise_mapped, quick_key, runs_agree


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # case, punctuation and spacing only separate tokens
        ("I've Had A FALL!!", "ive had a fal"),
        ("  he   hits\tme\n", "he hits me"),
        ("can\u2019t get up", "cant get up"),  # curly apostrophe
        ("can't get up", "cant get up"),
        (
            "\uff43\uff41\uff4e\uff07\uff54 \uff42\uff52\uff45\uff41\uff54\uff48\uff45",
            "cant breathe",
        ),
        # accents and diacritics
        ("caf\u00e9 na\u00efve \u00e9nd \u00edt \u00e1ll", "cafe naive end it al"),
        # Cyrillic and Greek look-alikes, small capitals, mathematical bold, circled
        ("\u041d\u0435 \u04bb\u0456ts m\u0435", "he hits me"),
        ("\u0399 \u03bd\u03b1nt", "i vant"),
        ("\u1d07\u0274\u1d05 \u026a\u1d1b", "end it"),
        ("\U0001d421\U0001d42e\U0001d42b\U0001d42d", "hurt"),
        ("\u24bd\u24d4\u24db\u24df", "help"),
        # invisible characters inside a word
        ("hu\u200brt my\u00adself", "hurt myself"),
        # leetspeak in tokens that mix letters and digits
        ("k1ll mys3lf", "kil myself"),
        ("$c@mmed", "scamed"),
        ("n0 h3ating", "no heating"),
        # numbers stay numbers
        ("\u00a3500 at 10 on the 999", "500 at 10 on the 999"),
        ("call 999", "cal 999"),
        # repeated letters
        ("hellllp", "help"),
        ("soooo lonelyyyy", "so lonely"),
        # letter-by-letter spacing with spaces, dots and dashes
        ("h u r t myself", "hurt myself"),
        ("h.u.r.t", "hurt"),
        ("h-u-r-t m-y-s-e-l-f", "hurtmyself"),
        # two one-letter tokens in a row are not spacing ("e.g.", "a b")
        ("e.g. it", "e g it"),
        ("", ""),
        ("!!! ... \U0001f622", ""),
    ],
)
def test_normal_form(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_phrase_and_message_meet_in_the_same_form() -> None:
    assert normalise("Can't get UP") == normalise("CANT g e t UP") == "cant get up"
    # spaced out across words: one token (the scanner matches phrases inside it)
    assert normalise("c a n t  g e t  u p") == "cantgetup"
    assert normalise("scam") != normalise("scampi")


def test_one_is_read_as_i_and_as_l() -> None:
    assert quick_key("he1p")[0] == " heip "
    assert quick_key("he1p", one_as="l")[0] == " help "
    assert quick_key("he1p")[2] is True
    assert quick_key("call 101")[2] is False  # a number, not leetspeak


def test_mapped_form_records_runs_offsets_and_breaks() -> None:
    text = "Oh no. He hiiits me"
    form = normalise_mapped(text)
    assert form.key == "oh no he hits me"
    at = form.key.index("hits")
    assert text[form.starts[at] : form.ends[at + 3]] == "hiiits"
    assert form.runs[at + 1] == 3
    assert form.tokens == ["oh", "no", "he", "hits", "me"]
    assert form.breaks == [False, False, True, False, False]


def test_mapped_form_marks_spaced_runs() -> None:
    form = normalise_mapped("i want to h u r t")
    assert form.tokens[-1] == "hurt"
    assert form.spaced == [False, False, False, True]


def test_runs_agree() -> None:
    assert runs_agree([1, 1, 2], (1, 1, 2))  # fell / fell
    assert runs_agree([1, 1, 5], (1, 1, 2))  # fellll / fell
    assert runs_agree([1, 1, 1], (1, 1, 2))  # fel / fell
    assert runs_agree([1, 4, 1], (1, 1, 1))  # heeelp / help
    assert not runs_agree([1, 2, 1], (1, 1, 2))  # feel / fell


_ALPHABET = st.sampled_from(
    [
        *"abcdefghijklmnopqrstuvwxyz ABCXYZ 0134579 @$'.-,!?\n\t",
        *("\u2019", "\u00e9", "\u0430", "\u0435", "\u03bf", "\uff41", "\u200b", "\u00df"),
        *("\u4e2d", "\u0639", "\U0001f600", "\u0301", "\u00bd", "\u0663", "\u1d00", "\u00a3"),
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.text(_ALPHABET, max_size=60))
def test_fast_and_mapped_forms_agree(text: str) -> None:
    for one_as in ("i", "l"):
        form = normalise_mapped(text, one_as=one_as)
        assert quick_key(text, one_as=one_as)[0] == f" {form.key} "
        assert len(form.starts) == len(form.ends) == len(form.runs) == len(form.key)
        for index, char in enumerate(form.key):
            if char != " ":
                assert 0 <= form.starts[index] < form.ends[index] <= len(text)
    assert normalise(text) == normalise_mapped(text).key


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_unicode_normalises_consistently(text: str) -> None:
    assert normalise(text) == normalise_mapped(text).key
