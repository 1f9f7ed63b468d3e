"""Asking identity about people and circles when its events have not reached chat yet.

A family member invited a moment ago may open a conversation before
`identity.circle.member_added` has been consumed here. Then chat asks identity over HTTP
with the caller's own token (so identity applies its own tenancy and roles) and
remembers the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from hearth_chat.adapters.directory import Person


class IdentityUnavailable(Exception):
    """Identity could not answer (down, or an unexpected reply)."""


@dataclass(frozen=True)
class CircleMember:
    member_id: str
    role: str | None
    relationship: str | None


class IdentityLookup(Protocol):
    async def user(self, user_id: str, *, token: str) -> Person | None: ...

    async def circle(self, resident_id: str, *, token: str) -> list[CircleMember] | None: ...


class HttpIdentityLookup:
    def __init__(
        self, base_url: str, *, timeout: float = 3.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._client = client

    async def _get(self, path: str, token: str) -> dict[str, Any] | None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout))
        try:
            response = await self._client.get(
                f"{self._base_url}{path}", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise IdentityUnavailable(f"identity unreachable: {type(exc).__name__}") from exc
        if response.status_code in (403, 404):
            return None
        if response.status_code != 200:
            raise IdentityUnavailable(f"identity answered {response.status_code}")
        body = response.json()
        if not isinstance(body, dict):
            raise IdentityUnavailable("identity answered with something unexpected")
        return body

    async def user(self, user_id: str, *, token: str) -> Person | None:
        body = await self._get(f"/v1/users/{user_id}", token)
        if body is None:
            return None
        if body.get("id") != user_id:
            raise IdentityUnavailable("identity answered with another user")
        role = body.get("role")
        return Person(
            user_id=user_id,
            role=role if isinstance(role, str) else None,
            active=body.get("status", "active") == "active",
        )

    async def circle(self, resident_id: str, *, token: str) -> list[CircleMember] | None:
        body = await self._get(f"/v1/residents/{resident_id}/circle", token)
        if body is None:
            return None
        members = body.get("members")
        if body.get("resident_id") != resident_id or not isinstance(members, list):
            raise IdentityUnavailable("identity answered with another circle")
        found = []
        for item in members:
            if isinstance(item, dict) and isinstance(item.get("member_id"), str):
                role = item.get("role")
                relationship = item.get("relationship")
                found.append(
                    CircleMember(
                        member_id=item["member_id"],
                        role=role if isinstance(role, str) else None,
                        relationship=relationship if isinstance(relationship, str) else None,
                    )
                )
        return found

    async def start(self) -> None:
        """Nothing to do: the HTTP client opens on first use."""

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
