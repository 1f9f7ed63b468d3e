"""Signed webhooks: POST the message as JSON with a timestamp and an HMAC signature."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx

from hearth_alerts.domain.notification import ChannelName, DeliveryResult, Notification
from hearth_alerts.domain.signing import (
    NOTIFICATION_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

# Answers that will not change if the same request is sent again.
_PERMANENT = frozenset({400, 401, 403, 404, 405, 410, 413, 415, 422})


def webhook_body(notification: Notification, *, sent_at: float) -> bytes:
    payload = {
        "notification_id": notification.id,
        "tenant_id": notification.tenant_id,
        "recipient_id": notification.recipient_id,
        "sent_at": round(sent_at, 3),
        **notification.message.model_dump(mode="json"),
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


class WebhookChannel:
    name: ChannelName = "webhook"

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), follow_redirects=False
        )
        self._clock = clock

    async def send(self, notification: Notification) -> DeliveryResult:
        if not notification.secret:
            return DeliveryResult.failed("webhook has no signing secret", retryable=False)
        now = self._clock()
        body = webhook_body(notification, sent_at=now)
        timestamp = str(int(now))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Hearth-Alerts/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(notification.secret, timestamp, body),
            NOTIFICATION_HEADER: notification.id,
        }
        try:
            response = await self._client.post(notification.address, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return DeliveryResult.failed(f"{type(exc).__name__}: {exc}"[:300])
        if 200 <= response.status_code < 300:
            return DeliveryResult.delivered(f"HTTP {response.status_code}")
        return DeliveryResult.failed(
            f"HTTP {response.status_code}", retryable=response.status_code not in _PERMANENT
        )

    async def aclose(self) -> None:
        await self._client.aclose()
