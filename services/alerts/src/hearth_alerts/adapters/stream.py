"""Feed of the staff consoles' live stream: every replica tails the alerts service's own
event topics (no consumer group, so each replica sees every event) and hands each event
to its in-process hub, which fans it out to the consoles of that council."""

from __future__ import annotations

from typing import Any

from hearth_alerts.channels.console import StreamHub
from hearth_contracts import Envelope, topic_for
from hearth_contracts.alerts import (
    AlertAcknowledged,
    AlertEscalated,
    AlertRaised,
    AlertResolved,
    NotificationSent,
)
from hearth_kit.messaging import TopicTail

STREAM_EVENTS = (AlertRaised, AlertAcknowledged, AlertEscalated, AlertResolved, NotificationSent)


def stream_view(envelope: Envelope) -> dict[str, Any]:
    """What a console receives: the event without its trace context."""
    return {
        "event_id": str(envelope.event_id),
        "type": envelope.type,
        "subject": envelope.subject,
        "occurred_at": envelope.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": envelope.data,
    }


def stream_feed(
    bootstrap_servers: str, hub: StreamHub, *, fetch_max_wait_ms: int = 20
) -> TopicTail:
    """This replica's feed of the live stream: a tail of the alerts topics (the kit's
    `TopicTail`: from their end) publishing each event to the hub of its council."""
    return TopicTail(
        bootstrap_servers,
        [topic_for(model.TYPE) for model in STREAM_EVENTS],
        lambda envelope: hub.publish(envelope.tenant_id, stream_view(envelope)),
        name="alerts-stream",
        # Most events have no console of their council connected here: skip parsing them.
        wanted=lambda tenant_id: hub.count(tenant_id) > 0,
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
