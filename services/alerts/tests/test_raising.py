"""Raising alerts from chat's events, on a real SQLite store with a controlled clock: a
flagged message and a support request nobody answered go to on-call at once by default;
a flagged message names a resident only when a resident wrote it; an alert about nobody
in particular still escalates, skipping the steps meant for a resident and their circle."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from alerts_testkit import TENANT, World, handlers_world, register

from hearth_alerts.adapters.repositories import SETTINGS_ID
from hearth_alerts.domain.alert import Alert
from hearth_alerts.domain.escalation import CouncilSettings, Policy, Step, Target
from hearth_alerts.handlers.context import AlertsDeps
from hearth_alerts.handlers.escalation import fire_step
from hearth_alerts.handlers.raising import on_message_flagged, on_support_unanswered
from hearth_contracts import new_envelope
from hearth_contracts.chat import MessageFlagged, SupportUnanswered
from hearth_kit.store import Query

RESIDENT = "r-1"
FAMILY = "f-1"


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    # The resident and their daughter can be reached too: nothing must reach them first.
    async with handlers_world(tmp_path, RESIDENT, FAMILY) as found:
        await register(found[0], "resident", RESIDENT)
        await register(found[0], "family", FAMILY)
        yield found


async def flagged(deps: AlertsDeps, author_id: str) -> Alert:
    data = MessageFlagged(
        conversation_id="c-1",
        message_id=uuid.uuid4().hex,
        author_id=author_id,
        category="self_harm",
        severity="critical",
        matched_phrase="phrase",
    )
    envelope = new_envelope(data, tenant_id=TENANT, subject=author_id, producer="chat")
    await on_message_flagged(data, envelope, deps=deps)
    return await raised(deps, f"message_flagged:{data.message_id}")


async def unanswered(deps: AlertsDeps) -> Alert:
    data = SupportUnanswered(request_id=uuid.uuid4().hex, resident_id=RESIDENT, waited_seconds=90)
    envelope = new_envelope(data, tenant_id=TENANT, subject=RESIDENT, producer="chat")
    await on_support_unanswered(data, envelope, deps=deps)
    return await raised(deps, f"support_unanswered:{data.request_id}")


async def raised(deps: AlertsDeps, key: str) -> Alert:
    """The incident's alert once its immediate step and that step's deliveries are done."""
    await deps.background.drain()  # the first step
    await deps.background.drain()  # its deliveries
    [found], _ = await deps.repos.alerts.find(TENANT, Query(where={"dedup_key": key}))
    loaded = await deps.repos.alerts.get(TENANT, found.id)
    assert loaded is not None
    return loaded.value


def gaps(alert: Alert) -> list[dict[str, Any]]:
    return [e.detail for e in alert.timeline if e.kind == "gaps"]


async def council_chooses_reminders_first(deps: AlertsDeps) -> None:
    """A council whose flagged messages remind the resident and their circle first, and
    call on-call ten minutes later."""
    gentle = Policy(
        name="gentle",
        steps=[
            Step(delay_seconds=0, targets=[Target(type="resident"), Target(type="circle")]),
            Step(delay_seconds=600, targets=[Target(type="oncall")]),
        ],
        urgent_sources=["help_requested"],
    )
    await deps.repos.policies.insert(TENANT, gentle.name, gentle)
    settings = CouncilSettings(policies={"message_flagged": gentle.name})
    await deps.repos.settings.insert(TENANT, SETTINGS_ID, settings)


# ---- on-call at once, by default ------------------------------------------------------------
@pytest.mark.parametrize("source", ["message_flagged", "support_unanswered"])
async def test_by_default_on_call_is_told_at_once_and_nobody_before(
    world: World, source: str
) -> None:
    deps, receiver, clock = world
    if source == "message_flagged":
        alert = await flagged(deps, RESIDENT)
    else:
        alert = await unanswered(deps)
    assert alert.policy.name == "urgent"
    assert alert.resident_id == RESIDENT
    # The clock has not moved: the on-call step fired as the alert was raised, and it
    # was the first step: no reminder to the resident or their circle came before it.
    assert [(s.step, s.recipients, s.fired_at) for s in alert.steps] == [(0, ["oc"], clock.now())]
    assert alert.steps[0].planned_at == alert.raised_at
    assert [r.path for r in receiver.received] == ["/oc"]
    assert receiver.received[0].json()["source"] == source
    assert RESIDENT not in alert.notified and alert.first_notified_at == clock.now()


async def test_a_flagged_message_by_a_resident_names_them_and_keeps_the_author(
    world: World,
) -> None:
    deps, _, _ = world
    alert = await flagged(deps, RESIDENT)
    assert alert.resident_id == RESIDENT
    assert alert.refs["author_id"] == RESIDENT
    assert alert.refs["category"] == "self_harm"


@pytest.mark.parametrize("author", [FAMILY, "oc", "stranger-1"], ids=["family", "staff", "unknown"])
async def test_a_flagged_message_by_anyone_else_names_no_resident(
    world: World, author: str
) -> None:
    deps, receiver, _ = world
    alert = await flagged(deps, author)
    assert alert.resident_id is None
    assert alert.refs["author_id"] == author
    # On-call is still told at once; the circle of no resident names nobody.
    assert [(s.step, s.recipients) for s in alert.steps] == [(0, ["oc"])]
    assert gaps(alert) == [{"unfilled": ["circle"], "skipped": [], "unreachable": []}]
    assert [r.path for r in receiver.received] == ["/oc"]
    assert receiver.received[0].json()["resident_id"] is None


# ---- a council's own choice -----------------------------------------------------------------
async def test_a_council_can_still_remind_the_resident_first(world: World) -> None:
    deps, receiver, clock = world
    await council_chooses_reminders_first(deps)
    alert = await flagged(deps, RESIDENT)
    assert alert.policy.name == "gentle"
    assert [r.path for r in receiver.received] == [f"/{RESIDENT}"]
    assert alert.next_step == 1 and alert.next_planned_at == clock.now() + 600
    clock.advance(600)
    assert await fire_step(TENANT, alert.id, deps=deps) == 1
    await deps.background.drain()
    assert [r.path for r in receiver.received] == [f"/{RESIDENT}", "/oc"]
    # Support requests nobody answered still follow the built-in urgent policy.
    support = await unanswered(deps)
    assert support.policy.name == "urgent" and support.steps[0].recipients == ["oc"]


async def test_without_a_resident_the_reminder_step_is_skipped_and_on_call_told_at_once(
    world: World,
) -> None:
    deps, receiver, clock = world
    await council_chooses_reminders_first(deps)
    alert = await flagged(deps, FAMILY)
    assert alert.resident_id is None and alert.status == "open"
    # The first step named nobody: it is on the timeline, and the next step (ten minutes
    # later in the policy) fired at once instead of the alert waiting or failing.
    assert [(s.step, s.recipients, s.fired_at) for s in alert.steps] == [
        (0, [], clock.now()),
        (1, ["oc"], clock.now()),
    ]
    assert gaps(alert)[0] == {"unfilled": ["resident", "circle"], "skipped": [], "unreachable": []}
    kinds = [e.kind for e in alert.timeline]
    assert kinds.index("nobody_reachable") < kinds.index("notification_delivered")
    assert [r.path for r in receiver.received] == ["/oc"]
