"""Test helpers for identity: a fake clock, settings, an API wrapper, a two-council world."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hearth_identity.adapters.repositories import ALL_SPECS, THROTTLES
from hearth_identity.handlers.context import IdentityDeps
from hearth_identity.settings import IdentitySettings

ROOT_EMAIL = "root@hearth.example"
ROOT_PASSWORD = "lighthouse-platform-77"
PASSWORD = "kettle-garden-42-lantern"


class FakeClock:
    """Time that tests move forward (starts now: tokens are also checked on real time)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_settings(data_dir: Path, **overrides: Any) -> IdentitySettings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "environment": "test",
        "relay_enabled": False,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "key_encryption_secret": "test-key-encryption-secret-0123",
        "bootstrap_admin_email": ROOT_EMAIL,
        "bootstrap_admin_password": ROOT_PASSWORD,
        **overrides,
    }
    return IdentitySettings(**values)


@dataclass
class Api:
    """A client on the in-process app, and helpers to sign in and inspect the store."""

    client: httpx.AsyncClient
    app: Any
    clock: FakeClock
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def deps(self) -> IdentityDeps:
        found: IdentityDeps = self.app.state.identity
        return found

    async def login(self, tenant: str, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.client.post(
            "/v1/auth/token", json={"tenant": tenant, "email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def bearer(self, tenant: str, email: str, password: str = PASSWORD) -> dict[str, str]:
        body = await self.login(tenant, email, password)
        return {"Authorization": f"Bearer {body['access_token']}"}

    async def snapshot(self, *, include_throttles: bool = False) -> dict[str, Any]:
        """Every stored document (with version and outbox), to prove nothing changed."""
        store = self.app.state.store

        def dump(conn: Any) -> dict[str, Any]:
            result = {}
            for spec in ALL_SPECS:
                if spec is THROTTLES and not include_throttles:
                    continue
                rows = conn.execute(
                    f'SELECT tenant_id, id, version, doc, outbox FROM "{spec.name}" '
                    "ORDER BY tenant_id, id"
                ).fetchall()
                result[spec.name] = [tuple(r) for r in rows]
            return result

        return await store.run(dump)

    async def outbox(self, collection: str) -> list[dict[str, Any]]:
        """Every event waiting in the outboxes of one collection."""
        store = self.app.state.store

        def read(conn: Any) -> list[dict[str, Any]]:
            rows = conn.execute(f'SELECT outbox FROM "{collection}"').fetchall()
            return [e for (raw,) in rows for e in json.loads(raw)]

        return await store.run(read)


@dataclass
class World:
    """Two councils, north and south, with staff, residents and a circle member."""

    root: dict[str, str]
    north: dict[str, Any]
    south: dict[str, Any]
    headers: dict[str, dict[str, str]]
    ids: dict[str, str]


async def create_user(api: Api, headers: dict[str, str], body: dict[str, Any]) -> str:
    response = await api.client.post("/v1/users", json=body, headers=headers)
    assert response.status_code == 201, response.text
    user_id: str = response.json()["id"]
    return user_id


def council_body(slug: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": f"{slug.title()} Council",
        "timezone": "Europe/London",
        "admin": {
            "email": f"admin@{slug}.example",
            "password": PASSWORD,
            "display_name": f"{slug.title()} Admin",
        },
    }
