"""What can go wrong in chat: the kit's domain errors (each answered over HTTP with a
clear 4xx in Hearth's one error shape), carrying a specific code where one helps."""

from __future__ import annotations

from hearth_kit import errors as kit


class ChatError(kit.DomainError):
    """Base of chat's errors: a message safe to show, the field at fault, a code."""

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, field=field)
        if code is not None:
            self.code = code


class InvalidInput(ChatError, kit.InvalidInput):
    """Input that can never be accepted as it is (422)."""


class Conflict(ChatError, kit.Conflict):
    """The change does not fit the current state (409): claimed, closed, too late to edit."""


class Forbidden(ChatError, kit.Forbidden):
    """The caller may see the thing but not do this (403)."""


class NotFoundError(ChatError, kit.NotFoundError):
    """Absent, or not the caller's to see (404): the two are never told apart."""


class Unavailable(ChatError):
    """Something needed to answer is down for now (503); worth retrying shortly."""

    code = "unavailable"
    http_status = 503

    def http_headers(self) -> dict[str, str]:
        return {"Retry-After": "2"}
