"""What can go wrong in chat: the kit's domain errors (each answered over HTTP with a
clear 4xx, or a 503 worth retrying, in Hearth's one error shape), carrying a specific
code where one helps."""

from __future__ import annotations

from hearth_kit.errors import Conflict, Forbidden, InvalidInput, NotFoundError, Unavailable

__all__ = ["Conflict", "Forbidden", "InvalidInput", "NotFoundError", "Unavailable"]
