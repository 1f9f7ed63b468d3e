"""Hearth's event path: the broker, the transactional outbox and its relay, and the
consumer with its inbox, retries and dead letters."""

from hearth_kit.messaging.broker import make_broker, subscriber_options
from hearth_kit.messaging.consumer import EventConsumer, Handler, InvalidEvent, PermanentError
from hearth_kit.messaging.inbox import INBOX_TTL_SECONDS, inbox_spec
from hearth_kit.messaging.outbox import (
    enqueue_envelope,
    event_headers,
    outbox_entry,
    publish_envelope,
)
from hearth_kit.messaging.relay import OutboxRelay, RelayRound, default_owner
from hearth_kit.messaging.tail import TopicTail

__all__ = [
    "INBOX_TTL_SECONDS",
    "EventConsumer",
    "Handler",
    "InvalidEvent",
    "OutboxRelay",
    "PermanentError",
    "RelayRound",
    "TopicTail",
    "default_owner",
    "enqueue_envelope",
    "event_headers",
    "inbox_spec",
    "make_broker",
    "outbox_entry",
    "publish_envelope",
    "subscriber_options",
]
