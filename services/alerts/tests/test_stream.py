"""The staff live stream ends when its sign-in ends: identity's `identity.session.revoked`
reaches alerts' token verifier, and the stream's next heartbeat tells the console."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from alerts_testkit import Council, Service

from hearth_contracts.identity import SessionRevoked

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

WORKER = "worker-signed-out"


def signed_in(council: Council, service: Service, session_id: str) -> dict[str, str]:
    token = service.signer.token(
        user_id=WORKER,
        tenant_id=council.tenant_id,
        tenant_slug=council.tenant_id,
        roles=("oncall",),
        session_id=session_id,
    )
    return {"Authorization": f"Bearer {token}"}


async def stream_events(council: Council, headers: dict[str, str]) -> list[str]:
    """The named events of one stream, until it ends."""
    events: list[str] = []
    async with council.client.stream("GET", "/v1/alerts/stream", headers=headers) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
    return events


async def test_a_revoked_sign_in_ends_its_stream_and_is_refused(
    council: Council, service: Service
) -> None:
    laptop, phone = f"laptop-{uuid.uuid4().hex}", f"phone-{uuid.uuid4().hex}"
    ended, kept = signed_in(council, service, laptop), signed_in(council, service, phone)
    hub = service.app.state.hub
    ended_stream = asyncio.create_task(stream_events(council, ended))
    kept_stream = asyncio.create_task(stream_events(council, kept))
    try:

        async def connected() -> None:
            while hub.count(council.tenant_id) < 2:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(connected(), 10)
        await council.publish(
            SessionRevoked(user_id=WORKER, session_id=laptop, reason="logout"), WORKER
        )
        assert await asyncio.wait_for(ended_stream, 20) == ["token_revoked"]
        refused = await council.client.get("/v1/alerts", headers=ended)
        assert refused.status_code == 401
        assert "revoked" in refused.json()["error"]["message"]
        # The same person's other sign-in goes on: its stream and its requests.
        assert (await council.client.get("/v1/alerts", headers=kept)).status_code == 200
        await asyncio.sleep(service.settings.stream_heartbeat_seconds * 1.5)
        assert not kept_stream.done()
        assert hub.count(council.tenant_id) == 1
    finally:
        for task in (ended_stream, kept_stream):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
