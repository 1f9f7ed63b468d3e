"""Fixtures: the alerts service served over real HTTP (uvicorn, in this process) on a
real Kafka-protocol broker (embedded Tansu) and a SQLite store, with real local receivers
for SMTP and the SMS provider. One service for the whole session (joining the consumer
group costs seconds); every test works in a council of its own."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

sys.path.insert(0, str(Path(__file__).parent))

from alerts_testkit import Council, Service

from hearth_alerts.bootstrap import create_app
from hearth_alerts.settings import AlertsSettings
from hearth_alerts.testing import HttpReceiver, SmtpReceiver
from hearth_devstack.broker import EmbeddedBroker, free_port, start_embedded_broker
from hearth_kit.testing import FakeIdentity, TokenSigner, served


@pytest.fixture(scope="session")
def embedded_broker() -> Iterator[EmbeddedBroker]:
    with start_embedded_broker() as broker:
        yield broker


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def sms_provider() -> AsyncIterator[HttpReceiver]:
    async with HttpReceiver() as receiver:
        yield receiver


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def service(
    tmp_path_factory: pytest.TempPathFactory,
    embedded_broker: EmbeddedBroker,
    smtp_server: SmtpReceiver,
    sms_provider: HttpReceiver,
) -> AsyncIterator[Service]:
    signer = TokenSigner()
    port = free_port()
    settings = AlertsSettings(
        environment="test",
        http_port=port,
        data_dir=tmp_path_factory.mktemp("alerts"),
        kafka_bootstrap_servers=embedded_broker.bootstrap_servers,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_from="alerts@hearth.test",
        sms_provider_url=f"{sms_provider.url}/sms",
        sms_api_key="sms-test-key",
        notification_max_attempts=3,
        notification_backoff_seconds=0.2,
        notification_backoff_max_seconds=0.5,
        escalation_lease_seconds=5,
        notification_attempt_lease_seconds=10,
        stream_heartbeat_seconds=1,
    )
    identity = FakeIdentity()
    app = create_app(settings, verifier=signer.verifier(), identity=identity)
    async with served(app, port) as url:
        yield Service(
            url=url,
            app=app,
            signer=signer,
            settings=settings,
            smtp=smtp_server,
            sms=sms_provider,
            identity=identity,
        )


@pytest_asyncio.fixture(loop_scope="session")
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service.url, timeout=10) as http:
        yield http


@pytest_asyncio.fixture(loop_scope="session")
async def council(service: Service, client: httpx.AsyncClient) -> Council:
    return Council(service=service, client=client, tenant_id=f"t-{uuid.uuid4().hex[:12]}")


@pytest_asyncio.fixture(loop_scope="session")
async def other_council(service: Service, client: httpx.AsyncClient) -> Council:
    return Council(service=service, client=client, tenant_id=f"t-{uuid.uuid4().hex[:12]}")


@pytest_asyncio.fixture(loop_scope="session")
async def webhook() -> AsyncIterator[HttpReceiver]:
    async with HttpReceiver() as receiver:
        yield receiver
