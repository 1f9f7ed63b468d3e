"""The deadline timer's callback: reminders and missed check-ins."""

from __future__ import annotations

from hearth_checkins.adapters.documents import state_from
from hearth_checkins.handlers.context import CheckinsDeps
from hearth_checkins.handlers.events import count_effects, outbox_events
from hearth_kit.store import Document


async def fire_deadline(doc: Document, *, deps: CheckinsDeps) -> None:
    """Act on a resident whose next reminder or deadline has come: the state is saved from
    the version the timer claimed, so a check-in that got there first makes this lose
    with ConcurrencyConflict (and the scheduler looks again), never raise a false miss."""
    state = state_from(doc)
    new, effects = state.on_timer(now=deps.clock.now())
    events = outbox_events(effects, new, clock=deps.clock)
    await deps.repos.states.save(new, version=int(doc["version"]), events=events)
    count_effects(effects, state.tenant_id, deps.metrics)
