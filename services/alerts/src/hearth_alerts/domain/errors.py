"""What can go wrong in alerts: the kit's domain errors, each answered over HTTP with a
clear 4xx, or a 503 worth retrying, in Hearth's one error shape."""

from __future__ import annotations

from hearth_kit.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFoundError,
    Unavailable,
)

__all__ = ["Conflict", "DomainError", "Forbidden", "InvalidInput", "NotFoundError", "Unavailable"]
