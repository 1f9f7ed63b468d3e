"""Channels against real local receivers: an HTTP server (webhooks, SMS provider) and an
SMTP server. No mocks: each channel speaks its real protocol."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes

import pytest
import pytest_asyncio

from hearth_alerts.channels import (
    Channels,
    ConsoleStreamChannel,
    SmsHttpChannel,
    SmtpEmailChannel,
    WebhookChannel,
)
from hearth_alerts.channels.console import StreamHub
from hearth_alerts.domain.notification import ChannelName, Message, Notification
from hearth_alerts.domain.signing import verify
from hearth_alerts.testing import HttpReceiver, SmtpReceiver
from hearth_devstack.broker import free_port

SECRET = "a-webhook-secret-of-some-length"


def make(channel: ChannelName, address: str, *, kind: str = "alert") -> Notification:
    return Notification(
        id="n-1",
        tenant_id="t-1",
        alert_id="a-1",
        kind=kind,  # type: ignore[arg-type]
        step=1,
        round=0,
        recipient_id="u-1",
        channel=channel,
        address=address,
        secret=SECRET if channel == "webhook" else "",
        message=Message(
            alert_id="a-1",
            kind="alert",
            source="checkin_missed",
            severity="high",
            resident_id="r-1",
            step=1,
            text="A check-in was missed (high).",
        ),
        max_attempts=3,
        created_at=time.time(),
    )


@pytest_asyncio.fixture
async def http() -> AsyncIterator[HttpReceiver]:
    async with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


async def test_webhook_is_signed_over_timestamp_and_body(http: HttpReceiver) -> None:
    channel = WebhookChannel()
    try:
        result = await channel.send(make("webhook", f"{http.url}/hooks/oncall"))
    finally:
        await channel.aclose()
    assert result.ok and result.detail == "HTTP 200"
    [request] = http.received
    assert request.path == "/hooks/oncall"
    assert request.headers["x-hearth-notification-id"] == "n-1"
    timestamp = request.headers["x-hearth-timestamp"]
    signature = request.headers["x-hearth-signature"]
    assert verify(SECRET, timestamp, request.body, signature, now=time.time())
    assert not verify(
        "another-secret-entirely", timestamp, request.body, signature, now=time.time()
    )
    body = request.json()
    assert body["alert_id"] == "a-1" and body["tenant_id"] == "t-1" and body["kind"] == "alert"


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (404, False), (410, False)]
)
async def test_webhook_failures_say_whether_to_retry(
    http: HttpReceiver, status: int, retryable: bool
) -> None:
    http.default_status = status
    channel = WebhookChannel()
    try:
        result = await channel.send(make("webhook", http.url))
    finally:
        await channel.aclose()
    assert not result.ok
    assert result.retryable is retryable
    assert result.detail == f"HTTP {status}"


async def test_webhook_to_nothing_listening_is_retryable() -> None:
    channel = WebhookChannel(timeout=2)
    try:
        result = await channel.send(make("webhook", f"http://127.0.0.1:{free_port()}/x"))
    finally:
        await channel.aclose()
    assert not result.ok and result.retryable
    assert "Connect" in result.detail


async def test_webhook_without_a_secret_is_refused() -> None:
    channel = WebhookChannel()
    note = make("webhook", "http://127.0.0.1:9/x").model_copy(update={"secret": ""})
    try:
        result = await channel.send(note)
    finally:
        await channel.aclose()
    assert not result.ok and not result.retryable


async def test_email_is_delivered_over_smtp(smtp: SmtpReceiver) -> None:
    channel = SmtpEmailChannel(host="127.0.0.1", port=smtp.port, sender="alerts@council.example")
    result = await channel.send(make("email", "pat@family.example"))
    assert result.ok, result.detail
    [mail] = smtp.messages
    assert mail.recipients == ["pat@family.example"]
    parsed = message_from_bytes(mail.content)
    assert parsed["From"] == "alerts@council.example"
    assert parsed["Subject"] == "[Hearth] high alert needs a response"
    assert parsed["X-Hearth-Alert-Id"] == "a-1"
    assert "A check-in was missed" in parsed.get_payload()


async def test_email_to_a_refused_mailbox_fails_for_good(smtp: SmtpReceiver) -> None:
    smtp.refuse.add("gone@family.example")
    channel = SmtpEmailChannel(host="127.0.0.1", port=smtp.port, sender="alerts@council.example")
    result = await channel.send(make("email", "gone@family.example"))
    assert not result.ok and not result.retryable
    assert smtp.messages == []


async def test_email_with_no_server_is_retryable() -> None:
    channel = SmtpEmailChannel(host="127.0.0.1", port=free_port(), sender="a@b.example", timeout=2)
    result = await channel.send(make("email", "pat@family.example"))
    assert not result.ok and result.retryable


async def test_sms_goes_to_the_provider_with_its_api_key(http: HttpReceiver) -> None:
    channel = SmsHttpChannel(
        provider_url=f"{http.url}/sms", api_key="k-123", api_key_header="X-Api-Key"
    )
    try:
        result = await channel.send(make("sms", "+447700900123"))
    finally:
        await channel.aclose()
    assert result.ok
    [request] = http.received
    assert request.path == "/sms" and request.headers["x-api-key"] == "k-123"
    body = request.json()
    assert body["to"] == "+447700900123" and body["reference"] == "n-1"
    assert body["message"].startswith("A check-in was missed")


async def test_sms_provider_errors_and_missing_configuration(http: HttpReceiver) -> None:
    http.default_status = 502
    channel = SmsHttpChannel(provider_url=http.url, api_key=None)
    unconfigured = SmsHttpChannel(provider_url=None, api_key=None)
    try:
        failed = await channel.send(make("sms", "+447700900123"))
        missing = await unconfigured.send(make("sms", "+447700900123"))
    finally:
        await channel.aclose()
        await unconfigured.aclose()
    assert not failed.ok and failed.retryable
    assert not missing.ok and not missing.retryable


async def test_channels_route_by_name_and_refuse_unknown_ones() -> None:
    hub = StreamHub()
    channels = Channels({"console": ConsoleStreamChannel(hub)})
    console = await channels.send(make("console", ""))
    missing = await channels.send(make("sms", "+447700900123"))
    assert console.ok
    assert not missing.ok and not missing.retryable and "not configured" in missing.detail


def test_stream_hub_fans_out_per_council_and_drops_slow_consoles() -> None:
    hub = StreamHub(queue_size=10)
    a1, a2, b = hub.subscribe("a"), hub.subscribe("a"), hub.subscribe("b")
    assert hub.publish("a", {"n": 1}) == 2
    assert a1.queue.get_nowait() == {"n": 1} and a2.queue.get_nowait() == {"n": 1}
    assert b.queue.empty()
    for i in range(11):
        hub.publish("b", {"n": i})
    assert b.overflowed
    hub.unsubscribe(a1)
    assert hub.count("a") == 1 and hub.count() == 2
