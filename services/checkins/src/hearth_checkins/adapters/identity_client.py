"""Asking identity about a user when its events have not reached check-ins yet.

Staff who just registered a resident may set their schedule a moment later, before
`identity.user.registered` has been consumed here. Then check-ins asks identity over
HTTP, with the caller's own token (so identity applies its own tenancy and roles), and
remembers the answer.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from hearth_checkins.adapters.repositories import Person


class IdentityUnavailable(Exception):
    """Identity could not answer (down, or an unexpected reply)."""


class UserLookup(Protocol):
    async def __call__(self, user_id: str, *, token: str) -> Person | None: ...


class HttpUserLookup:
    def __init__(
        self, base_url: str, *, timeout: float = 3.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._client = client

    async def __call__(self, user_id: str, *, token: str) -> Person | None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout))
        try:
            response = await self._client.get(
                f"{self._base_url}/v1/users/{user_id}",
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            raise IdentityUnavailable(f"identity unreachable: {type(exc).__name__}") from exc
        if response.status_code in (403, 404):
            return None
        if response.status_code != 200:
            raise IdentityUnavailable(f"identity answered {response.status_code}")
        body = response.json()
        if not isinstance(body, dict) or body.get("id") != user_id:
            raise IdentityUnavailable("identity answered with another user")
        role = body.get("role")
        return Person(
            user_id=user_id,
            role=role if isinstance(role, str) else None,
            active=body.get("status", "active") == "active",
        )

    async def start(self) -> None:
        """Nothing to do: the HTTP client opens on first use."""

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
