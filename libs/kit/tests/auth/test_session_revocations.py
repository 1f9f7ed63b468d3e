"""Ended sign-ins refused by every service with messaging: the runtime tails identity's
`identity.session.revoked` and its verifier refuses that session's tokens at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry

from hearth_contracts import new_envelope, topic_for
from hearth_contracts.identity import SessionRevoked, UserDeactivated
from hearth_devstack.broker import free_port, start_embedded_broker
from hearth_kit.auth import Principal
from hearth_kit.auth.revocations import SessionRevocations
from hearth_kit.http import create_app, current_principal
from hearth_kit.messaging import make_broker, publish_envelope
from hearth_kit.service import ServiceRuntime
from hearth_kit.settings import ServiceSettings
from hearth_kit.testing import TokenSigner, eventually, in_process

TOPIC = topic_for(SessionRevoked.TYPE)


def ended(session_id: str, user_id: str = "worker-1") -> SessionRevoked:
    return SessionRevoked(user_id=user_id, session_id=session_id, reason="logout")


def test_a_revoked_session_is_refused_for_keep_seconds_from_when_it_is_read() -> None:
    signer = TokenSigner()
    verifier = signer.verifier(clock=lambda: 1000.0)
    revocations = SessionRevocations(
        verifier, "unused:9092", keep_seconds=960, clock=lambda: 1000.0
    )
    for data in (ended("s1"), UserDeactivated(user_id="worker-1", deactivated_by="admin-1")):
        envelope = new_envelope(data, tenant_id="t", subject="worker-1", producer="identity")
        revocations.on_event(envelope)
    assert dict(verifier._revoked_sessions) == {"s1": 1960.0}
    assert revocations.tail.topics == [TOPIC]


def test_the_runtime_tails_revocations_only_with_messaging_and_a_real_verifier(
    tmp_path: Path,
) -> None:
    settings = ServiceSettings(service_name="kit-rt", data_dir=tmp_path, environment="test")
    verifier = TokenSigner().verifier()
    with_messaging = ServiceRuntime(settings, verifier=verifier)
    assert with_messaging.revocations is not None
    assert with_messaging.revocations.verifier is verifier
    assert with_messaging.revocations.keep_seconds == settings.session_revocation_seconds
    assert ServiceRuntime(settings, verifier=verifier, messaging=False).revocations is None
    # A test's fake verifier is left be.
    fake = ServiceRuntime(settings, verifier=object())  # type: ignore[arg-type]
    assert fake.revocations is None


async def until_visible(bootstrap_servers: str, topic: str) -> None:
    """Wait until the topic exists with a record in it, so a tail starting now is
    assigned its partitions at once and reads from their end."""
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None)
    await probe.start()
    try:
        while True:
            if topic in await probe.topics():
                partitions = probe.partitions_for_topic(topic) or set()
                ends = await probe.end_offsets([TopicPartition(topic, p) for p in partitions])
                if any(ends.values()):
                    return
            await asyncio.sleep(0.05)
    finally:
        await probe.stop()


async def publish(settings: ServiceSettings, data: SessionRevoked) -> None:
    """Publish as identity does, through a broker of its own."""
    broker = make_broker(settings, registry=CollectorRegistry())
    await broker.start()
    try:
        envelope = new_envelope(
            data, tenant_id="council-a", subject=data.user_id, producer="identity"
        )
        await publish_envelope(broker, envelope, topic=TOPIC)
    finally:
        await broker.stop()


def protected_app(rt: ServiceRuntime, settings: ServiceSettings) -> FastAPI:
    async def setup(rt: ServiceRuntime, app: FastAPI) -> None:
        return None

    app = create_app(
        settings=settings,
        title="kit revocations",
        registry=rt.registry,
        lifespan=rt.lifespan(setup),
    )

    @app.get("/v1/me")
    async def me(principal: Principal = Depends(current_principal)) -> dict[str, str | None]:
        return {"user_id": principal.user_id, "session_id": principal.session_id}

    return app


@pytest.fixture
async def bootstrap_servers() -> AsyncIterator[str]:
    with start_embedded_broker() as broker:
        yield broker.bootstrap_servers


@pytest.mark.integration
async def test_a_revoked_session_is_refused_and_the_users_other_sessions_are_not(
    tmp_path: Path, bootstrap_servers: str
) -> None:
    settings = ServiceSettings(
        service_name="kit-revocations",
        data_dir=tmp_path,
        environment="test",
        kafka_bootstrap_servers=bootstrap_servers,
    )
    signer = TokenSigner()
    rt = ServiceRuntime(settings, registry=CollectorRegistry(), verifier=signer.verifier())
    app = protected_app(rt, settings)
    gone = {"Authorization": f"Bearer {signer.token(user_id='worker-1', session_id='laptop')}"}
    kept = {"Authorization": f"Bearer {signer.token(user_id='worker-1', session_id='phone')}"}
    earlier = {"Authorization": f"Bearer {signer.token(user_id='worker-2', session_id='old')}"}

    # Identity's topic exists, with an older revocation in it, before this replica starts.
    await publish(settings, ended("old", user_id="worker-2"))
    await until_visible(bootstrap_servers, TOPIC)

    async with in_process(app) as client:
        for headers in (gone, kept, earlier):
            assert (await client.get("/v1/me", headers=headers)).status_code == 200

        await publish(settings, ended("laptop"))

        async def refused() -> bool:
            return (await client.get("/v1/me", headers=gone)).status_code == 401

        await eventually(refused, within=20)
        response = await client.get("/v1/me", headers=gone)
        assert response.json()["error"]["code"] == "invalid_token"
        assert "revoked" in response.json()["error"]["message"]
        still = await client.get("/v1/me", headers=kept)
        assert still.status_code == 200, still.text
        assert still.json() == {"user_id": "worker-1", "session_id": "phone"}
        # Read from the end when the service started: what came before is not replayed.
        assert (await client.get("/v1/me", headers=earlier)).status_code == 200


@pytest.mark.integration
async def test_kafka_out_of_reach_at_start_is_tailed_once_it_answers(tmp_path: Path) -> None:
    port = free_port()
    signer = TokenSigner()
    verifier = signer.verifier()
    principal = await verifier.verify(signer.token(session_id="tablet"))
    revocations = SessionRevocations(
        verifier,
        f"127.0.0.1:{port}",
        keep_seconds=960,
        retry_seconds=0.1,
        metadata_max_age_ms=300,
    )
    await revocations.start()  # the service starts all the same
    try:
        with start_embedded_broker(port) as broker:
            settings = ServiceSettings(
                service_name="kit-revocations",
                data_dir=tmp_path,
                environment="test",
                kafka_bootstrap_servers=broker.bootstrap_servers,
            )
            waiting = revocations._waiting
            assert waiting is not None
            await eventually(waiting.done, within=20)
            await publish(settings, ended("tablet"))
            await eventually(lambda: verifier.is_revoked(principal), within=20)
    finally:
        await revocations.stop()
