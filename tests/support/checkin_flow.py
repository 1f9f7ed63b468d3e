"""The check-in flows of tests/e2e/test_checkin_*_flow.py: staff and where they are told,
the councils of the missed-check-in flows, and reading what alerts did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from hearth_devstack.seed import SeedResult
from support.care import (
    Deadline,
    WebhookReceiver,
    alert_for,
    next_deadline,
    put_contacts,
    put_policy,
    put_rota,
    put_schedule,
    sleep_until,
    wait_for,
)
from support.councils import Council, Person, join_circle, new_council

T = TypeVar("T")
# Escalation in seconds (the policy API takes any delay), so a whole flow takes seconds.
BACKUP_AFTER = 4.0
DUTY_MANAGER_AFTER = 10.0
# From the deadline to the alert and its first notifications (timer, outbox, broker, consumer).
RAISE_WITHIN = 30.0
DELIVER_WITHIN = 15.0
# How long after the step that acknowledging stopped was due we keep watching for it.
QUIET_MARGIN = 3.0


# ---- staff, notifications and timelines ---------------------------------------------------
@dataclass
class Staff:
    """A member of staff and where their notifications arrive."""

    person: Person
    hook: str
    secret: str
    address: str


def staff_member(
    council: Council, hooks: WebhookReceiver, role: str, name: str, *, email: bool = True
) -> Staff:
    person = council.add(role, name=name)
    hook = f"{council.slug}-{name.split()[0].lower()}"
    methods = [{"channel": "webhook", "address": hooks.url(hook)}]
    if email:
        methods.append({"channel": "email", "address": person.email})
    secrets = put_contacts(council, person, methods)
    return Staff(person, hook, secrets[hooks.url(hook)], person.email.lower())


def webhooks_of(hooks: WebhookReceiver, who: Staff) -> list[dict[str, Any]]:
    """Every webhook that reached `who`, each checked for its signature first."""
    found = hooks.received(who.hook)
    for webhook in found:
        assert webhook.signed_with(who.secret), f"bad signature on {webhook}"
        assert webhook.json()["recipient_id"] == who.person.id
    return [w.json() for w in found]


def at_least(count: int, items: list[T]) -> list[T] | None:
    return items if len(items) >= count else None


def staff_target(kind: str, layer: str | None = None) -> dict[str, str]:
    return {"type": kind, "layer": layer} if layer else {"type": kind}


def index_of(alert: dict[str, Any], kind: str, **detail: Any) -> int:
    """Where the first timeline entry of `kind` (with `detail`) is; fails if there is none."""
    for i, entry in enumerate(alert["timeline"]):
        if entry["kind"] == kind and all(entry["detail"].get(k) == v for k, v in detail.items()):
            return i
    raise AssertionError(f"no {kind} {detail} in the timeline: {alert['timeline']}")


# ---- the three missed-check-in flows, set up together to share one deadline -----------------
@dataclass
class Escalation:
    council: Council
    resident: Person
    oncall: Staff
    backup: Staff
    duty_manager: Staff


@dataclass
class Recovery:
    council: Council
    resident: Person
    oncall: Staff
    family: Person
    family_address: str


@dataclass
class Paused:
    council: Council
    paused: Person
    control: Person
    oncall: Staff


@dataclass
class Missed:
    deadline: Deadline
    escalation: Escalation
    recovery: Recovery
    paused: Paused


def escalation_flow(http: httpx.Client, demo: SeedResult, hooks: WebhookReceiver) -> Escalation:
    council = new_council(http, demo, "escalation")
    oncall = staff_member(council, hooks, "oncall", "Olive Oncall")
    backup = staff_member(council, hooks, "oncall", "Barry Backup")
    manager = staff_member(council, hooks, "professional", "Dora Duty", email=False)
    put_rota(
        council,
        {"primary": oncall.person, "backup": backup.person, "duty_manager": manager.person},
    )
    put_policy(
        council,
        [
            (0, [staff_target("oncall")]),
            (BACKUP_AFTER, [staff_target("layer", "backup")]),
            (DUTY_MANAGER_AFTER, [staff_target("layer", "duty_manager")]),
        ],
    )
    return Escalation(council, council.add("resident"), oncall, backup, manager)


def recovery_flow(http: httpx.Client, demo: SeedResult, hooks: WebhookReceiver) -> Recovery:
    council = new_council(http, demo, "recovery")
    oncall = staff_member(council, hooks, "oncall", "Otto Oncall")
    put_rota(council, {"primary": oncall.person})
    put_policy(council, [(0, [staff_target("oncall"), staff_target("circle")])])
    resident = council.add("resident")
    family = join_circle(council, resident)
    # A family member sets how they are told (email; webhooks are for staff).
    put_contacts(council, family, [{"channel": "email", "address": family.email}], by=family)
    return Recovery(council, resident, oncall, family, family.email.lower())


def paused_flow(http: httpx.Client, demo: SeedResult, hooks: WebhookReceiver) -> Paused:
    council = new_council(http, demo, "pause")
    oncall = staff_member(council, hooks, "oncall", "Oona Oncall", email=False)
    put_rota(council, {"primary": oncall.person})
    put_policy(council, [(0, [staff_target("oncall")])])
    return Paused(council, council.add("resident"), council.add("resident"), oncall)


def set_up_missed_flows(http: httpx.Client, demo: SeedResult, hooks: WebhookReceiver) -> Missed:
    """The councils of the three missed-check-in flows, their residents scheduled for one
    deadline, and the holiday that covers the paused resident's occurrence."""
    escalation = escalation_flow(http, demo, hooks)
    recovery = recovery_flow(http, demo, hooks)
    paused = paused_flow(http, demo, hooks)
    deadline = next_deadline(lead_seconds=20)
    for council, resident in (
        (escalation.council, escalation.resident),
        (recovery.council, recovery.resident),
        (paused.council, paused.paused),
        (paused.council, paused.control),
    ):
        put_schedule(council, resident, deadline)
    # A holiday from now for an hour covers the paused resident's occurrence.
    now = datetime.now(UTC)
    pause = http.post(
        f"/v1/residents/{paused.paused.id}/checkin-schedule/pauses",
        json={
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "reason": "holiday",
        },
        headers=paused.council.admin.auth,
    )
    assert pause.status_code == 201, pause.text
    schedule = pause.json()["schedule"]
    assert schedule["next"]["occurrence_id"] != deadline.occurrence_id(paused.paused)
    return Missed(deadline, escalation, recovery, paused)


def wait_for_alert(council: Council, by: Staff, resident: Person, deadline: Deadline) -> str:
    """The id of the alert raised for `resident` once their deadline passed."""
    sleep_until(deadline.epoch)
    alert = wait_for(
        lambda: alert_for(council, by.person, resident),
        within=RAISE_WITHIN,
        what=f"an alert for the missed check-in of {resident.id} in {council.slug}",
    )
    assert alert["source"] == "checkin_missed"
    assert alert["refs"]["occurrence_id"] == deadline.occurrence_id(resident)
    raised = datetime.fromisoformat(alert["raised_at"]).timestamp()
    assert raised >= deadline.epoch, "raised before the deadline passed"
    return str(alert["id"])
