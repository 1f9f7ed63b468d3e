"""Shared test support: a council world of people, tokens, an in-process app, the outbox."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from hearth_checkins.adapters.identity_client import IdentityUnavailable
from hearth_checkins.adapters.repositories import Person
from hearth_checkins.handlers import identity_events as idh
from hearth_checkins.handlers.context import CheckinsDeps
from hearth_checkins.settings import CheckinsSettings
from hearth_contracts import Envelope, new_envelope
from hearth_contracts.envelope import EventData
from hearth_contracts.identity import CircleMemberAdded, TenantCreated, UserRegistered
from hearth_kit.store import Query
from hearth_kit.testing import TokenSigner
from hearth_timers import FakeClock

NORTH = "tenant-north"
SOUTH = "tenant-south"
# Thursday 15 January 2026, 07:00 UTC (07:00 in London).
START = datetime(2026, 1, 15, 7, 0, tzinfo=UTC)

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


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def make_settings(tmp_path: Path, **overrides: Any) -> CheckinsSettings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "environment": "test",
        "messaging_enabled": False,
        "timer_poll_seconds": 1.0,
        "timer_lease_seconds": 15.0,
        **overrides,
    }
    return CheckinsSettings(**values)


def envelope_for(data: EventData, tenant_id: str, subject: str) -> Envelope:
    return new_envelope(data, tenant_id=tenant_id, subject=subject, producer="identity")


@dataclass
class FakeIdentity:
    """Identity as seen over HTTP: answers lookups of users it knows, per tenant."""

    users: dict[str, Person] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    down: bool = False

    async def __call__(self, user_id: str, *, token: str) -> Person | None:
        self.calls.append(user_id)
        if self.down:
            raise IdentityUnavailable("identity unreachable: ConnectError")
        return self.users.get(user_id)


@dataclass
class Api:
    client: httpx.AsyncClient
    app: FastAPI
    clock: FakeClock
    signer: TokenSigner
    identity: FakeIdentity

    @property
    def deps(self) -> CheckinsDeps:
        found: CheckinsDeps = self.app.state.checkins
        return found

    def headers(self, user: str, **extra: str) -> dict[str, str]:
        tenant, roles = PEOPLE[user]
        token = self.signer.token(user_id=user, tenant_id=tenant, tenant_slug=tenant, roles=roles)
        return {"Authorization": f"Bearer {token}", **extra}

    async def seed(self) -> None:
        """What identity's events would have told check-ins about the world."""
        d = self.deps
        await idh.on_tenant_created(
            TenantCreated(tenant_id=NORTH, slug="north", timezone="Europe/London"),
            envelope_for(
                TenantCreated(tenant_id=NORTH, slug="north", timezone="Europe/London"), NORTH, NORTH
            ),
            deps=d,
        )
        for user, (tenant, roles) in PEOPLE.items():
            data = UserRegistered(user_id=user, role=roles[0])  # type: ignore[arg-type]
            await idh.on_user_registered(data, envelope_for(data, tenant, user), deps=d)
        added = CircleMemberAdded(
            resident_id="rita", member_id="dana", relationship="family", consent_by="rita"
        )
        await idh.on_circle_member_added(added, envelope_for(added, NORTH, "rita"), deps=d)

    async def outbox(self, resident: str, tenant: str = NORTH) -> list[dict[str, Any]]:
        doc = await self.deps.repos.states.collection.get(tenant, resident)
        return list(doc["outbox"]) if doc else []

    async def event_types(self, resident: str, tenant: str = NORTH) -> list[str]:
        return [e["type"] for e in await self.outbox(resident, tenant)]

    async def help_events(self, tenant: str = NORTH) -> list[dict[str, Any]]:
        coll = self.deps.repos.help_requests.collection
        page = await coll.find(tenant, _all_query())
        return [e for doc in page.items for e in doc["outbox"]]

    async def put_schedule(
        self, resident: str = "rita", by: str = "pat", **body: Any
    ) -> httpx.Response:
        payload = {"timezone": "Europe/London", "times": [{"at": "09:00"}], "grace_minutes": 30}
        payload.update(body)
        return await self.client.put(
            f"/v1/residents/{resident}/checkin-schedule", json=payload, headers=self.headers(by)
        )

    async def check_in(
        self, resident: str = "rita", by: str | None = None, key: str | None = None, **body: Any
    ) -> httpx.Response:
        headers = self.headers(by or resident)
        if key is not None:
            headers["Idempotency-Key"] = key
        return await self.client.post(
            f"/v1/residents/{resident}/checkins", json={"status": "ok", **body}, headers=headers
        )


def _all_query() -> Query:
    return Query(limit=1000)


def new_id() -> str:
    return str(uuid.uuid4())


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait (real time) until `check` holds; fail if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)
