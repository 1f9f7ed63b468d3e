"""The live stream for staff consoles: server-sent events per council.

The stream carries the alerts service's own events (alerts.alert.*, and
alerts.notification.sent, whose recipient a console can pick out). Every replica tails
those topics and fans each event out to the consoles of its council connected to it, so
a console sees every event whichever replica it is connected to. A console notification
is handed over when its `alerts.notification.sent` event is stored with its delivered
status: the stream carries it from there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from hearth_alerts.domain.notification import ChannelName, DeliveryResult, Notification

log = logging.getLogger("hearth.alerts.stream")


class Subscription:
    """One console's queue. A console that falls too far behind is disconnected (it
    reconnects and reloads the alert list) rather than slowing everyone down."""

    def __init__(self, tenant_id: str, size: int) -> None:
        self.tenant_id = tenant_id
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=size)
        self.overflowed = False

    def offer(self, event: dict[str, Any]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    def close(self) -> None:
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()

    async def events(self, heartbeat: float) -> AsyncIterator[dict[str, Any] | None]:
        """Events as they come; None every `heartbeat` seconds of silence; ends on close."""
        while True:
            try:
                event = await asyncio.wait_for(self.queue.get(), heartbeat)
            except TimeoutError:
                yield None
                continue
            if event is None:
                return
            yield event


class StreamHub:
    """In-process fan-out of events to the consoles of each council."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscriptions: dict[str, set[Subscription]] = {}

    def subscribe(self, tenant_id: str) -> Subscription:
        subscription = Subscription(tenant_id, self._queue_size)
        self._subscriptions.setdefault(tenant_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subs = self._subscriptions.get(subscription.tenant_id)
        if subs is not None:
            subs.discard(subscription)
            if not subs:
                del self._subscriptions[subscription.tenant_id]

    def publish(self, tenant_id: str, event: dict[str, Any]) -> int:
        subs = list(self._subscriptions.get(tenant_id, ()))
        for subscription in subs:
            subscription.offer(event)
        return len(subs)

    def count(self, tenant_id: str | None = None) -> int:
        if tenant_id is not None:
            return len(self._subscriptions.get(tenant_id, ()))
        return sum(len(s) for s in self._subscriptions.values())

    def close_all(self) -> None:
        for subs in list(self._subscriptions.values()):
            for subscription in list(subs):
                subscription.close()
        self._subscriptions.clear()


class ConsoleStreamChannel:
    name: ChannelName = "console"

    def __init__(self, hub: StreamHub) -> None:
        self._hub = hub

    async def send(self, notification: Notification) -> DeliveryResult:
        here = self._hub.count(notification.tenant_id)
        return DeliveryResult.delivered(
            f"on the council's live stream ({here} console(s) connected to this replica)"
        )

    async def aclose(self) -> None:
        return None
