"""The deadline scheduler: fires the due documents of one timer collection, once each, on time.

A timer collection declares a due field (`CollectionSpec(due_field=...)`, epoch seconds).
Any number of schedulers, in any number of processes, can run over the same collection:

- Every due document is taken with `claim_due`, a guarded conditional update that gives
  it to exactly one owner for `lease_seconds`. The `fire(doc)` callback then saves the
  document with compare-and-swap, with its next due time (or None) and the events the
  firing causes in its outbox; the save clears the lease. So a deadline fires once, and
  a write that races the firing (a check-in arriving at the deadline) wins or loses as a
  whole: the loser gets `ConcurrencyConflict`.
- A scheduler holds a look-ahead of upcoming due times (`next_due`, the next
  `lookahead_seconds`) in memory and sleeps until the earliest, so deadlines fire on
  time instead of at the next poll. `wake(due)` tells it about a deadline this process
  has just written. A safety poll every `poll_seconds` refreshes the look-ahead and
  claims anything written by other replicas or left over.
- A replica that dies after claiming loses nothing: its lease expires and the next
  claim by any scheduler retakes the work. A `fire` that raises leaves the lease in
  place, so the deadline is retried after `lease_seconds` (a natural backoff).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry

from hearth_kit.store.port import Collection, ConcurrencyConflict, Document
from hearth_kit.tasks import finish_or_cancel
from hearth_timers.clock import Clock, SystemClock
from hearth_timers.metrics import TimerMetrics, timer_metrics

logger = logging.getLogger("hearth.timers")

FireCallback = Callable[[Document], Awaitable[None]]

# A document claimed this many times in one drain was not moved by its fire callback.
_MAX_CLAIMS_PER_DRAIN = 3
_INF = float("inf")


class DeadlineScheduler:
    """Fires due documents of `collection` through `fire(doc)`.

        scheduler = DeadlineScheduler(states, fire_deadline, owner="checkins@host:42",
                                      clock=clock, registry=registry)
        await scheduler.start()
        ...
        scheduler.wake(new_due)   # after this process writes an earlier deadline
        ...
        await scheduler.stop()

    `fire(doc)` receives the claimed document (with its `version`) and must save it with
    `expected_version=doc["version"]`, moving the due field to the next due time or None.
    If that save raises `ConcurrencyConflict`, someone else changed the document first;
    the scheduler claims it again at once if it is still due.
    """

    def __init__(
        self,
        collection: Collection,
        fire: FireCallback,
        *,
        owner: str | None = None,
        clock: Clock | None = None,
        registry: CollectorRegistry | None = None,
        lease_seconds: float = 30.0,
        lookahead_seconds: float = 30.0,
        lookahead_limit: int = 500,
        poll_seconds: float = 1.0,
        batch_size: int = 200,
        max_in_flight: int = 16,
        coalesce_seconds: float = 0.005,
    ) -> None:
        due_field = collection.spec.due_field
        if due_field is None:
            raise ValueError(f"{collection.spec.name} declares no due field")
        if lease_seconds <= 0 or poll_seconds <= 0 or lookahead_seconds < 0:
            raise ValueError("lease_seconds and poll_seconds must be > 0, lookahead >= 0")
        if batch_size < 1 or max_in_flight < 1 or lookahead_limit < 1:
            raise ValueError("batch_size, max_in_flight and lookahead_limit must be >= 1")
        if coalesce_seconds < 0:
            raise ValueError("coalesce_seconds must be >= 0")
        self.collection = collection
        self.name = collection.spec.name
        self.owner = owner or f"{self.name}:{uuid.uuid4().hex}"
        self._due_field = due_field
        self._fire = fire
        self._clock: Clock = clock or SystemClock()
        self._metrics: TimerMetrics | None = timer_metrics(registry) if registry else None
        self._lease = lease_seconds
        self._lookahead = lookahead_seconds
        self._lookahead_limit = lookahead_limit
        self._poll = poll_seconds
        self._batch = batch_size
        self._coalesce = coalesce_seconds
        self._round_started = -_INF
        self._gate = asyncio.Semaphore(max_in_flight)
        self._heap: list[float] = []
        # The look-ahead holds every due time up to here (less when a refresh was capped).
        self._horizon = -_INF
        self._truncated = False
        self._next_refresh = -_INF
        self._planned_wake = -_INF
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # ---- lifecycle ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._wake = asyncio.Event()
        self._next_refresh = -_INF
        self._task = asyncio.create_task(self._run(), name=f"deadline-scheduler:{self.owner}")

    async def stop(self, grace_seconds: float | None = None) -> None:
        """Stop after the firings in flight finish (or `grace_seconds`, by default the lease;
        whatever is left unfinished is retaken by another scheduler after its lease)."""
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await finish_or_cancel(task, grace_seconds or self._lease)
        finally:
            self._task = None

    def wake(self, due: float | None = None) -> None:
        """Tell the scheduler about a deadline this process has just written (call from
        the event loop). Only a deadline earlier than its next planned wake-up wakes it."""
        if due is None:
            self._wake.set()
            return
        if due <= self._horizon or not self._truncated:
            heapq.heappush(self._heap, due)
        if due < self._planned_wake:
            self._wake.set()

    # ---- the loop -----------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            await self._pace()
            self._wake.clear()
            try:
                now = self._clock.now()
                if now >= self._next_refresh or (self._truncated and not self._heap):
                    await self._refresh(now)
                while self._heap and self._heap[0] <= now:
                    heapq.heappop(self._heap)
                await self.run_once()
            except Exception:
                logger.exception("deadline scheduler %s: round failed; retrying", self.owner)
                self._next_refresh = self._clock.now() + self._poll
            await self._sleep_until(self._next_wake())

    async def _refresh(self, now: float) -> None:
        """Reload the look-ahead: due times in (now, now + lookahead]."""
        until = now + self._lookahead
        docs = await self.collection.next_due(after=now, until=until, limit=self._lookahead_limit)
        heap = [self._due_of(doc) for doc in docs]
        heapq.heapify(heap)
        self._heap = heap
        self._truncated = len(docs) >= self._lookahead_limit
        self._horizon = self._due_of(docs[-1]) if self._truncated else until
        self._next_refresh = now + self._poll
        if self._metrics is not None:
            self._metrics.lookahead.labels(timer=self.name).set(len(heap))

    def _next_wake(self) -> float:
        """When to look next: the earliest deadline held (at once if one came due during
        the round), else the next refresh."""
        now = self._clock.now()
        if self._heap and self._heap[0] <= now:
            return now
        if self._truncated and not self._heap:
            return now
        earliest = self._heap[0] if self._heap else _INF
        return min(earliest, self._next_refresh)

    async def _pace(self) -> None:
        """Start rounds at most once per `coalesce_seconds` of real time, so a dense run of
        deadlines is claimed in batches rather than one round trip each."""
        gap = self._coalesce - (time.monotonic() - self._round_started)
        if gap > 0 and not self._stopping:
            await asyncio.sleep(gap)
        self._round_started = time.monotonic()

    async def _sleep_until(self, when: float) -> None:
        self._planned_wake = when
        delay = when - self._clock.now()
        if self._stopping or self._wake.is_set() or delay <= 0:
            self._planned_wake = -_INF
            return
        sleeper = asyncio.ensure_future(self._clock.sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (sleeper, waker):
                pending.cancel()
            self._planned_wake = -_INF

    # ---- claiming and firing ------------------------------------------------------------
    async def run_once(self) -> int:
        """Claim and fire every deadline due now; returns how many fired."""
        fired = 0
        claims: Counter[tuple[str, str]] = Counter()
        while True:
            docs = await self.collection.claim_due(
                now=self._clock.now(),
                owner=self.owner,
                lease_seconds=self._lease,
                limit=self._batch,
            )
            if not docs:
                return fired
            runnable = []
            for doc in docs:
                key = (str(doc.get("tenant_id")), str(doc.get("id")))
                claims[key] += 1
                if claims[key] > _MAX_CLAIMS_PER_DRAIN:
                    # Its lease stays: retried after the lease, not in a hot loop.
                    logger.error(
                        "%s/%s is still due after %d firings: the fire callback does not "
                        "move its due time",
                        self.name,
                        key[1],
                        _MAX_CLAIMS_PER_DRAIN,
                    )
                    continue
                runnable.append(doc)
            if not runnable:
                return fired
            outcomes = await asyncio.gather(*(self._fire_one(doc) for doc in runnable))
            fired += sum(1 for outcome in outcomes if outcome == "fired")

    async def _fire_one(self, doc: Document) -> str:
        due = self._due_of(doc)
        async with self._gate:
            try:
                await self._fire(doc)
            except ConcurrencyConflict:
                outcome = "conflict"
            except Exception:
                logger.exception(
                    "firing %s/%s failed; it is retried after the lease",
                    self.name,
                    doc.get("id"),
                    extra={"tenant_id": doc.get("tenant_id")},
                )
                outcome = "failed"
            else:
                outcome = "fired"
        if self._metrics is not None:
            self._metrics.fired.labels(timer=self.name, outcome=outcome).inc()
            if outcome == "fired":
                lateness = max(0.0, self._clock.now() - due)
                self._metrics.lateness.labels(timer=self.name).observe(lateness)
        return outcome

    def _due_of(self, doc: Document) -> float:
        value = doc.get(self._due_field)
        return float(value) if isinstance(value, int | float) else 0.0
