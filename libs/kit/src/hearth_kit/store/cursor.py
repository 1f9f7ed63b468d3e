"""Opaque page cursors shared by both store adapters."""

from __future__ import annotations

import base64
import json
from typing import Any

from hearth_kit.store.port import StoreError

_SCALARS = (str, int, float, bool, type(None))


class BadCursor(StoreError):
    """A cursor that was not issued by this store (tampered or truncated)."""


def encode_cursor(order_value: Any, doc_id: str) -> str:
    raw = json.dumps([order_value, doc_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise BadCursor("invalid page cursor") from exc
    if not isinstance(decoded, list) or len(decoded) != 2:
        raise BadCursor("invalid page cursor")
    value, doc_id = decoded
    if not isinstance(doc_id, str) or not isinstance(value, _SCALARS):
        raise BadCursor("invalid page cursor")
    return value, doc_id
