"""Fixtures: identity in-process on a SQLite store in a temporary folder, no Kafka."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from faststream.kafka import TestKafkaBroker

sys.path.insert(0, str(Path(__file__).parent))

from identity_testkit import (
    PASSWORD,
    ROOT_EMAIL,
    ROOT_PASSWORD,
    Api,
    FakeClock,
    World,
    council_body,
    create_user,
    make_settings,
)

from hearth_identity.bootstrap import create_app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Api]:
    app = create_app(make_settings(tmp_path), clock=clock)
    # Kafka stays in memory: these tests read the outbox, which no relay empties.
    async with TestKafkaBroker(app.state.runtime.broker), app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://identity") as client:
            yield Api(client=client, app=app, clock=clock)


@pytest.fixture
async def world(api: Api) -> World:
    root = await api.bearer("platform", ROOT_EMAIL, ROOT_PASSWORD)
    councils = {}
    for slug in ("north", "south"):
        response = await api.client.post("/v1/tenants", json=council_body(slug), headers=root)
        assert response.status_code == 201, response.text
        councils[slug] = response.json()
    headers: dict[str, dict[str, str]] = {}
    ids: dict[str, str] = {}
    for slug in ("north", "south"):
        admin = await api.bearer(slug, f"admin@{slug}.example")
        headers[f"{slug}_admin"] = admin
        ids[f"{slug}_admin"] = councils[slug]["admin"]["id"]
        ids[f"{slug}_pro"] = await create_user(
            api,
            admin,
            {
                "email": f"pro@{slug}.example",
                "password": PASSWORD,
                "display_name": "Pat Professional",
                "role": "professional",
            },
        )
        headers[f"{slug}_pro"] = await api.bearer(slug, f"pro@{slug}.example")
        ids[f"{slug}_resident"] = await create_user(
            api,
            headers[f"{slug}_pro"],
            {
                "email": f"rita@{slug}.example",
                "password": PASSWORD,
                "display_name": "Rita Resident",
                "role": "resident",
            },
        )
        headers[f"{slug}_resident"] = await api.bearer(slug, f"rita@{slug}.example")
        ids[f"{slug}_oncall"] = await create_user(
            api,
            admin,
            {
                "email": f"oncall@{slug}.example",
                "password": PASSWORD,
                "display_name": "Olly Oncall",
                "role": "oncall",
            },
        )
        headers[f"{slug}_oncall"] = await api.bearer(slug, f"oncall@{slug}.example")
    # A daughter joins Rita's circle in the north.
    invite = await api.client.post(
        f"/v1/residents/{ids['north_resident']}/circle/invitations",
        json={"relationship": "family"},
        headers=headers["north_resident"],
    )
    assert invite.status_code == 201, invite.text
    joined = await api.client.post(
        "/v1/circle/join",
        json={
            "code": invite.json()["code"],
            "tenant": "north",
            "email": "dana@family.example",
            "password": PASSWORD,
            "display_name": "Dana Daughter",
        },
    )
    assert joined.status_code == 201, joined.text
    ids["north_family"] = joined.json()["user"]["id"]
    headers["north_family"] = await api.bearer("north", "dana@family.example")
    return World(
        root=root, north=councils["north"], south=councils["south"], headers=headers, ids=ids
    )
