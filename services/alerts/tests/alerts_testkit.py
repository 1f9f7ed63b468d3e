"""Helpers of the alerts tests: the running service, a council with its people (told to
alerts as identity's events would), events; and the handlers on their own, on a real
store with a controlled clock."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from hearth_alerts.adapters.repositories import Repositories, open_repositories
from hearth_alerts.channels import Channels, WebhookChannel
from hearth_alerts.domain.contacts import ContactBook, ContactMethod
from hearth_alerts.domain.notification import RetryPolicy
from hearth_alerts.domain.rota import Layer, Rota
from hearth_alerts.handlers.context import AlertsDeps
from hearth_alerts.handlers.identity_events import people_events
from hearth_alerts.metrics import alert_metrics
from hearth_alerts.settings import AlertsSettings
from hearth_alerts.testing import HttpReceiver, SmtpReceiver
from hearth_contracts import Envelope, EventData, new_envelope, topic_for
from hearth_contracts.checkins import CheckInMissed, CheckInRecovered, HelpRequested
from hearth_contracts.identity import Role, UserRegistered
from hearth_kit.messaging import inbox_spec, publish_envelope
from hearth_kit.store import SqliteStore
from hearth_kit.testing import FakeIdentity, TokenSigner, identity_envelope
from hearth_timers import FakeClock

STAFF = ("oncall", "professional", "council_admin")


@dataclass
class Service:
    url: str
    app: FastAPI
    signer: TokenSigner
    settings: AlertsSettings
    smtp: SmtpReceiver
    sms: HttpReceiver
    # Identity's HTTP API as alerts sees it: knows nobody unless a test says so.
    identity: FakeIdentity

    @property
    def repos(self) -> Repositories:
        found: Repositories = self.app.state.repos
        return found

    @property
    def deps(self) -> AlertsDeps:
        found: AlertsDeps = self.app.state.alerts
        return found

    async def wait_handled(self, envelope: Envelope, *, within: float = 15.0) -> None:
        """Wait until the service's consumer has recorded the event in its inbox."""
        inbox = await self.app.state.runtime.store.collection(inbox_spec("alerts"))
        deadline = time.monotonic() + within
        while await inbox.get(envelope.tenant_id, str(envelope.event_id)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"event {envelope.event_id} was not handled")
            await asyncio.sleep(0.02)

    async def publish(self, data: EventData, *, tenant_id: str, subject: str) -> Envelope:
        """Publish an event as its producer would (through the service's own broker)."""
        envelope = new_envelope(data, tenant_id=tenant_id, subject=subject, producer="tests")
        await publish_envelope(
            self.app.state.runtime.broker, envelope, topic=topic_for(envelope.type)
        )
        return envelope


