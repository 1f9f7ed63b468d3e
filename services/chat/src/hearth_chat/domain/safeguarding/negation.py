"""Simple negation: "I'm not going to hurt myself" is not "I'm going to hurt myself".

The rule (tokens are those of the normal form, so "don't" is "dont"):

- A match is negated when exactly one negation cue ("not", "never", "don't", "won't",
  "wouldn't", "isn't", "haven't", "nobody", ...) is among the 3 tokens just before the
  phrase, within the same clause. "no" counts only right before the phrase ("no chest
  pain"), because people start sentences with it ("No I want to end it all").
- The clause ends at punctuation or a line break, and at a joining word ("but", "and",
  "so", "because", ...): "I'm not eating, he hits me" and "I won't lie but I want to end
  it all" stay flagged.
- Two cues cancel out ("I can't say I won't ...", "never not"): still flagged.
- A phrase that itself holds a negation ("can't get up", "haven't eaten", "nobody
  visits", "no heating") is never negated: what comes before is emphasis or dialect
  ("No, I can't get up", "I ain't got no heating").
- Critical phrases (intent to end one's life, can't breathe, ...) are negated only by a
  plain statement: a hedge anywhere earlier in the clause ("not sure I won't", "can't
  promise I won't", "don't think I'll", "might not", "if I don't") keeps them flagged.

The trade-off: for safeguarding a missed cry for help costs far more than a false alarm
that a person reviews (and can put on the council's allow-list), so the rule only drops
matches whose negation is near, direct and unhedged; anything subtler stays flagged.
"""

from __future__ import annotations

from hearth_chat.domain.safeguarding.normal_form import normalise

__all__ = ["holds_negation", "is_negated", "may_be_negated"]


def _words(*words: str) -> frozenset[str]:
    return frozenset(normalise(word) for word in words)


CUES = _words(
    "not", "never", "don't", "doesn't", "didn't", "won't", "wouldn't", "shouldn't",
    "isn't", "aren't", "wasn't", "weren't", "ain't", "haven't", "hasn't", "hadn't",
    "nobody", "neither", "nor", "dont", "wont", "isnt", "didnt", "havent",
)  # fmt: skip
# Only right before the phrase.
NEAR_CUES = _words("no")
# Words that make a phrase negative in itself (it is then never negated).
NEGATIVE = CUES | NEAR_CUES | _words(
    "can't", "cannot", "couldn't", "cant", "couldnt", "none", "nothing", "no one",
    "noone", "nowhere", "without", "unable",
)  # fmt: skip
# Words that end a clause.
JOINERS = _words(
    "but", "and", "so", "because", "cos", "cause", "though", "although", "however",
    "then", "yet", "except",
)  # fmt: skip
# Doubt: keeps a critical phrase flagged when it comes earlier in the clause.
HEDGES = _words(
    "sure", "know", "promise", "think", "thinking", "maybe", "might", "may", "perhaps",
    "if", "whether", "unless", "sometimes", "tempted", "wonder", "saying", "say",
    "probably", "guarantee", "swear",
)  # fmt: skip
WINDOW = 3
CLAUSE = 10


def holds_negation(tokens: list[str]) -> bool:
    return any(token in NEGATIVE for token in tokens)


def may_be_negated(tokens: list[str], index: int) -> bool:
    """Whether a cue is among the tokens `is_negated` could look at, clauses aside: when
    not, it is not negated, and the clause breaks need not be worked out."""
    if index and tokens[index - 1] in NEAR_CUES:
        return True
    return not CUES.isdisjoint(tokens[max(0, index - WINDOW) : index])


def is_negated(tokens: list[str], breaks: list[bool], index: int, *, critical: bool) -> bool:
    """Whether the phrase starting at token `index` is negated by what comes before it
    (`breaks[i]`: a clause break comes before token i)."""
    clause: list[str] = []
    at = index - 1
    while at >= 0 and len(clause) < CLAUSE and not breaks[at + 1]:
        token = tokens[at]
        if token in JOINERS:
            break
        clause.append(token)
        at -= 1
    near = clause[:WINDOW]
    cues = sum(1 for token in near if token in CUES)
    if near and near[0] in NEAR_CUES:
        cues += 1
    if cues != 1:
        return False
    return not (critical and any(token in HEDGES for token in clause))
