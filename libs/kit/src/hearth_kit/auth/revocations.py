"""Ended sign-ins, refused everywhere: every replica of every service with messaging
tails identity's `identity.session.revoked` and tells its token verifier, so a signed-out
or deactivated session's access tokens (valid for minutes yet) stop working within
moments, not when they expire.

A tail, not a consumer group: each replica verifies tokens itself, so each must see
every revocation. It reads from the end when the service starts, so a replica started
after a revocation does not know of it; that session's tokens expire within minutes.

Kafka out of reach when the service starts (or a test's in-memory broker) does not stop
the service: the tail starts as soon as Kafka answers; until then, an ended session's
tokens are refused here only once they expire.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

from hearth_contracts import Envelope, topic_for
from hearth_contracts.identity import SessionRevoked
from hearth_kit.auth.verifier import TokenVerifier
from hearth_kit.messaging.tail import TopicTail
from hearth_kit.settings import ServiceSettings
from hearth_kit.tasks import cancel_and_wait

log = logging.getLogger("hearth.auth")

# While Kafka is out of reach, ask again this often.
_RETRY_SECONDS = 5.0


class SessionRevocations:
    """A `Background` of the service runtime, added by it when messaging is on."""

    def __init__(
        self,
        verifier: TokenVerifier,
        bootstrap_servers: str,
        *,
        keep_seconds: float,
        name: str = "session-revocations",
        fetch_max_wait_ms: int = 20,
        metadata_max_age_ms: int = 3000,
        clock: Callable[[], float] = time.time,
        retry_seconds: float = _RETRY_SECONDS,
    ) -> None:
        self.verifier = verifier
        self.keep_seconds = keep_seconds
        self._bootstrap = bootstrap_servers
        self._clock = clock
        self._retry_seconds = retry_seconds
        self._waiting: asyncio.Task[None] | None = None
        self.tail = TopicTail(
            bootstrap_servers,
            [topic_for(SessionRevoked.TYPE)],
            self.on_event,
            name=name,
            fetch_max_wait_ms=fetch_max_wait_ms,
            metadata_max_age_ms=metadata_max_age_ms,
        )

    @classmethod
    def from_settings(
        cls, settings: ServiceSettings, verifier: TokenVerifier
    ) -> SessionRevocations:
        return cls(
            verifier,
            settings.kafka_bootstrap_servers,
            keep_seconds=settings.session_revocation_seconds,
            name=f"{settings.service_name}-session-revocations",
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        )

    def on_event(self, envelope: Envelope) -> None:
        if envelope.type != SessionRevoked.TYPE:
            return
        ended = SessionRevoked.model_validate(envelope.data)
        if ended.session_id:
            # From now, not from when it happened: an event read late is kept as long.
            self.verifier.revoke_session(ended.session_id, self._clock() + self.keep_seconds)

    async def start(self) -> None:
        if await self._reachable():
            await self.tail.start()
            return
        log.warning(
            "Kafka at %s is out of reach; ended sign-ins are tailed once it answers",
            self._bootstrap,
        )
        self._waiting = asyncio.create_task(self._start_when_reachable(), name=self.tail.name)

    async def stop(self) -> None:
        waiting, self._waiting = self._waiting, None
        await cancel_and_wait(waiting)
        await self.tail.stop()

    async def _start_when_reachable(self) -> None:
        while True:
            await asyncio.sleep(self._retry_seconds)
            if await self._reachable():
                try:
                    await self.tail.start()
                    log.info("tailing ended sign-ins")
                    return
                except Exception:
                    log.warning("could not tail ended sign-ins; retrying", exc_info=True)

    async def _reachable(self) -> bool:
        # Asked apart from the tail: a tail that fails to start leaves its client open.
        client = AIOKafkaClient(bootstrap_servers=self._bootstrap, client_id=self.tail.name)
        try:
            await client.bootstrap()
        except (KafkaError, OSError):
            return False
        finally:
            await client.close()
        return True
