"""The real path on the embedded Kafka-protocol broker: a short real deadline passes and
exactly one checkins.checkin.missed is published; identity's events reach check-ins
through its consumer group."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from checkins_testkit import make_settings, ts

from hearth_checkins.bootstrap import create_app
from hearth_contracts.identity import CircleMemberAdded, UserRegistered
from hearth_devstack.broker import start_embedded_broker
from hearth_kit.testing import (
    NORTH,
    FakeIdentity,
    TokenSigner,
    identity_envelope,
    in_process,
    topic_records,
)

pytestmark = pytest.mark.integration


class ShiftedClock:
    """Real time, passing at the real rate, shifted so a deadline is seconds away."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


async def test_a_real_deadline_publishes_exactly_one_miss(tmp_path: Path) -> None:
    signer = TokenSigner()
    clock = ShiftedClock()
    with start_embedded_broker() as broker:
        settings = make_settings(
            tmp_path, messaging_enabled=True, kafka_bootstrap_servers=broker.bootstrap_servers
        )
        app = create_app(settings, clock=clock, verifier=signer.verifier(), identity=FakeIdentity())
        async with in_process(app, base_url="http://c") as client:

            def auth(user: str, role: str) -> dict[str, str]:
                token = signer.token(user_id=user, tenant_id=NORTH, roles=(role,))
                return {"Authorization": f"Bearer {token}"}

            # Identity's events arrive through Kafka: Dana joins Rita's circle.
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
            await producer.start()
            try:
                for data, subject in (
                    (UserRegistered(user_id="rita", role="resident"), "rita"),
                    (
                        CircleMemberAdded(
                            resident_id="rita",
                            member_id="dana",
                            relationship="family",
                            consent_by="rita",
                        ),
                        "rita",
                    ),
                ):
                    env = identity_envelope(data, NORTH, subject)
                    await producer.send_and_wait(
                        env.type, env.model_dump_json().encode(), key=env.partition_key
                    )
            finally:
                await producer.stop()

            # Rita's 09:00 check-in; it is now 3 seconds before its 09:30 deadline.
            clock.offset = ts("2026-01-15T09:29:57") - time.time()
            put = await client.put(
                "/v1/residents/rita/checkin-schedule",
                json={
                    "timezone": "Europe/London",
                    "times": [{"at": "09:00"}],
                    "grace_minutes": 30,
                },
                headers=auth("rita", "resident"),
            )
            assert put.status_code == 200, put.text
            assert put.json()["next"]["deadline_at"] == "2026-01-15T09:30:00Z"

            # Listening a while after the first: a second miss would show.
            misses = await topic_records(broker.bootstrap_servers, "checkins.checkin.missed")
            events = [json.loads(r.value) for r in misses]
            assert [e["data"]["occurrence_id"] for e in events] == ["rita:2026-01-15T09:00"]
            assert misses[0].key == f"{NORTH}:rita".encode()
            assert events[0]["tenant_id"] == NORTH

            # The circle event was consumed: Dana now sees Rita's schedule.
            async with asyncio.timeout(30):
                while True:
                    seen = await client.get(
                        "/v1/residents/rita/checkin-schedule", headers=auth("dana", "family")
                    )
                    if seen.status_code == 200:
                        break
                    assert seen.status_code == 404
                    await asyncio.sleep(0.1)
            assert seen.json()["last"]["outcome"] == "missed"
            metrics = (await client.get("/metrics")).text
            assert 'hearth_timer_fired_total{outcome="fired",timer="checkin_states"} 1.0' in metrics
