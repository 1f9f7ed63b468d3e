"""The safeguarding phrase scanner: tricks, word boundaries, negation, allow-list, offsets,
ordering, odd input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth_chat.domain.safeguarding import (
    SEVERITIES,
    PhraseEntry,
    PhraseMatch,
    PhraseScanner,
    baseline_phrases,
)


def scanner(*phrases: tuple[str, str, str], allow: tuple[str, ...] = ()) -> PhraseScanner:
    return PhraseScanner.build([PhraseEntry(*p) for p in phrases], allow=allow)


HURT = ("hurt myself", "self_harm", "high")
FELL = ("fell over", "falls_medical", "high")
SCAM = ("scam", "financial_abuse_scams", "low")
END = ("end it all", "self_harm", "critical")
GET_UP = ("can't get up", "falls_medical", "critical")
HITS = ("he hits me", "abuse_neglect", "high")
PIN = ("asked for my pin", "financial_abuse_scams", "high")
HELP = ("help", "falls_medical", "medium")


@pytest.fixture(scope="module")
def baseline() -> PhraseScanner:
    return PhraseScanner.build(baseline_phrases())


def phrases(found: list[PhraseMatch]) -> list[str]:
    return [m.phrase for m in found]


# ---------------------------------------------------------------- the tricks people use
@pytest.mark.parametrize(
    "text",
    [
        "I'm going to HURT MYSELF",  # case
        "I'm going to h\u00fcrt m\u00fdself",  # accents
        "I'm going to \u04bburt mys\u0435lf",  # Cyrillic look-alikes
        "I'm going to \uff48\uff55\uff52\uff54 myself",  # full-width
        "I'm going to hur7 mys3lf",  # leetspeak
        "I'm going to huuuuurt myselfffff",  # stretched letters
        "I'm going to h.u.r.t myself",  # dotted
        "I'm going to h u r t m y s e l f",  # letter by letter across both words
        "I'm going to hu\u200brt myself",  # zero-width space
        "I'm going to hurt... myself",  # punctuation between the words
    ],
)
def test_sees_through_tricks(text: str) -> None:
    (match,) = scanner(HURT).scan(text)
    assert (match.phrase, match.category, match.severity) == HURT


def test_leet_one_as_i_and_as_l() -> None:
    # A message is read with "1" as "i" throughout, and again as "l"; either may match.
    s = scanner(HELP, ("kill myself", "self_harm", "critical"))
    assert phrases(s.scan("he1p")) == ["help"]
    assert phrases(s.scan("k1ll mys3lf")) == ["kill myself"]
    assert phrases(s.scan("ki11 myse1f")) == ["kill myself"]
    assert sorted(phrases(s.scan("he1p, k1ll mys3lf"))) == ["help", "kill myself"]


def test_numbers_are_not_leetspeak() -> None:
    s = scanner(("so", "loneliness", "low"), ("is", "loneliness", "low"))
    assert s.scan("I paid \u00a3500 on the 15th, flat 5") == []


def test_homoglyph_phrase_in_a_message_of_latin() -> None:
    assert phrases(scanner(HITS).scan("H\u0435 h\u0456ts m\u0435 every day")) == ["he hits me"]


# ---------------------------------------------------------------- word boundaries
@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("the scampi was lovely", []),
        ("it's a scam", ["scam"]),
        ("scam!", ["scam"]),
        ("(scam)", ["scam"]),
        ("scams", []),
        ("a scammer", []),
    ],
)
def test_whole_words_only(text: str, found: list[str]) -> None:
    assert phrases(scanner(SCAM).scan(text)) == found


def test_fall_is_not_falling() -> None:
    s = scanner(("fall", "falls_medical", "high"))
    assert s.scan("I'm falling behind on the crossword") == []
    assert s.scan("fall colours") != []


def test_doubled_letters_must_agree() -> None:
    s = scanner(FELL)
    assert s.scan("I feel over the moon") == []
    assert phrases(s.scan("I fell over")) == ["fell over"]
    assert phrases(s.scan("I fel over")) == ["fell over"]  # a double written single
    assert phrases(s.scan("I felllll over")) == ["fell over"]  # stretched
    assert s.scan("I fell asleep in my chair") == []


def test_spaced_out_phrase_inside_a_longer_run() -> None:
    found = scanner(END).scan("i w a n t t o e n d i t a l l")
    assert phrases(found) == ["end it all"]


# ---------------------------------------------------------------- negation
@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("I'm going to hurt myself", False),
        ("I'm not going to hurt myself", True),
        ("I would never hurt myself", True),
        ("I won't hurt myself", True),
        ("I don't want to hurt myself", True),
        ("I'm not well, I hurt myself", False),  # the cue is in another clause
        ("I'm not sad but I could hurt myself", False),  # ... or behind a joining word
        ("Not that I'm thinking of it but going to hurt myself", False),
        ("I won't not hurt myself", False),  # two cues cancel out
        ("I'm not one to complain at all really and I hurt myself", False),  # too far
    ],
)
def test_negation_before_a_phrase(text: str, negated: bool) -> None:
    assert (scanner(HURT).scan(text) == []) is negated


@pytest.mark.parametrize(
    "text",
    [
        "No, I can't get up",
        "I can't get up",
        "I've not been able to... no I can't get up",
        "I really don't know, I can't get up",
    ],
)
def test_phrases_holding_a_negation_still_match(text: str) -> None:
    assert phrases(scanner(GET_UP).scan(text)) == ["can't get up"]


def test_negative_concord_is_not_a_negation() -> None:
    s = scanner(("no heating", "cold_hunger", "high"))
    assert phrases(s.scan("I ain't got no heating")) == ["no heating"]


def test_no_counts_only_right_before() -> None:
    s = scanner(("chest pain", "falls_medical", "critical"), END)
    assert s.scan("No chest pain today") == []
    assert phrases(s.scan("No I want to end it all")) == ["end it all"]


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("I'd never end it all", True),
        ("I'm not going to end it all", True),
        ("I'm not sure I won't end it all", False),
        ("I can't promise I won't end it all", False),
        ("I don't think I'll end it all", False),
        ("I might not end it all", False),
        ("I'm not saying I won't end it all", False),
    ],
)
def test_critical_phrases_need_a_plain_negation(text: str, negated: bool) -> None:
    assert (scanner(END).scan(text) == []) is negated


def test_one_occurrence_negated_another_not() -> None:
    text = "I'm not going to hurt myself. Actually I'm going to hurt myself"
    (match,) = scanner(HURT).scan(text)
    assert match.start == text.rindex("hurt myself")


# ---------------------------------------------------------------- allow-list
def test_allow_list_removes_a_phrase() -> None:
    s = scanner(SCAM, HURT, allow=("SCAM",))
    assert s.size == 1
    assert s.scan("it's a scam") == []
    assert phrases(s.scan("going to hurt myself")) == ["hurt myself"]


def test_allow_list_shields_a_phrase_inside_a_longer_allowed_one() -> None:
    s = scanner(SCAM, allow=("scam awareness talk",))
    assert s.size == 1
    assert s.scan("Went to the scam awareness talk at church") == []
    assert phrases(s.scan("I think it's a scam")) == ["scam"]


def test_allow_list_entries_that_match_nothing_are_harmless() -> None:
    s = scanner(SCAM, allow=("", "   ", "no such phrase"))
    assert s.size == 1
    assert phrases(s.scan("a scam")) == ["scam"]


# ---------------------------------------------------------------- offsets and ordering
@pytest.mark.parametrize(
    ("text", "highlight"),
    [
        ("Oh dear, I c\u00e1n\u2019t get up!!", "c\u00e1n\u2019t get up"),
        ("\U0001f622\U0001f622 I caaaan't   get up", "caaaan't   get up"),
        ("I CANT G.E.T UP", "CANT G.E.T UP"),
        ("ok\n\nc a n t g e t u p", "c a n t g e t u p"),
        ("\ufb01ne but I can't get up", "can't get up"),
    ],
)
def test_offsets_point_into_the_original_text(text: str, highlight: str) -> None:
    (match,) = scanner(GET_UP).scan(text)
    assert text[match.start : match.end] == highlight


def test_most_severe_first_then_in_order() -> None:
    s = scanner(SCAM, HURT, END, PIN, FELL)
    text = "a scam, asked for my pin, fell over, going to hurt myself and end it all"
    found = s.scan(text)
    assert phrases(found) == ["end it all", "asked for my pin", "fell over", "hurt myself", "scam"]
    ranks = [SEVERITIES.index(m.severity) for m in found]
    assert ranks == sorted(ranks, reverse=True)


def test_one_match_per_phrase() -> None:
    text = "scam scam SCAM s c a m"
    (match,) = scanner(SCAM).scan(text)
    assert (match.start, match.end) == (0, 4)


def test_duplicates_keep_the_most_severe() -> None:
    s = PhraseScanner.build(
        [
            PhraseEntry("scam", "financial_abuse_scams", "low"),
            PhraseEntry("SCAM!", "financial_abuse_scams", "high"),
        ]
    )
    assert s.size == 1
    assert [m.severity for m in s.scan("a scam")] == ["high"]


def test_overlapping_phrases_all_reported() -> None:
    s = scanner(("had a fall", "falls_medical", "high"), GET_UP, ("fall", "falls_medical", "low"))
    found = s.scan("I had a fall and can't get up")
    assert phrases(found) == ["can't get up", "had a fall", "fall"]


# ---------------------------------------------------------------- odd input
def test_empty_and_blank_input(baseline: PhraseScanner) -> None:
    for text in ("", " ", "\n\t", "...", "\U0001f622"):
        assert baseline.scan(text) == []
    assert PhraseScanner.build([]).scan("I want to end it all") == []
    assert PhraseScanner.build([]).size == 0


def test_very_long_input(baseline: PhraseScanner) -> None:
    text = "lovely day for it " * 5000 + "and I can't get up" + " x" * 5000
    (match,) = baseline.scan(text)
    assert text[match.start : match.end] == "can't get up"
    assert baseline.scan("a" * 100_000) == []


@pytest.mark.parametrize(
    "text",
    [
        "\u6211\u4eca\u5929\u5f88\u597d\uff0c\u8c22\u8c22",  # Chinese
        "\u0635\u0628\u0627\u062d \u0627\u0644\u062e\u064a\u0631",  # Arabic
        "\u0414\u043e\u0431\u0440\u043e\u0435 \u0443\u0442\u0440\u043e",  # Russian
        "\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1",  # Greek
        "\u0928\u092e\u0938\u094d\u0924\u0947",  # Devanagari
        "\U0001f469\u200d\U0001f469\u200d\U0001f467 \u2764\ufe0f \U0001f1ec\U0001f1e7",  # emoji
        "\u202eevil\u202c \u0000\u0007",  # bidi overrides and controls
        "\ud800",  # a lone surrogate (refused upstream, but must not crash here)
    ],
)
def test_other_scripts_do_not_crash_or_match(baseline: PhraseScanner, text: str) -> None:
    assert baseline.scan(text) == []


def test_phrases_in_other_scripts_match() -> None:
    s = scanner(("\u6211\u5f88\u5b64\u72ec", "loneliness", "medium"))
    text = "\u771f\u7684 \u6211\u5f88\u5b64\u72ec \U0001f622"
    (match,) = s.scan(text)
    assert text[match.start : match.end] == "\u6211\u5f88\u5b64\u72ec"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_valid_matches(text: str) -> None:
    s = scanner(SCAM, HURT, END, GET_UP, HELP)
    for match in s.scan(text):
        assert 0 <= match.start < match.end <= len(text)
        assert match.severity in SEVERITIES
