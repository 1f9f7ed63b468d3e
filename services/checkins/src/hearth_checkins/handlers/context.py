"""What check-ins' handlers depend on, gathered once at start-up, and the compare-and-swap
loop every change to a resident's state goes through."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from hearth_checkins.adapters.metrics import CheckinsMetrics
from hearth_checkins.adapters.repositories import Repositories
from hearth_checkins.domain import Effect, NotFoundError, ResidentCheckIns
from hearth_checkins.handlers.events import count_effects, outbox_events
from hearth_kit.errors import concurrent_change
from hearth_kit.people.directory import People
from hearth_kit.people.identity import IdentityLookup
from hearth_kit.store import ConcurrencyConflict
from hearth_timers import Clock

T = TypeVar("T")
PRODUCER = "checkins"
# How many times a handler retries a compare-and-swap it lost before giving up (409).
CAS_ATTEMPTS = 5


def _new_id() -> str:
    return str(uuid.uuid4())


def _no_wake(due: float) -> None:
    return None


@dataclass
class CheckinsDeps:
    repos: Repositories
    clock: Clock
    metrics: CheckinsMetrics
    # Asks identity about a user its events have not told us about yet (None: never ask).
    identity: IdentityLookup | None = None
    # Tells this process's deadline scheduler about a deadline it has just written.
    wake: Callable[[float], None] = field(default=_no_wake)
    new_id: Callable[[], str] = _new_id

    @property
    def people(self) -> People:
        """People and circles: what identity's events told us, else identity itself."""
        return People(self.repos.directory, self.identity)


Change = Callable[[ResidentCheckIns], tuple[ResidentCheckIns, list[Effect], T]]


async def change_state(
    tenant_id: str,
    resident_id: str,
    change: Change[T],
    *,
    deps: CheckinsDeps,
    create: bool = False,
    include_inactive: bool = False,
) -> tuple[ResidentCheckIns, T]:
    """Load the resident's state, apply `change`, save it with its events (compare-and-
    swap), retrying on a lost race with whatever won (e.g. the deadline firing). Domain
    errors raised by `change` leave everything as it was."""
    for _ in range(CAS_ATTEMPTS):
        loaded = await deps.repos.states.load(tenant_id, resident_id)
        if loaded is None:
            if not create:
                raise NotFoundError("no check-in schedule for this resident", code="no_schedule")
            state, version = ResidentCheckIns(tenant_id=tenant_id, resident_id=resident_id), 0
        else:
            state, version = loaded
        if not state.active and not include_inactive:
            raise NotFoundError("resident not found", code="resident_not_found")
        new, effects, result = change(state)
        if new == state and not effects:
            return state, result
        events = outbox_events(effects, new, clock=deps.clock)
        try:
            await deps.repos.states.save(new, version=version, events=events)
        except ConcurrencyConflict:
            continue
        count_effects(effects, tenant_id, deps.metrics)
        due = new.next_fire_at
        if due is not None and due != state.next_fire_at:
            deps.wake(due)
        return new, result
    raise concurrent_change("the resident's check-ins")
