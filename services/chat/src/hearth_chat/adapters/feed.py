"""The replica feed: how a message posted through one chat replica reaches sockets
connected to another.

Every replica tails chat's delivery topics and identity's access topics with no consumer
group (all partitions assigned to it), from their end when it starts (topics created
later are read from their start), and hands each event to its own hub. Messages are
published through the outbox keyed by tenant + conversation, so one conversation's
events keep their order on one partition; the hub fetches message bodies from the store,
so nothing personal travels on these topics and a late or repeated event is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from hearth_chat.adapters.hub import CLOSE_ACCESS_REVOKED, Hub
from hearth_contracts import Envelope, EventData, topic_for
from hearth_contracts.chat import MessageEdited, MessagePosted, TypingStarted
from hearth_contracts.identity import (
    CircleMemberRemoved,
    UserDeactivated,
    UserErasureRequested,
    UserRoleChanged,
)
from hearth_kit.messaging.headers import TENANT_ID, decode_headers

log = logging.getLogger("hearth.chat.feed")

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


class ReplicaFeed:
    def __init__(
        self,
        bootstrap_servers: str,
        hub: Hub,
        *,
        fetch_max_wait_ms: int = 20,
        metadata_max_age_ms: int = 3000,
        client_id: str = "chat-feed",
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._hub = hub
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._metadata_max_age_ms = metadata_max_age_ms
        self._client_id = client_id
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.topics = [topic_for(model.TYPE) for model in FEED_EVENTS]

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self._bootstrap,
            group_id=None,
            client_id=self._client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            metadata_max_age_ms=self._metadata_max_age_ms,
        )
        await consumer.start()
        assigned = consumer.assignment()
        if assigned:
            # What happened before this replica started is in the store: sockets resume
            # from there, not from the topic.
            await consumer.seek_to_end(*assigned)
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(consumer), name="chat-replica-feed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        try:
            await consumer.stop()
        except asyncio.CancelledError:
            # aiokafka's fetcher surfaces its own cancellation when the broker is gone;
            # only a cancellation of this task itself goes on.
            task_now = asyncio.current_task()
            if task_now is not None and task_now.cancelling():
                raise
            log.warning("replica feed stopped without reaching the broker")

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=1000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("replica feed could not fetch; retrying")
                await asyncio.sleep(1.0)
                continue
            for records in batches.values():
                for record in records:
                    self._handle(record.value, record.headers)

    def _handle(self, value: bytes | None, raw_headers: Any = ()) -> None:
        tenant = decode_headers(raw_headers).get(TENANT_ID)
        if tenant is not None and len(self._hub) == 0:
            return  # nobody connected here: nothing to do
        try:
            envelope = Envelope.model_validate_json(value or b"")
            dispatch(self._hub, envelope)
        except ValidationError:
            log.warning("replica feed skipped a record that is not a valid event")
