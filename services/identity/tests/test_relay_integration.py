"""The outbox relay publishes identity's events to a real Kafka-protocol broker."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from identity_testkit import ROOT_EMAIL, ROOT_PASSWORD, Api, FakeClock, council_body, make_settings

from hearth_devstack.broker import start_embedded_broker
from hearth_identity.bootstrap import create_app

pytestmark = pytest.mark.integration


async def test_tenant_events_reach_kafka_and_leave_the_outbox(tmp_path: Path) -> None:
    with start_embedded_broker() as broker:
        settings = make_settings(
            tmp_path, relay_enabled=True, kafka_bootstrap_servers=broker.bootstrap_servers
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
                api = Api(client=client, app=app, clock=FakeClock())
                root = await api.bearer("platform", ROOT_EMAIL, ROOT_PASSWORD)
                created = await client.post("/v1/tenants", json=council_body("north"), headers=root)
                assert created.status_code == 201
                tenant_id = created.json()["id"]
                consumer = AIOKafkaConsumer(
                    "identity.tenant.created",
                    bootstrap_servers=broker.bootstrap_servers,
                    group_id=None,
                    auto_offset_reset="earliest",
                )
                await consumer.start()
                try:
                    found = None
                    async with asyncio.timeout(20):
                        while found is None:
                            batch = await consumer.getmany(timeout_ms=200)
                            for records in batch.values():
                                for record in records:
                                    event = json.loads(record.value)
                                    if event["tenant_id"] == tenant_id:
                                        found = (record, event)
                finally:
                    await consumer.stop()
                record, event = found
                assert event["data"]["slug"] == "north"
                assert record.key == f"{tenant_id}:{tenant_id}".encode()
                async with asyncio.timeout(10):
                    while [e for e in await api.outbox("tenants") if e["tenant_id"] == tenant_id]:
                        await asyncio.sleep(0.05)
