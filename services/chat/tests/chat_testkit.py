"""Chat's test support: its settings, the in-process app and its outbox. The people,
tokens and fake identity are the kit's (`hearth_kit.testing`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from hearth_chat.handlers.context import ChatDeps
from hearth_chat.handlers.identity_events import people_events
from hearth_chat.settings import ChatSettings
from hearth_kit.store import Query
from hearth_kit.testing import NORTH, InProcess, seed_people
from hearth_timers import FakeClock

START = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


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


async def seed(deps: ChatDeps) -> None:
    """What identity's events would have told chat about the world."""
    await seed_people(people_events(deps))


class Api(InProcess):
    """Chat in-process (see `InProcess`), with chat's own helpers."""

    clock: FakeClock

    @property
    def deps(self) -> ChatDeps:
        found: ChatDeps = self.app.state.chat
        return found

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
