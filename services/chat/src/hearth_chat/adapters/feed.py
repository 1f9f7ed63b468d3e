"""The replica feed: how a message posted through one chat replica reaches sockets
connected to another.

Every replica tails chat's delivery topics and identity's access topics (the kit's
`TopicTail`: no consumer group, from their end) and hands each event to its own hub.
Messages are published through the outbox keyed by tenant + conversation, so one
conversation's events keep their order on one partition; the hub fetches message bodies
from the store, so nothing personal travels on these topics and a late or repeated event
is harmless.
"""

from __future__ import annotations

from hearth_chat.adapters.hub import CLOSE_ACCESS_REVOKED, Hub
from hearth_contracts import Envelope, EventData, topic_for
from hearth_contracts.chat import MessageEdited, MessagePosted, TypingStarted
from hearth_contracts.identity import (
    CircleMemberRemoved,
    UserDeactivated,
    UserErasureRequested,
    UserRoleChanged,
)
from hearth_kit.messaging import TopicTail

FEED_EVENTS: tuple[type[EventData], ...] = (
    MessagePosted,
    MessageEdited,
    TypingStarted,
    UserDeactivated,
    UserRoleChanged,
    UserErasureRequested,
    CircleMemberRemoved,
)


def dispatch(hub: Hub, envelope: Envelope) -> None:
    """Hand one event to the hub (events of other types are ignored)."""
    tenant = envelope.tenant_id
    data = envelope.data
    kind = envelope.type
    if kind == MessagePosted.TYPE:
        posted = MessagePosted.model_validate(data)
        if posted.seq is not None:
            hub.posted(tenant, posted.conversation_id, posted.seq)
    elif kind == MessageEdited.TYPE:
        edited = MessageEdited.model_validate(data)
        hub.changed(tenant, edited.conversation_id, edited.message_id, edited.seq)
    elif kind == TypingStarted.TYPE:
        typing = TypingStarted.model_validate(data)
        hub.typing(tenant, typing.conversation_id, typing.user_id)
    elif kind in (UserDeactivated.TYPE, UserRoleChanged.TYPE, UserErasureRequested.TYPE):
        user_id = str(data.get("user_id", ""))
        hub.revoke(tenant, user_id, code=CLOSE_ACCESS_REVOKED, reason="your access changed")
    elif kind == CircleMemberRemoved.TYPE:
        removed = CircleMemberRemoved.model_validate(data)
        # Their direct conversations that the circle allowed are closed to them now.
        hub.revoke(
            tenant, removed.member_id, code=CLOSE_ACCESS_REVOKED, reason="your access changed"
        )


def replica_feed(
    bootstrap_servers: str,
    hub: Hub,
    *,
    fetch_max_wait_ms: int = 20,
    metadata_max_age_ms: int = 3000,
) -> TopicTail:
    """This replica's feed: a tail of the feed topics handing each event to the hub."""
    return TopicTail(
        bootstrap_servers,
        [topic_for(model.TYPE) for model in FEED_EVENTS],
        lambda envelope: dispatch(hub, envelope),
        name="chat-feed",
        # Nobody connected here: nothing to deliver, so nothing to parse.
        wanted=lambda tenant_id: len(hub) > 0,
        fetch_max_wait_ms=fetch_max_wait_ms,
        metadata_max_age_ms=metadata_max_age_ms,
    )
