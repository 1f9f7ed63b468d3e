"""SMS through a configurable HTTP provider: POST JSON {to, message, reference}."""

from __future__ import annotations

import httpx

from hearth_alerts.domain.notification import ChannelName, DeliveryResult, Notification

_PERMANENT = frozenset({400, 401, 403, 404, 405, 413, 415, 422})


class SmsHttpChannel:
    name: ChannelName = "sms"

    def __init__(
        self,
        *,
        provider_url: str | None,
        api_key: str | None,
        api_key_header: str = "X-Api-Key",
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._url = provider_url
        self._headers = {api_key_header: api_key} if api_key else {}
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), follow_redirects=False
        )

    async def send(self, notification: Notification) -> DeliveryResult:
        if not self._url:
            return DeliveryResult.failed("no SMS provider is configured", retryable=False)
        body = {
            "to": notification.address,
            "message": notification.message.text[:612],
            "reference": notification.id,
        }
        try:
            response = await self._client.post(self._url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            return DeliveryResult.failed(f"{type(exc).__name__}: {exc}"[:300])
        if 200 <= response.status_code < 300:
            return DeliveryResult.delivered(f"provider answered HTTP {response.status_code}")
        return DeliveryResult.failed(
            f"provider answered HTTP {response.status_code}",
            retryable=response.status_code not in _PERMANENT,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
