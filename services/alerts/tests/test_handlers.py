"""Escalation and delivery handlers on a real SQLite store with a controlled clock: what
the timers pick up after a crash, cancelling after an acknowledgement, firing one step
twice (two replicas, or a retry) without telling anyone twice, and skipping people who
may no longer be paged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from alerts_testkit import TENANT, World, handlers_world

from hearth_alerts.domain.alert import Alert
from hearth_alerts.domain.escalation import Policy, Step, Target
from hearth_alerts.handlers.context import AlertsDeps
from hearth_alerts.handlers.escalation import fire_step, on_escalation_due, on_notification_due
from hearth_alerts.handlers.identity_events import people_events
from hearth_alerts.handlers.raising import raise_alert
from hearth_contracts import EventData
from hearth_contracts.identity import UserDeactivated, UserRegistered, UserRoleChanged
from hearth_kit.store import Query
from hearth_kit.testing import identity_envelope
from hearth_timers import FakeClock

POLICY = Policy(
    name="p",
    steps=[
        Step(delay_seconds=0, targets=[Target(type="oncall")]),
        Step(delay_seconds=600, targets=[Target(type="user", user_id="mgr")]),
    ],
)


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with handlers_world(tmp_path) as found:
        yield found


async def stored_alert(deps: AlertsDeps, clock: FakeClock) -> Alert:
    """An alert stored as if its process died right after raising it."""
    alert, _ = Alert.raise_new(
        alert_id="a-1",
        tenant_id=TENANT,
        dedup_key="k-1",
        source="checkin_missed",
        severity="high",
        resident_id="r-1",
        refs={},
        policy=POLICY,
        incident_at=clock.now(),
        now=clock.now(),
        lease_seconds=deps.escalation_lease_seconds,
    )
    await deps.repos.alerts.insert(TENANT, alert.id, alert)
    return alert


async def claim(deps: AlertsDeps, clock: FakeClock, *, notifications: bool = False) -> list[dict]:  # type: ignore[type-arg]
    collection = (deps.repos.notifications if notifications else deps.repos.alerts).collection
    return await collection.claim_due(now=clock.now(), owner="test", lease_seconds=30, limit=10)


async def test_a_step_never_fired_after_a_crash_is_fired_by_its_timer(world) -> None:  # type: ignore[no-untyped-def]
    deps, receiver, clock = world
    await stored_alert(deps, clock)
    assert await claim(deps, clock) == []  # the immediate firing still has its lease
    clock.advance(deps.escalation_lease_seconds + 1)
    [doc] = await claim(deps, clock)
    await on_escalation_due(doc, deps=deps)
    await deps.background.drain()
    [request] = receiver.received
    assert request.path == "/oc" and request.json()["step"] == 0
    loaded = await deps.repos.alerts.get(TENANT, "a-1")
    assert loaded is not None
    alert = loaded.value
    assert [s.step for s in alert.steps] == [0]
    assert alert.escalation_due == clock.now() + 600  # the next step's time, not the lease
    assert alert.first_notified_at is not None


async def test_firing_the_same_step_twice_tells_everyone_once(world) -> None:  # type: ignore[no-untyped-def]
    deps, receiver, clock = world
    alert = await stored_alert(deps, clock)
    position = alert.pending()
    fired = await asyncio.gather(
        fire_step(TENANT, "a-1", deps=deps, expected=position),
        fire_step(TENANT, "a-1", deps=deps, expected=position),
    )
    await deps.background.drain()
    assert sorted(fired) == [0, 1]
    assert [r.path for r in receiver.received] == ["/oc"]
    notes, _ = await deps.repos.notifications.find(TENANT, Query(where={"alert_id": "a-1"}))
    assert len(notes) == 1 and notes[0].status == "delivered"


async def test_a_retry_after_acknowledgement_is_cancelled(world) -> None:  # type: ignore[no-untyped-def]
    deps, receiver, clock = world
    receiver.statuses = [503]
    alert = await stored_alert(deps, clock)
    await fire_step(TENANT, "a-1", deps=deps, expected=alert.pending())
    await deps.background.drain()
    [note] = (await deps.repos.notifications.find(TENANT, Query(where={"alert_id": "a-1"})))[0]
    assert (note.status, note.attempts, note.next_attempt_at) == ("pending", 1, clock.now() + 5)

    loaded = await deps.repos.alerts.get(TENANT, "a-1")
    assert loaded is not None
    loaded.value.acknowledge(by="oc", now=clock.now())
    await deps.repos.alerts.save(TENANT, "a-1", loaded)

    clock.advance(5)
    [doc] = await claim(deps, clock, notifications=True)
    await on_notification_due(doc, deps=deps)
    cancelled = await deps.repos.notifications.get(TENANT, note.id)
    assert cancelled is not None
    assert cancelled.value.status == "cancelled" and cancelled.value.next_attempt_at is None
    assert len(receiver.received) == 1
    assert await claim(deps, clock, notifications=True) == []


async def test_a_retry_that_succeeds_is_recorded_on_the_alert(world) -> None:  # type: ignore[no-untyped-def]
    deps, receiver, clock = world
    receiver.statuses = [500]
    alert = await stored_alert(deps, clock)
    await fire_step(TENANT, "a-1", deps=deps, expected=alert.pending())
    await deps.background.drain()
    clock.advance(5)
    [doc] = await claim(deps, clock, notifications=True)
    await on_notification_due(doc, deps=deps)
    assert len(receiver.received) == 2
    loaded = await deps.repos.alerts.get(TENANT, "a-1")
    assert loaded is not None
    assert loaded.value.steps[0].delivered == 1
    assert "notification_delivered" in [e.kind for e in loaded.value.timeline]
    # Still escalating: delivery is not acknowledgement.
    assert loaded.value.pending() is not None


async def test_a_stale_escalation_timer_is_cleared(world) -> None:  # type: ignore[no-untyped-def]
    deps, _, clock = world
    await stored_alert(deps, clock)
    loaded = await deps.repos.alerts.get(TENANT, "a-1")
    assert loaded is not None
    loaded.value.resolve(outcome="false_alarm", note=None, by="oc", now=clock.now())
    loaded.value.escalation_due = clock.now()  # as if left behind by an older version
    await deps.repos.alerts.save(TENANT, "a-1", loaded)
    [doc] = await claim(deps, clock)
    await on_escalation_due(doc, deps=deps)
    after = await deps.repos.alerts.get(TENANT, "a-1")
    assert after is not None and after.value.escalation_due is None
    clock.advance(100)
    assert await claim(deps, clock) == []


async def test_an_urgent_source_starts_at_its_staff_step_at_once(world) -> None:  # type: ignore[no-untyped-def]
    deps, receiver, clock = world
    # The council's own urgent policy: its staff step waits ten minutes in the normal
    # course, but a help request starts there at once.
    slow = Policy(
        name="urgent",
        steps=[
            Step(delay_seconds=600, targets=[Target(type="resident")]),
            Step(delay_seconds=600, targets=[Target(type="user", user_id="mgr")]),
        ],
    )
    await deps.repos.policies.insert(TENANT, "urgent", slow)
    alert = await raise_alert(
        tenant_id=TENANT,
        source="help_requested",
        key="help_requested:h-1",
        resident_id="r-1",
        refs={},
        incident_at=clock.now(),
        deps=deps,
    )
    assert alert is not None
    # The clock has not moved: nothing waits for a timer. (The step, then its delivery.)
    await deps.background.drain()
    await deps.background.drain()
    [request] = receiver.received
    assert request.path == "/mgr" and request.json()["step"] == 1
    loaded = await deps.repos.alerts.get(TENANT, alert.id)
    assert loaded is not None
    assert [(s.step, s.fired_at) for s in loaded.value.steps] == [(1, clock.now())]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (UserDeactivated(user_id="oc", deactivated_by="admin"), "deactivated"),
        (
            UserRoleChanged(user_id="oc", old_role="oncall", new_role="family", changed_by="admin"),
            "not_staff",
        ),
    ],
    ids=["deactivated", "no-longer-staff"],
)
async def test_someone_who_may_no_longer_be_paged_is_skipped_and_the_next_step_fires(
    world,  # type: ignore[no-untyped-def]
    change: EventData,
    reason: str,
) -> None:
    deps, receiver, clock = world
    events = people_events(deps)
    for user in ("oc", "mgr"):
        registered = UserRegistered(user_id=user, role="oncall")
        await events.on_user_registered(registered, identity_envelope(registered, TENANT, user))
    envelope = identity_envelope(change, TENANT, "oc")
    if isinstance(change, UserDeactivated):
        await events.on_user_deactivated(change, envelope)
    else:
        assert isinstance(change, UserRoleChanged)
        await events.on_role_changed(change, envelope)

    alert = await stored_alert(deps, clock)
    await fire_step(TENANT, "a-1", deps=deps, expected=alert.pending())
    await deps.background.drain()
    # The on-call step reached nobody, so the manager's step (ten minutes later in the
    # policy) fired at once; the skipped person was never sent anything.
    assert [r.path for r in receiver.received] == ["/mgr"]
    loaded = await deps.repos.alerts.get(TENANT, "a-1")
    assert loaded is not None
    fired = loaded.value
    assert [(s.step, s.recipients) for s in fired.steps] == [(0, []), (1, ["mgr"])]
    [gaps] = [e for e in fired.timeline if e.kind == "gaps"]
    assert gaps.detail["skipped"] == [{"user_id": "oc", "reason": reason}]
    assert "nobody_reachable" in [e.kind for e in fired.timeline]
