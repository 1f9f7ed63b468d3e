from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from hearth_kit.store.port import Collection, CollectionSpec
from hearth_kit.store.sqlite import SqliteStore
from hearth_timers import FakeClock, TimerAuditor

from .conftest import START, eventually


def gauge(registry: CollectorRegistry, name: str) -> float | None:
    return registry.get_sample_value(name, {"timer": "deadlines"})


async def test_reports_overdue_unfired_deadlines_beyond_the_tolerance(
    deadlines: Collection, clock: FakeClock
) -> None:
    for doc_id, due in (("old", START - 120), ("recent", START - 2), ("future", START + 60)):
        await deadlines.insert({"id": doc_id, "tenant_id": "t1", "due_at": due})
    await deadlines.insert({"id": "fired", "tenant_id": "t1", "due_at": None})
    registry = CollectorRegistry()
    auditor = TimerAuditor([deadlines], registry=registry, clock=clock, tolerance_seconds=5)

    reports = await auditor.audit_once()
    assert reports["deadlines"].count == 1
    assert reports["deadlines"].oldest_age_seconds == pytest.approx(120)
    assert gauge(registry, "hearth_timer_overdue") == 1
    assert gauge(registry, "hearth_timer_overdue_oldest_age_seconds") == pytest.approx(120)

    # Deadlines being fired right now (a live lease) are not overdue; a lease that expired
    # more than the tolerance ago (its owner died) is.
    await deadlines.claim_due(now=START, owner="replica-1", lease_seconds=30, limit=10)
    assert (await auditor.audit_once())["deadlines"].count == 0
    assert gauge(registry, "hearth_timer_overdue_oldest_age_seconds") == 0
    clock.advance(34)
    assert (await auditor.audit_once())["deadlines"].count == 0
    clock.advance(2)
    report = (await auditor.audit_once())["deadlines"]
    assert report.count == 2
    assert report.oldest_age_seconds == pytest.approx(156)


async def test_runs_periodically_on_its_clock(deadlines: Collection, clock: FakeClock) -> None:
    registry = CollectorRegistry()
    auditor = TimerAuditor([deadlines], registry=registry, clock=clock, interval_seconds=10)
    await auditor.start()
    try:
        await eventually(lambda: gauge(registry, "hearth_timer_overdue") == 0)
        await deadlines.insert({"id": "late", "tenant_id": "t1", "due_at": START - 60})
        await eventually(lambda: clock.sleepers == 1)
        clock.advance(10)
        await eventually(lambda: gauge(registry, "hearth_timer_overdue") == 1)
    finally:
        await auditor.stop()


async def test_refuses_collections_that_are_not_timers(store: SqliteStore) -> None:
    plain = await store.collection(CollectionSpec(name="plain"))
    with pytest.raises(ValueError, match="no due field"):
        TimerAuditor([plain], registry=CollectorRegistry())
