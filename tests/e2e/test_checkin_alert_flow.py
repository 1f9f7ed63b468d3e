"""Missed check-ins and help requests, end to end through the gateway with real processes:
checkins' durable deadline fires, alerts raises the alert, notifies the on-call responder
through real local receivers (signed webhooks over HTTP, email over SMTP), escalates along
the council's policy until someone acknowledges, and resolves it by hand or by itself when
the resident checks in late.

Schedules are local HH:MM with whole minutes of grace, so a real deadline falls on a whole
minute: the residents of the three missed-check-in flows (each in its own council) share
one deadline, the first whole minute at least 20 seconds after they are set up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from support.care import (
    Deadline,
    MailServer,
    WebhookReceiver,
    alert_for,
    get_alert,
    get_schedule,
    list_alerts,
    next_deadline,
    put_contacts,
    put_policy,
    put_rota,
    put_schedule,
    sleep_until,
    timeline_kinds,
    wait_for,
)
from support.councils import Council, Person, join_circle, new_council
from support.events import read_topics

from hearth_devstack.seed import SeedResult
from hearth_devstack.stack import Stack

T = TypeVar("T")
# Escalation in seconds (the policy API takes any delay), so a whole flow takes seconds.
BACKUP_AFTER = 4.0
DUTY_MANAGER_AFTER = 10.0
# From the deadline to the alert and its first notifications (timer, outbox, broker, consumer).
RAISE_WITHIN = 30.0
DELIVER_WITHIN = 15.0
# How long after the step that acknowledging stopped was due we keep watching for it.
QUIET_MARGIN = 3.0


@pytest.fixture(scope="module")
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def hooks() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def mail(stack: Stack) -> Iterator[MailServer]:
    """An SMTP server on the port the stack's alerts service sends email to."""
    server = MailServer(int(stack.env_for("alerts")["ALERTS_SMTP_PORT"])).start()
    yield server
    server.stop()


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


def _escalation(http: httpx.Client, demo: SeedResult, hooks: WebhookReceiver) -> Escalation:
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


def _recovery(http: httpx.Client, demo: SeedResult, hooks: WebhookReceiver) -> Recovery:
    council = new_council(http, demo, "recovery")
    oncall = staff_member(council, hooks, "oncall", "Otto Oncall")
    put_rota(council, {"primary": oncall.person})
    put_policy(council, [(0, [staff_target("oncall"), staff_target("circle")])])
    resident = council.add("resident")
    family = join_circle(council, resident)
    # A family member sets how they are told (email; webhooks are for staff).
    put_contacts(council, family, [{"channel": "email", "address": family.email}], by=family)
    return Recovery(council, resident, oncall, family, family.email.lower())


def _paused(http: httpx.Client, demo: SeedResult, hooks: WebhookReceiver) -> Paused:
    council = new_council(http, demo, "pause")
    oncall = staff_member(council, hooks, "oncall", "Oona Oncall", email=False)
    put_rota(council, {"primary": oncall.person})
    put_policy(council, [(0, [staff_target("oncall")])])
    return Paused(council, council.add("resident"), council.add("resident"), oncall)


@pytest.fixture(scope="module")
def missed(
    http: httpx.Client, demo: SeedResult, hooks: WebhookReceiver, mail: MailServer
) -> Missed:
    escalation = _escalation(http, demo, hooks)
    recovery = _recovery(http, demo, hooks)
    paused = _paused(http, demo, hooks)
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


# ---- tests ------------------------------------------------------------------------------------
def test_help_request_reaches_on_call_at_once(
    http: httpx.Client, demo: SeedResult, hooks: WebhookReceiver
) -> None:
    council = new_council(http, demo, "help")
    oncall = staff_member(council, hooks, "oncall", "Hana Oncall", email=False)
    put_rota(council, {"primary": oncall.person})
    # Help requests follow a policy whose every step waits ten minutes: an urgent source
    # skips to its first staff step at once.
    put_policy(
        council, [(600, [staff_target("resident")]), (600, [staff_target("oncall")])], "slow"
    )
    settings = http.put(
        "/v1/alerts/settings",
        json={"policies": {"help_requested": "slow"}},
        headers=council.admin.auth,
    )
    assert settings.status_code == 200, settings.text
    resident = council.add("resident")

    asked = http.post(
        f"/v1/residents/{resident.id}/help", json={"note": "I have fallen"}, headers=resident.auth
    )
    assert asked.status_code == 202, asked.text
    request_id = asked.json()["request_id"]

    [notified] = wait_for(
        lambda: webhooks_of(hooks, oncall),
        within=DELIVER_WITHIN,
        what="the on-call responder's webhook about the help request",
    )
    assert notified["source"] == "help_requested"
    assert notified["severity"] == "critical"
    assert notified["kind"] == "alert"
    assert notified["resident_id"] == resident.id
    assert notified["step"] == 1  # the staff step, without waiting for the first one
    alert = get_alert(council, oncall.person, notified["alert_id"])
    assert alert["refs"]["request_id"] == request_id
    assert alert["status"] == "open"
    [fired] = alert["steps"]
    assert fired["recipients"] == [oncall.person.id]
    waited = datetime.fromisoformat(fired["fired_at"]) - datetime.fromisoformat(alert["raised_at"])
    assert waited < timedelta(seconds=5)
    # The note stays with check-ins: the notification carries ids and facts only.
    assert "fallen" not in str(notified)


