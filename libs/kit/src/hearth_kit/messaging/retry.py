"""How a consumer retries a failing handler before the event is dead-lettered.

A handler is called up to `max_attempts` times, sleeping `backoff[attempt - 1]` between
attempts (the last delay repeats). An error of a permanent type is never retried: retrying
cannot fix it, and it goes to the dead-letter topic after the first attempt.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hearth_kit.messaging.metrics import ConsumerMetrics

# The consumer's logger: a retry is logged under the same name as the rest of consuming.
logger = logging.getLogger("hearth.consumer")


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts, delays between them, and the error types that are never retried."""

    max_attempts: int
    backoff: tuple[float, ...]
    permanent: tuple[type[BaseException], ...]

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not self.backoff:
            object.__setattr__(self, "backoff", (0.0,))  # no delays given: retry at once

    def is_permanent(self, error: BaseException) -> bool:
        return isinstance(error, self.permanent)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return self.backoff[min(attempt - 1, len(self.backoff) - 1)]

    async def call(
        self,
        attempt_once: Callable[[], Awaitable[None]],
        *,
        event_type: str,
        topic: str,
        metrics: ConsumerMetrics,
    ) -> tuple[Exception | None, int]:
        """Run `attempt_once` until it succeeds or may not be retried.

        Returns (the last error or None, attempts made); handler errors never escape.
        """
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                await attempt_once()
            except Exception as exc:
                metrics.handler_seconds.labels(topic=topic).observe(time.perf_counter() - started)
                if self.is_permanent(exc) or attempt >= self.max_attempts:
                    return exc, attempt
                delay = self.delay(attempt)
                logger.warning(
                    "handler of %s failed (attempt %d of %d, retrying in %.2fs): %s: %s",
                    event_type,
                    attempt,
                    self.max_attempts,
                    delay,
                    type(exc).__name__,
                    exc,
                )
                metrics.retries.labels(topic=topic).inc()
                await asyncio.sleep(delay)
            else:
                metrics.handler_seconds.labels(topic=topic).observe(time.perf_counter() - started)
                return None, attempt
