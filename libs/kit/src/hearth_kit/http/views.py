"""Small pieces every service's routes share: path ids and timestamps in JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Path

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$"


def id_path() -> Any:
    """An id in a path: bounded and plain, so nothing odd reaches the store. (A new
    parameter object each use: FastAPI binds each one to the name it describes.)"""
    return Path(min_length=1, max_length=64, pattern=ID_PATTERN)


def iso(ts: float | None) -> str | None:
    """A Unix time as ISO 8601 UTC with a Z, or None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
