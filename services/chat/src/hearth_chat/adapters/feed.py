"""The replica feed: how a message posted through one chat replica reaches sockets
connected to another, and how a change to someone's access reaches every replica.

Every replica tails chat's delivery topics and identity's access topics (the kit's
`TopicTail`: no consumer group, from their end) and hands each event to its own hub.
Messages are published through the outbox keyed by tenant + conversation, so one
conversation's events keep their order on one partition; the hub fetches message bodies
from the store, so nothing personal travels on these topics and a late or repeated event
is harmless.

Access events are tailed apart, with no regard to who is connected here: a replica with
no sockets must still refuse a deactivated person's old token. Chat's directory follows
identity through a consumer group, possibly a moment behind; so before closing anyone's
sockets the feed applies the change to the directory itself (idempotent, the same as the
consumer group does), or a reconnect right after the close could still get in.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from hearth_chat.adapters.hub import (
    ACCESS_CHANGED,
    CLOSE_ACCESS_REVOKED,
    CLOSE_TOKEN_EXPIRED,
    SIGNED_OUT,
    Hub,
)
from hearth_contracts import Envelope, EventData, topic_for
from hearth_contracts.chat import MessageEdited, MessagePosted, TypingStarted
from hearth_contracts.identity import (
    CircleMemberRemoved,
    SessionRevoked,
    UserDeactivated,
    UserErasureRequested,
    UserRoleChanged,
)
from hearth_kit.messaging import TopicTail
from hearth_kit.people.directory import Directory
from hearth_kit.tasks import cancel_and_wait

log = logging.getLogger("hearth.chat.feed")

DELIVERY_EVENTS: tuple[type[EventData], ...] = (MessagePosted, MessageEdited, TypingStarted)
ACCESS_EVENTS: tuple[type[EventData], ...] = (
    UserDeactivated,
    UserRoleChanged,
    UserErasureRequested,
    CircleMemberRemoved,
    SessionRevoked,
)
FEED_EVENTS = DELIVERY_EVENTS + ACCESS_EVENTS
# Events after which a person's earlier tokens are refused (leaving one circle is not:
# the person may still chat with others).
REVOKING = frozenset({UserDeactivated.TYPE, UserRoleChanged.TYPE, UserErasureRequested.TYPE})
# Why identity ends sign-ins of an account that may no longer be used (see its `_revoke`).
ACCOUNT_GONE = frozenset({"deactivated", "account_inactive"})
# Sockets are closed after the directory is updated, or after this long if the store
# does not answer: a slow store must not keep a person's sockets open.
DIRECTORY_SECONDS = 5.0


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
    elif kind in REVOKING:
        user_id = str(data.get("user_id", ""))
        hub.revoke_access(tenant, user_id, envelope.occurred_at.timestamp())
    elif kind == CircleMemberRemoved.TYPE:
        removed = CircleMemberRemoved.model_validate(data)
        # Their direct conversations that the circle allowed are closed to them now.
        hub.revoke(tenant, removed.member_id, code=CLOSE_ACCESS_REVOKED, reason=ACCESS_CHANGED)
    elif kind == SessionRevoked.TYPE:
        ended = SessionRevoked.model_validate(data)
        # Ended because the account was deactivated: say so, the same whichever of the
        # two events (deactivated, session revoked) reaches this replica first.
        access_gone = ended.reason in ACCOUNT_GONE
        hub.end_session(
            tenant,
            ended.user_id,
            ended.session_id,
            code=CLOSE_ACCESS_REVOKED if access_gone else CLOSE_TOKEN_EXPIRED,
            reason=ACCESS_CHANGED if access_gone else SIGNED_OUT,
        )


async def apply_to_directory(directory: Directory, envelope: Envelope) -> None:
    """What the consumer group will also do (see `hearth_kit.people.events`)."""
    tenant = envelope.tenant_id
    if envelope.type == UserDeactivated.TYPE:
        deactivated = UserDeactivated.model_validate(envelope.data)
        await directory.remember_person(tenant, deactivated.user_id, active=False)
        await directory.remove_member_everywhere(tenant, deactivated.user_id)
    elif envelope.type == CircleMemberRemoved.TYPE:
        removed = CircleMemberRemoved.model_validate(envelope.data)
        await directory.remove_from_circle(tenant, removed.resident_id, removed.member_id)


class AccessFeed:
    """Identity's access events, one at a time in the order they came: the directory
    first, then the sockets. The tail hands events on synchronously; this keeps them."""

    def __init__(
        self,
        hub: Hub,
        directory: Directory,
        *,
        directory_seconds: float = DIRECTORY_SECONDS,
        session_ended: Callable[[str], None] | None = None,
    ) -> None:
        self.hub = hub
        self.directory = directory
        self.directory_seconds = directory_seconds
        self._session_ended = session_ended
        self._backlog: deque[Envelope] = deque()
        self._task: asyncio.Task[None] | None = None

    def on_event(self, envelope: Envelope) -> None:
        if envelope.type in REVOKING:
            # Refuse the person's old tokens at once; their sockets close in turn.
            user_id = str(envelope.data.get("user_id", ""))
            self.hub.revocations.record(
                envelope.tenant_id, user_id, envelope.occurred_at.timestamp()
            )
        elif envelope.type == SessionRevoked.TYPE and self._session_ended is not None:
            # The session's tokens are refused at once (a reconnect with one fails).
            self._session_ended(str(envelope.data.get("session_id", "")))
        self._backlog.append(envelope)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="chat-access")

    async def settled(self) -> None:
        """Wait until every event handed on so far has been applied."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _drain(self) -> None:
        while self._backlog:
            envelope = self._backlog[0]
            try:
                async with asyncio.timeout(self.directory_seconds):
                    await apply_to_directory(self.directory, envelope)
            except Exception:
                log.warning(
                    "could not apply %s to the directory; closing the sockets anyway",
                    envelope.type,
                    exc_info=True,
                )
            self._backlog.popleft()
            try:
                dispatch(self.hub, envelope)
            except Exception:
                log.exception("could not hand %s to the hub", envelope.type)


