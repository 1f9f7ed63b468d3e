"""Shared test support: a council of people, tokens, an in-process app, the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from hearth_chat.adapters.directory import Person
from hearth_chat.adapters.identity_client import CircleMember, IdentityUnavailable
from hearth_chat.handlers import identity_events as idh
from hearth_chat.handlers.context import ChatDeps
from hearth_chat.settings import ChatSettings
from hearth_contracts import Envelope, new_envelope
from hearth_contracts.envelope import EventData
from hearth_contracts.identity import CircleMemberAdded, UserRegistered
from hearth_kit.store import Query
from hearth_kit.testing import TokenSigner
from hearth_timers import FakeClock

NORTH = "tenant-north"
SOUTH = "tenant-south"
START = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)

# user id -> (tenant, roles)
PEOPLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "rita": (NORTH, ("resident",)),
    "ron": (NORTH, ("resident",)),
    "pat": (NORTH, ("professional",)),
    "olly": (NORTH, ("oncall",)),
    "ada": (NORTH, ("council_admin",)),
    "dana": (NORTH, ("family",)),  # in Rita's circle
    "carl": (NORTH, ("carer",)),  # in nobody's circle
    "sam": (SOUTH, ("resident",)),
    "sue": (SOUTH, ("professional",)),
    "root": ("platform", ("platform_admin",)),
}


def make_settings(tmp_path: Path, **overrides: Any) -> ChatSettings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "environment": "test",
        "messaging_enabled": False,
        "timer_poll_seconds": 1.0,
        "phrases_refresh_seconds": 0.0,
        **overrides,
    }
    return ChatSettings(**values)


def envelope_for(data: EventData, tenant_id: str, subject: str) -> Envelope:
    return new_envelope(data, tenant_id=tenant_id, subject=subject, producer="identity")


@dataclass
class FakeIdentity:
    """Identity as seen over HTTP: users and circles it knows."""

    users: dict[str, Person] = field(default_factory=dict)
    circles: dict[str, list[CircleMember]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    down: bool = False

    async def user(self, user_id: str, *, token: str) -> Person | None:
        self.calls.append(f"user:{user_id}")
        if self.down:
            raise IdentityUnavailable("identity unreachable: ConnectError")
        return self.users.get(user_id)

    async def circle(self, resident_id: str, *, token: str) -> list[CircleMember] | None:
        self.calls.append(f"circle:{resident_id}")
        if self.down:
            raise IdentityUnavailable("identity unreachable: ConnectError")
        return self.circles.get(resident_id)


def auth(signer: TokenSigner, user: str, **kwargs: Any) -> dict[str, str]:
    tenant, roles = PEOPLE[user]
    token = signer.token(user_id=user, tenant_id=tenant, tenant_slug=tenant, roles=roles, **kwargs)
    return {"Authorization": f"Bearer {token}"}


async def seed(deps: ChatDeps) -> None:
    """What identity's events would have told chat about the world."""
    for user, (tenant, roles) in PEOPLE.items():
        data = UserRegistered(user_id=user, role=roles[0])  # type: ignore[arg-type]
        await idh.on_user_registered(data, envelope_for(data, tenant, user), deps=deps)
    added = CircleMemberAdded(
        resident_id="rita", member_id="dana", relationship="family", consent_by="rita"
    )
    await idh.on_circle_member_added(added, envelope_for(added, NORTH, "rita"), deps=deps)


@dataclass
class Api:
    client: httpx.AsyncClient
    app: FastAPI
    clock: FakeClock
    signer: TokenSigner
    identity: FakeIdentity

    @property
    def deps(self) -> ChatDeps:
        found: ChatDeps = self.app.state.chat
        return found

    def headers(self, user: str, **extra: str) -> dict[str, str]:
        return {**auth(self.signer, user), **extra}

    async def seed(self) -> None:
        await seed(self.deps)

    async def direct(self, by: str = "rita", other: str = "dana") -> str:
        response = await self.client.post(
            "/v1/conversations", json={"with_user_id": other}, headers=self.headers(by)
        )
        assert response.status_code in (200, 201), response.text
        return str(response.json()["id"])

    async def post(
        self, conversation: str, text: str, by: str = "rita", **kw: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/conversations/{conversation}/messages",
            json={"text": text},
            headers=self.headers(by, **kw),
        )

    async def message_events(self, tenant: str = NORTH) -> list[dict[str, Any]]:
        page = await self.deps.repos.messages.collection.find(tenant, Query(limit=1000))
        return [e for doc in page.items for e in doc["outbox"]]

    async def support_events(self, tenant: str = NORTH) -> list[dict[str, Any]]:
        page = await self.deps.repos.support.collection.find(tenant, Query(limit=1000))
        return [e for doc in page.items for e in doc["outbox"]]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait (real time) until `check` holds; fail if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)