def test_missed_checkin_notifies_escalates_until_acknowledged_then_resolves(
    missed: Missed, hooks: WebhookReceiver, mail: MailServer
) -> None:
    flow = missed.escalation
    council, oncall, backup, manager = flow.council, flow.oncall, flow.backup, flow.duty_manager
    alert_id = wait_for_alert(council, oncall, flow.resident, missed.deadline)

    # The on-call responder is told at once, by signed webhook and by email.
    [first] = wait_for(
        lambda: webhooks_of(hooks, oncall), within=DELIVER_WITHIN, what="on-call's webhook"
    )
    assert (first["alert_id"], first["kind"], first["step"]) == (alert_id, "alert", 0)
    assert first["source"] == "checkin_missed"
    assert first["resident_id"] == flow.resident.id
    # The receiver's check means something: another endpoint's secret does not verify.
    assert not hooks.received(oncall.hook)[0].signed_with(backup.secret)
    [oncall_mail] = wait_for(
        lambda: mail.received(oncall.address), within=DELIVER_WITHIN, what="on-call's email"
    )
    assert oncall_mail.alert_id == alert_id
    assert "alert needs a response" in oncall_mail.subject

    # Nobody acknowledges: the next step tells the backup, by webhook and email.
    [second] = wait_for(
        lambda: webhooks_of(hooks, backup),
        within=BACKUP_AFTER + DELIVER_WITHIN,
        what="the backup's webhook (escalation to step 1)",
    )
    assert (second["alert_id"], second["step"]) == (alert_id, 1)
    wait_for(lambda: mail.received(backup.address), within=DELIVER_WITHIN, what="backup's email")
    before = get_alert(council, oncall.person, alert_id)
    assert before["status"] == "open"
    assert before["escalation"]["next_step"] == 2
    step0, step1 = before["steps"]
    gap = datetime.fromisoformat(step1["fired_at"]) - datetime.fromisoformat(step0["fired_at"])
    assert gap >= timedelta(seconds=BACKUP_AFTER)
    duty_manager_due = datetime.fromisoformat(before["escalation"]["next_at"]).timestamp()

    # On-call acknowledges: the escalation stops.
    acked = council.http.post(
        f"/v1/alerts/{alert_id}/acknowledge",
        json={"note": "On my way"},
        headers=oncall.person.auth,
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_by"] == oncall.person.id
    assert acked.json()["escalation"]["next_step"] is None
    assert time.time() < duty_manager_due, "acknowledged too late to show the escalation stop"
    # Nothing more arrives, even after the duty manager's step would have fired.
    sleep_until(duty_manager_due + QUIET_MARGIN)
    assert webhooks_of(hooks, manager) == []
    assert len(webhooks_of(hooks, oncall)) == 1
    assert len(webhooks_of(hooks, backup)) == 1
    assert len(mail.received(oncall.address)) == 1
    assert len(mail.received(backup.address)) == 1

    resolved = council.http.post(
        f"/v1/alerts/{alert_id}/resolve",
        json={"outcome": "visited", "note": "Resident was asleep; all well"},
        headers=oncall.person.auth,
    )
    assert resolved.status_code == 200, resolved.text
    alert = get_alert(council, oncall.person, alert_id)
    assert alert["status"] == "resolved"
    assert alert["outcome"] == "visited"
    assert alert["resolved_by"] == oncall.person.id
    assert [s["step"] for s in alert["steps"]] == [0, 1]
    assert [(s["recipients"], s["delivered"]) for s in alert["steps"]] == [
        ([oncall.person.id], 2),
        ([backup.person.id], 2),
    ]
    # The timeline tells the whole story, in order.
    raised = index_of(alert, "raised")
    fired0 = index_of(alert, "step_fired", step=0)
    fired1 = index_of(alert, "step_fired", step=1)
    told = {
        (e["detail"]["recipient_id"], e["detail"]["channel"]): i
        for i, e in enumerate(alert["timeline"])
        if e["kind"] == "notification_delivered"
    }
    acknowledged = index_of(alert, "acknowledged")
    closed = index_of(alert, "resolved", outcome="visited")
    assert raised < fired0 < told[(oncall.person.id, "webhook")] < fired1 < acknowledged < closed
    assert fired0 < told[(oncall.person.id, "email")] < acknowledged
    assert fired1 < told[(backup.person.id, "webhook")] < acknowledged
    assert fired1 < told[(backup.person.id, "email")] < acknowledged
    assert alert["timeline"][acknowledged]["actor"] == oncall.person.id
    assert alert["timeline"][acknowledged]["detail"]["note"] == "On my way"
    assert "step_fired" not in timeline_kinds(alert)[acknowledged:]
    # Check-ins keeps its side of the story.
    assert get_schedule(council, flow.resident)["last"]["outcome"] == "missed"


def test_late_checkin_recovers_resolves_and_sends_all_clear(
    missed: Missed, hooks: WebhookReceiver, mail: MailServer, stack: Stack
) -> None:
    flow = missed.recovery
    council, oncall = flow.council, flow.oncall
    alert_id = wait_for_alert(council, oncall, flow.resident, missed.deadline)
    wait_for(lambda: webhooks_of(hooks, oncall), within=DELIVER_WITHIN, what="on-call's webhook")
    [family_alert] = wait_for(
        lambda: mail.received(flow.family_address),
        within=DELIVER_WITHIN,
        what="the circle member's email",
    )
    assert family_alert.alert_id == alert_id

    # The resident checks in late.
    checked = council.http.post(
        f"/v1/residents/{flow.resident.id}/checkins",
        json={"status": "ok", "mood": 4},
        headers=flow.resident.auth,
    )
    assert checked.status_code == 201, checked.text
    checkin = checked.json()
    occurrence = missed.deadline.occurrence_id(flow.resident)
    assert checkin["recovered"] == [occurrence]

    def resolved() -> dict[str, Any] | None:
        alert = get_alert(council, oncall.person, alert_id)
        return alert if alert["status"] == "resolved" else None

    alert = wait_for(
        resolved, within=DELIVER_WITHIN, what="the alert to resolve itself after the check-in"
    )
    assert alert["outcome"] == "recovered"
    assert alert["resolved_by"] is None
    assert index_of(alert, "raised") < index_of(alert, "step_fired", step=0)
    assert index_of(alert, "step_fired", step=0) < index_of(alert, "resolved", outcome="recovered")
    recovered = alert["timeline"][index_of(alert, "checkin_recovered")]
    assert recovered["detail"]["checkin_id"] == checkin["id"]

    # Everyone who was told hears that all is clear.
    webhooks = wait_for(
        lambda: at_least(2, webhooks_of(hooks, oncall)),
        within=DELIVER_WITHIN,
        what="on-call's all-clear webhook",
    )
    assert [(w["alert_id"], w["kind"]) for w in webhooks] == [
        (alert_id, "alert"),
        (alert_id, "all_clear"),
    ]
    for address in (oncall.address, flow.family_address):
        mails = wait_for(
            lambda address=address: at_least(2, mail.received(address)),  # type: ignore[misc]
            within=DELIVER_WITHIN,
            what=f"the all-clear email to {address}",
        )
        assert [m.alert_id for m in mails] == [alert_id, alert_id]
        assert "All clear" in mails[1].subject

    # It went through the broker as checkins.checkin.recovered.
    events = asyncio.run(read_topics(stack.bootstrap_servers, ["checkins.checkin.recovered"]))
    mine = [e for e in events if e["tenant_id"] == council.id]
    assert [(e["subject"], e["data"]["occurrence_id"], e["data"]["checkin_id"]) for e in mine] == [
        (flow.resident.id, occurrence, checkin["id"])
    ]


def test_a_pause_covering_the_occurrence_raises_nothing(
    missed: Missed, hooks: WebhookReceiver, stack: Stack
) -> None:
    flow = missed.paused
    council, oncall = flow.council, flow.oncall
    # The control resident, on the same schedule and deadline, is alerted about...
    alert_id = wait_for_alert(council, oncall, flow.control, missed.deadline)
    wait_for(lambda: webhooks_of(hooks, oncall), within=DELIVER_WITHIN, what="on-call's webhook")
    # ...the paused one is not: check-ins cancelled the occurrence and published no miss.
    assert get_schedule(council, flow.control)["last"]["outcome"] == "missed"
    paused = get_schedule(council, flow.paused)
    assert paused["last"]["outcome"] == "cancelled"
    assert paused["last"]["occurrence_id"] == missed.deadline.occurrence_id(flow.paused)
    events = asyncio.run(read_topics(stack.bootstrap_servers, ["checkins.checkin.missed"]))
    misses = [e["subject"] for e in events if e["tenant_id"] == council.id]
    assert misses == [flow.control.id]
    assert [(a["id"], a["resident_id"]) for a in list_alerts(council, oncall.person)] == [
        (alert_id, flow.control.id)
    ]
    assert {w["alert_id"] for w in webhooks_of(hooks, oncall)} == {alert_id}
