"""Asking identity's HTTP API about a person or a resident's circle of support, with the
caller's own token, so identity applies its own tenancy and roles. A refusal (403) and
an unknown or malformed id (404, 422) all mean "nobody": the caller learns nothing more."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import httpx

from hearth_kit.people.model import CircleMember, Person

if TYPE_CHECKING:
    from hearth_kit.service import ServiceRuntime


class IdentityUnavailable(Exception):
    """Identity could not answer (down, or an unexpected reply)."""


class IdentityLookup(Protocol):
    async def user(self, user_id: str, *, token: str) -> Person | None: ...

    async def circle(self, resident_id: str, *, token: str) -> list[CircleMember] | None: ...


class HttpIdentityLookup:
    """An `IdentityLookup` over HTTP; a `Background` of the service runtime (closes its
    client when the service stops)."""

    def __init__(
        self, base_url: str, *, timeout: float = 3.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._client = client

    async def user(self, user_id: str, *, token: str) -> Person | None:
        body = await self._get(f"/v1/users/{user_id}", token)
        if body is None:
            return None
        if body.get("id") != user_id:
            raise IdentityUnavailable("identity answered with another user")
        return Person(
            user_id=user_id,
            role=_text(body.get("role")),
            active=body.get("status", "active") == "active",
        )

    async def circle(self, resident_id: str, *, token: str) -> list[CircleMember] | None:
        body = await self._get(f"/v1/residents/{resident_id}/circle", token)
        if body is None:
            return None
        members = body.get("members")
        if body.get("resident_id") != resident_id or not isinstance(members, list):
            raise IdentityUnavailable("identity answered with another circle")
        return [
            CircleMember(
                member_id=item["member_id"],
                role=_text(item.get("role")),
                relationship=_text(item.get("relationship")),
            )
            for item in members
            if isinstance(item, dict) and isinstance(item.get("member_id"), str)
        ]

    async def start(self) -> None:
        """Nothing to do: the HTTP client opens on first use."""

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _get(self, path: str, token: str) -> dict[str, Any] | None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout))
        try:
            response = await self._client.get(
                f"{self._base_url}{path}", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise IdentityUnavailable(f"identity unreachable: {type(exc).__name__}") from exc
        # 422: identity refused the id itself as malformed, so no such user can exist.
        if response.status_code in (403, 404, 422):
            return None
        if response.status_code != 200:
            raise IdentityUnavailable(f"identity answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise IdentityUnavailable("identity answered with something unexpected") from exc
        if not isinstance(body, dict):
            raise IdentityUnavailable("identity answered with something unexpected")
        return body


def identity_lookup(
    given: IdentityLookup | None, base_url: str, runtime: ServiceRuntime
) -> IdentityLookup:
    """`given` (tests), else identity's API at `base_url`, closed when the service stops."""
    if given is not None:
        return given
    lookup = HttpIdentityLookup(base_url)
    runtime.add_background(lookup)
    return lookup


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