class ReplicaFeed:
    """This replica's feed (a `Background` of the service runtime): one tail of the
    delivery topics, read only while someone is connected here, and one of the access
    topics, always read. `session_ended(session_id)` is told of every ended sign-in as it
    arrives."""

    def __init__(
        self,
        bootstrap_servers: str,
        hub: Hub,
        directory: Directory,
        *,
        fetch_max_wait_ms: int = 20,
        metadata_max_age_ms: int = 3000,
        session_ended: Callable[[str], None] | None = None,
    ) -> None:
        self.access = AccessFeed(hub, directory, session_ended=session_ended)
        self.delivery_tail = TopicTail(
            bootstrap_servers,
            [topic_for(model.TYPE) for model in DELIVERY_EVENTS],
            lambda envelope: dispatch(hub, envelope),
            name="chat-feed",
            # Nobody connected here: nothing to deliver, so nothing to parse.
            wanted=lambda tenant_id: len(hub) > 0,
            fetch_max_wait_ms=fetch_max_wait_ms,
            metadata_max_age_ms=metadata_max_age_ms,
        )
        self.access_tail = TopicTail(
            bootstrap_servers,
            [topic_for(model.TYPE) for model in ACCESS_EVENTS],
            self.access.on_event,
            name="chat-access-feed",
            fetch_max_wait_ms=fetch_max_wait_ms,
            metadata_max_age_ms=metadata_max_age_ms,
        )

    async def start(self) -> None:
        await self.access_tail.start()
        try:
            await self.delivery_tail.start()
        except BaseException:
            await self.access_tail.stop()
            raise

    async def stop(self) -> None:
        await self.delivery_tail.stop()
        await self.access_tail.stop()
        await self.access.stop()
