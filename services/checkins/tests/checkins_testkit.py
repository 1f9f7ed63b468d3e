"""Check-ins' test support: its settings, times, the in-process app and its outbox. The
people, tokens and fake identity are the kit's (`hearth_kit.testing`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from hearth_checkins.handlers.context import CheckinsDeps
from hearth_checkins.handlers.identity_events import on_tenant_created, people_events
from hearth_checkins.settings import CheckinsSettings
from hearth_contracts.identity import TenantCreated
from hearth_kit.store import Query
from hearth_kit.testing import NORTH, InProcess, identity_envelope, seed_people
from hearth_timers import FakeClock

# Thursday 15 January 2026, 07:00 UTC (07:00 in London).
START = datetime(2026, 1, 15, 7, 0, tzinfo=UTC)


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


class Api(InProcess):
    """Check-ins in-process (see `InProcess`), with check-ins' own helpers."""

    clock: FakeClock

    @property
    def deps(self) -> CheckinsDeps:
        found: CheckinsDeps = self.app.state.checkins
        return found

    async def seed(self) -> None:
        """What identity's events would have told check-ins about the world."""
        north = TenantCreated(tenant_id=NORTH, slug="north", timezone="Europe/London")
        await on_tenant_created(north, identity_envelope(north, NORTH, NORTH), deps=self.deps)
        await seed_people(people_events(self.deps))

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
