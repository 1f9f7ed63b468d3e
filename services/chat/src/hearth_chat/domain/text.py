"""What a chat message's text may hold: any script, any emoji, up to a length; never
control characters, lone surrogates or Unicode noncharacters (they break clients, logs
and the safeguarding matcher, and no person types them)."""

from __future__ import annotations

import unicodedata

from hearth_chat.domain.errors import InvalidInput

DEFAULT_MAX_CHARS = 4000
# Line breaks and tabs are how people lay out a message; every other C0/C1 control is not.
_ALLOWED_CONTROLS = frozenset("\n\r\t")


def _refused(char: str) -> str | None:
    code = ord(char)
    if char in _ALLOWED_CONTROLS:
        return None
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return "control character"
    if 0xD800 <= code <= 0xDFFF:
        return "lone surrogate"
    if 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
        return "Unicode noncharacter"
    # Unassigned code points are allowed: emoji newer than this Python's Unicode tables
    # must still get through.
    return None


def check_text(text: str, *, max_chars: int = DEFAULT_MAX_CHARS, field: str = "text") -> str:
    """The text as it will be stored (NFC, so one spelling matches one phrase), or
    InvalidInput naming the problem."""
    if not isinstance(text, str):
        raise InvalidInput("text must be a string", field=field, code="invalid_text")
    for index, char in enumerate(text):
        reason = _refused(char)
        if reason is not None:
            raise InvalidInput(
                f"text contains a {reason} (U+{ord(char):04X}) at position {index}",
                field=field,
                code="invalid_text",
            )
    normalised = unicodedata.normalize("NFC", text)
    if not normalised.strip():
        raise InvalidInput("text is empty", field=field, code="empty_text")
    if len(normalised) > max_chars:
        raise InvalidInput(
            f"text is {len(normalised)} characters; the limit is {max_chars}",
            field=field,
            code="text_too_long",
        )
    return normalised
