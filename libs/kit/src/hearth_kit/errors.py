"""Domain errors every service raises, in the language of the domain.

Pure (no web framework): a service's domain raises these, and the kit's HTTP layer turns
each into a clear 4xx with the same JSON shape everywhere. A service adds its own
subclasses for what only it knows (a locked-out sign-in, say).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of domain errors; `message` is safe to show the caller, `field` is the one at
    fault, and `code` a more specific code than the class's where one helps the caller
    (`resident_not_found`, say)."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def http_headers(self) -> dict[str, str]:
        return {}


class InvalidInput(DomainError, ValueError):
    """Input that breaks a rule. A ValueError too, so pydantic validators may raise it."""

    code = "invalid_input"
    http_status = 422


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    code = "forbidden"
    http_status = 403


class NotFoundError(DomainError):
    """Nothing of that id in the caller's council (or the caller may not know it exists)."""

    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    """The change does not fit the current state (taken, already done, already closed)."""

    code = "conflict"
    http_status = 409


class Gone(DomainError):
    """Something that existed but can no longer be used (a used or expired code)."""

    code = "gone"
    http_status = 410


class Unavailable(DomainError):
    """Something needed to answer is down for now (503); worth retrying shortly."""

    code = "unavailable"
    http_status = 503

    def http_headers(self) -> dict[str, str]:
        return {"Retry-After": "2"}


def concurrent_change(what: str) -> Conflict:
    """A read-modify-write that kept losing to other writers (409; retrying may work)."""
    return Conflict(f"{what} changed repeatedly meanwhile; retry", code="concurrent_change")
