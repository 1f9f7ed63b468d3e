"""Escalation policies and the alert aggregate: positions, repeats, urgent sources,
acknowledge / reassign / resolve, and escalating early when a step reaches nobody."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hearth_alerts.domain.alert import Alert
from hearth_alerts.domain.errors import Conflict
from hearth_alerts.domain.escalation import (
    CouncilSettings,
    Policy,
    Position,
    Step,
    Target,
    builtin_policy,
)
from hearth_alerts.domain.values import AlertSource

RESIDENT = Target(type="resident")
ONCALL = Target(type="oncall")
BACKUP = Target(type="layer", layer="backup")


def policy(repeat: int = 0) -> Policy:
    return Policy(
        name="p",
        steps=[
            Step(delay_seconds=0, targets=[RESIDENT]),
            Step(delay_seconds=60, targets=[ONCALL]),
            Step(delay_seconds=120, targets=[BACKUP]),
        ],
        repeat=repeat,
        repeat_delay_seconds=300,
    )


def test_policy_walks_its_steps_then_repeats_the_staff_part() -> None:
    p = policy(repeat=1)
    pos = p.start("checkin_missed")
    assert pos == Position(0, 0, 0.0)
    seen = []
    current: Position | None = pos
    while current is not None:
        seen.append((current.step, current.round, current.delay_seconds))
        current = p.after(current)
    assert seen == [(0, 0, 0.0), (1, 0, 60), (2, 0, 120), (1, 1, 300), (2, 1, 120)]


@pytest.mark.parametrize("source", ["help_requested", "message_flagged", "support_unanswered"])
def test_urgent_sources_start_at_the_first_staff_step_at_once(source: AlertSource) -> None:
    assert policy().start(source) == Position(1, 0, 0.0)


def test_a_missed_check_in_reminds_the_resident_first() -> None:
    assert policy().start("checkin_missed") == Position(0, 0, 0.0)


def test_a_council_chooses_its_own_urgent_sources() -> None:
    p = policy()
    custom = p.model_copy(update={"urgent_sources": ["message_flagged"]})
    assert custom.start("help_requested") == Position(0, 0, 0.0)
    assert custom.start("message_flagged") == Position(1, 0, 0.0)
    reminders_first = p.model_copy(update={"urgent_sources": ["help_requested"]})
    assert reminders_first.start("message_flagged") == Position(0, 0, 0.0)
    assert reminders_first.start("support_unanswered") == Position(0, 0, 0.0)
    assert Policy(name="none", steps=p.steps, urgent_sources=[]).start("help_requested") == (
        Position(0, 0, 0.0)
    )


def test_builtin_policies_and_council_settings() -> None:
    default = builtin_policy("default")
    urgent = builtin_policy("urgent")
    assert default is not None and urgent is not None
    assert builtin_policy("other") is None
    assert urgent.steps[0].is_staff
    settings = CouncilSettings()
    assert settings.policy_for("help_requested") == "urgent"
    assert settings.policy_for("message_flagged") == "urgent"
    assert settings.policy_for("support_unanswered") == "urgent"
    assert settings.policy_for("checkin_missed") == "default"
    assert settings.severity_for("checkin_missed") == "high"
    assert settings.severity_for("message_flagged", "critical") == "critical"
    custom = CouncilSettings(
        severities={"message_flagged": "low"},
        policies={"help_requested": "p", "message_flagged": "default"},
    )
    assert custom.severity_for("message_flagged", "critical") == "low"
    assert custom.policy_for("help_requested") == "p"
    assert custom.policy_for("message_flagged") == "default"
    assert custom.policy_for("support_unanswered") == "urgent"


@pytest.mark.parametrize("source", ["help_requested", "message_flagged", "support_unanswered"])
def test_by_default_an_urgent_source_tells_on_call_first_and_never_the_resident(
    source: AlertSource,
) -> None:
    chosen = builtin_policy(CouncilSettings().policy_for(source))
    assert chosen is not None and chosen.name == "urgent"
    alert = new_alert(chosen, source)
    assert alert.pending() == Position(0, 0, 0.0) and alert.fires_now(1000.0)
    first = alert.policy.steps[0]
    assert {t.type for t in first.targets} == {"oncall", "circle"}
    assert all(t.type != "resident" for s in alert.policy.steps for t in s.targets)
    # Under the built-in default policy too, it skips the resident's reminder.
    default = builtin_policy("default")
    assert default is not None
    start = default.start(source)
    assert start == Position(1, 0, 0.0)
    assert [t.type for t in default.steps[start.step].targets] == ["oncall"]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ({"type": "layer"}, "names its layer"),
        ({"type": "user"}, "names its user_id"),
        ({"type": "oncall", "layer": "x"}, "only a layer target"),
        ({"type": "resident", "user_id": "u"}, "only a user target"),
        ({"type": "pager"}, "Input should be"),
    ],
)
def test_invalid_targets_are_refused(target: dict[str, str], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        Target.model_validate(target)


def test_steps_need_targets_and_bounded_delays() -> None:
    with pytest.raises(ValidationError):
        Step(delay_seconds=0, targets=[])
    with pytest.raises(ValidationError):
        Step(delay_seconds=-1, targets=[ONCALL])
    with pytest.raises(ValidationError):
        Step(delay_seconds=10**9, targets=[ONCALL])


def new_alert(p: Policy | None = None, source: AlertSource = "checkin_missed") -> Alert:
    alert, raised = Alert.raise_new(
        alert_id="a1",
        tenant_id="t1",
        dedup_key="k",
        source=source,
        severity="high",
        resident_id="r1",
        refs={},
        policy=p or policy(),
        incident_at=1000.0,
        now=1000.0,
        lease_seconds=10,
    )
    assert raised.alert_id == "a1"
    return alert


def test_a_new_alert_plans_its_first_step_now_with_a_timer_lease() -> None:
    alert = new_alert()
    assert alert.pending() == Position(0, 0, 0.0)
    assert alert.next_planned_at == 1000.0
    assert alert.escalation_due == 1010.0  # the timer retries if the immediate firing dies
    assert alert.fires_now(1000.0)


def test_recording_steps_advances_and_plans_the_next_one() -> None:
    alert = new_alert()
    event = alert.record_step(
        Position(0, 0, 0), recipients=["r1"], notifications=1, now=1000.5, lease_seconds=10
    )
    assert event.step == 0 and event.target_user_ids == ["r1"]
    assert alert.pending() == Position(1, 0, 60)
    assert alert.next_planned_at == alert.escalation_due == 1060.5
    assert not alert.fires_now(1060.0)
    assert alert.notified == ["r1"]


def test_a_step_that_reaches_nobody_is_followed_at_once() -> None:
    alert = new_alert()
    alert.record_step(Position(0, 0, 0), recipients=[], notifications=0, now=1001, lease_seconds=10)
    assert alert.pending() == Position(1, 0, 60)
    assert alert.next_planned_at == 1001
    assert [e.kind for e in alert.timeline][-1] == "nobody_reachable"


def test_policy_exhausted_stops_escalating_but_keeps_the_alert_open() -> None:
    alert = new_alert()
    for step, when in ((0, 1000.0), (1, 1060.0), (2, 1180.0)):
        alert.record_step(
            Position(step, 0, 0), recipients=["x"], notifications=1, now=when, lease_seconds=10
        )
    assert alert.pending() is None and alert.escalation_due is None
    assert alert.status == "open"
    assert alert.timeline[-1].kind == "escalation_exhausted"


def test_final_failure_of_every_notification_escalates_early_once() -> None:
    alert = new_alert()
    alert.record_step(
        Position(0, 0, 0), recipients=["r1"], notifications=2, now=1000, lease_seconds=10
    )
    common = {"step": 0, "round": 0, "recipient_id": "r1", "lease_seconds": 10}
    assert not alert.record_delivery(channel="sms", delivered=False, detail="x", now=1001, **common)
    assert alert.record_delivery(channel="email", delivered=False, detail="y", now=1002, **common)
    assert alert.next_planned_at == 1002 and alert.fires_now(1002)
    assert alert.timeline[-1].kind == "escalating_early"
    assert not alert.record_delivery(
        channel="email", delivered=False, detail="y", now=1003, **common
    )


def test_a_delivered_notification_means_no_early_escalation() -> None:
    alert = new_alert()
    alert.record_step(
        Position(0, 0, 0), recipients=["r1"], notifications=2, now=1000, lease_seconds=10
    )
    common = {"step": 0, "round": 0, "recipient_id": "r1", "lease_seconds": 10}
    assert not alert.record_delivery(channel="sms", delivered=True, detail="ok", now=1001, **common)
    assert not alert.record_delivery(
        channel="email", delivered=False, detail="x", now=1002, **common
    )
    assert alert.first_notified_at == 1001
    assert alert.next_planned_at == 1060


def test_acknowledge_stops_escalation_and_records_who_and_when() -> None:
    alert = new_alert()
    event = alert.acknowledge(by="u9", now=1042.5)
    assert event.seconds_to_acknowledge == 42.5 and event.acknowledged_by == "u9"
    assert alert.status == "acknowledged" and alert.pending() is None
    assert alert.escalation_due is None and alert.assignee == "u9"
    with pytest.raises(Conflict):
        alert.acknowledge(by="u9", now=1043)


def test_reassign_and_resolve() -> None:
    alert = new_alert()
    alert.reassign(to="u2", by="u1", note="closer", now=1001)
    assert alert.assignee == "u2"
    assert alert.pending() is not None  # still escalating until acknowledged
    with pytest.raises(Conflict):
        alert.reassign(to="u2", by="u1", note=None, now=1002)
    event = alert.resolve(outcome="visited", note="all well", by="u2", now=1100)
    assert (event.outcome, event.resolved_by) == ("visited", "u2")
    assert alert.status == "resolved" and alert.pending() is None
    with pytest.raises(Conflict):
        alert.resolve(outcome="false_alarm", note=None, by="u2", now=1101)
    with pytest.raises(Conflict):
        alert.reassign(to="u3", by="u1", note=None, now=1102)
    with pytest.raises(Conflict):
        alert.acknowledge(by="u1", now=1103)


def test_timeline_is_bounded_and_keeps_how_it_started() -> None:
    alert = new_alert()
    for i in range(600):
        alert.record("note", at=1000 + i)
    assert len(alert.timeline) == 500
    assert alert.timeline[0].kind == "raised"
    assert alert.timeline[-1].at == 1599
