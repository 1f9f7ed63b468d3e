"""The one interface every channel implements, and the set of channels a service runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from hearth_alerts.domain.notification import ChannelName, DeliveryResult, Notification


class NotificationChannel(Protocol):
    name: ChannelName

    async def send(self, notification: Notification) -> DeliveryResult:
        """Hand one notification to its channel. Never raises for delivery problems:
        they come back as a failed result (retryable or not)."""
        ...

    async def aclose(self) -> None: ...


class Channels:
    """The channels by name; a channel that is not configured fails for good."""

    def __init__(self, channels: Mapping[ChannelName, NotificationChannel]) -> None:
        self._by_name = dict(channels)

    async def send(self, notification: Notification) -> DeliveryResult:
        channel = self._by_name.get(notification.channel)
        if channel is None:
            return DeliveryResult.failed(
                f"channel {notification.channel} is not configured", retryable=False
            )
        try:
            return await channel.send(notification)
        except Exception as exc:  # a bug in a channel must not lose the notification
            return DeliveryResult.failed(f"{type(exc).__name__}: {exc}")

    async def aclose(self) -> None:
        for channel in self._by_name.values():
            await channel.aclose()