@dataclass
class Council:
    service: Service
    client: httpx.AsyncClient
    tenant_id: str
    secrets: dict[str, str] = field(default_factory=dict)

    def headers(self, user_id: str, *roles: str) -> dict[str, str]:
        token = self.service.signer.token(
            user_id=user_id,
            tenant_id=self.tenant_id,
            tenant_slug=self.tenant_id,
            roles=roles or ("oncall",),
        )
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.headers("admin-1", "council_admin")

    async def register(self, *user_ids: str, role: Role = "oncall") -> None:
        """What identity's events would have told alerts: these people joined the
        council with `role` (handled in-process, without waiting for Kafka)."""
        events = people_events(self.service.deps)
        for user in user_ids:
            data = UserRegistered(user_id=user, role=role)
            await events.on_user_registered(data, identity_envelope(data, self.tenant_id, user))

    async def put_rota(self, layers: dict[str, list[str]], timezone: str = "Europe/London") -> None:
        """The council's rota; its people are registered first as on-call staff."""
        await self.register(*{user for users in layers.values() for user in users})
        body = {
            "timezone": timezone,
            "layers": [
                {
                    "name": name,
                    "users": users,
                    "length_hours": 24,
                    "handoff_time": "09:00",
                    "start_date": "2026-01-01",
                }
                for name, users in layers.items()
            ],
        }
        response = await self.client.put("/v1/oncall/rota", json=body, headers=self.admin)
        assert response.status_code == 200, response.text

    async def contacts(self, user_id: str, *methods: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.put(
            f"/v1/users/{user_id}/contact-methods",
            json={"methods": list(methods)},
            headers=self.admin,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        for method in body["methods"]:
            if method["channel"] == "webhook":
                self.secrets[method["address"]] = method["secret"]
        return body

    async def policy(self, name: str, steps: list[dict[str, Any]], **extra: Any) -> None:
        response = await self.client.put(
            f"/v1/escalation-policies/{name}", json={"steps": steps, **extra}, headers=self.admin
        )
        assert response.status_code == 200, response.text

    async def use_policy(self, **policies: str) -> None:
        response = await self.client.put(
            "/v1/alerts/settings", json={"policies": policies}, headers=self.admin
        )
        assert response.status_code == 200, response.text

    async def publish(self, data: EventData, subject: str) -> Envelope:
        return await self.service.publish(data, tenant_id=self.tenant_id, subject=subject)

    async def miss(self, resident_id: str, occurrence_id: str | None = None) -> Envelope:
        now = datetime.now(UTC)
        return await self.publish(
            CheckInMissed(
                resident_id=resident_id,
                occurrence_id=occurrence_id or uuid.uuid4().hex,
                due_at=now,
                deadline_at=now,
            ),
            resident_id,
        )

    async def recover(self, resident_id: str, occurrence_id: str) -> Envelope:
        return await self.publish(
            CheckInRecovered(
                resident_id=resident_id, occurrence_id=occurrence_id, checkin_id=uuid.uuid4().hex
            ),
            resident_id,
        )

    async def help(self, resident_id: str) -> Envelope:
        return await self.publish(
            HelpRequested(
                resident_id=resident_id,
                request_id=uuid.uuid4().hex,
                channel="app",
                requested_by=resident_id,
            ),
            resident_id,
        )

    async def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else {}
        response = await self.client.get("/v1/alerts", params=params, headers=self.admin)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def alert(self, alert_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/alerts/{alert_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wait_alert(
        self,
        predicate: Callable[[dict[str, Any]], bool] = lambda _: True,
        *,
        within: float = 15.0,
    ) -> dict[str, Any]:
        """The first alert of this council (full view) that satisfies `predicate`."""
        deadline = time.monotonic() + within
        while True:
            for summary in await self.alerts():
                full = await self.alert(summary["id"])
                if predicate(full):
                    return full
            if time.monotonic() > deadline:
                raise TimeoutError("no alert of this council reached the expected state")
            await asyncio.sleep(0.05)


def kinds(alert: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in alert["timeline"]]


# ---- the handlers on their own ------------------------------------------------------------
TENANT = "t-1"
World = tuple[AlertsDeps, HttpReceiver, FakeClock]


@asynccontextmanager
async def handlers_world(folder: Path, *reachable: str) -> AsyncIterator[World]:
    """Alerts' dependencies on a SQLite store in `folder` with a fake clock: council
    `TENANT` has a rota whose primary layer is "oc", and "oc", "mgr" and `reachable`
    have a webhook each (path `/<user id>` of the receiver)."""
    store = SqliteStore(folder / "alerts.sqlite3")
    receiver = await HttpReceiver().start()
    clock = FakeClock(1_800_000_000.0)
    repos: Repositories = await open_repositories(store)
    deps = AlertsDeps(
        repos=repos,
        channels=Channels({"webhook": WebhookChannel()}),
        metrics=alert_metrics(CollectorRegistry()),
        clock=clock,
        retry=RetryPolicy(max_attempts=3, base_seconds=5, max_seconds=60),
        escalation_lease_seconds=10,
        attempt_lease_seconds=30,
        allow_private_webhooks=True,
    )
    layer = Layer(
        name="primary", users=["oc"], length_hours=24, handoff_time="09:00", start_date="2026-01-01"
    )
    await repos.rotas.insert(TENANT, "rota", Rota(timezone="UTC", layers=[layer]))
    for user in ("oc", "mgr", *reachable):
        book = ContactBook(
            methods=[ContactMethod(channel="webhook", address=f"{receiver.url}/{user}")]
        ).with_secrets()
        await repos.contacts.insert(TENANT, user, book)
    try:
        yield deps, receiver, clock
    finally:
        await deps.background.drain()
        await deps.channels.aclose()
        await receiver.stop()
        await store.close()


async def register(deps: AlertsDeps, role: Role, *user_ids: str) -> None:
    """What identity's events would have told alerts about these people of `TENANT`."""
    events = people_events(deps)
    for user in user_ids:
        data = UserRegistered(user_id=user, role=role)
        await events.on_user_registered(data, identity_envelope(data, TENANT, user))
