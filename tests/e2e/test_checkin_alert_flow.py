"""Missed check-ins, end to end through the gateway with real processes: checkins' durable
deadline fires, alerts raises the alert, notifies the on-call responder through real local
receivers (signed webhooks over HTTP, email over SMTP), escalates along the council's
policy until someone acknowledges, and resolves it by hand or by itself when the resident
checks in late; a paused schedule raises nothing.

Schedules are local HH:MM with whole minutes of grace, so a real deadline falls on a whole
minute: the residents of the three missed-check-in flows (each in its own council) share
one deadline, the first whole minute at least 20 seconds after they are set up, which is
why the three are in one module. Help requests are in test_checkin_help_flow.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from support.care import (
    MailServer,
    WebhookReceiver,
    get_alert,
    get_schedule,
    list_alerts,
    sleep_until,
    timeline_kinds,
    wait_for,
)
from support.checkin_flow import (
    BACKUP_AFTER,
    DELIVER_WITHIN,
    QUIET_MARGIN,
    Missed,
    at_least,
    index_of,
    set_up_missed_flows,
    wait_for_alert,
    webhooks_of,
)
from support.events import read_topics

from hearth_devstack.seed import SeedResult
from hearth_devstack.stack import Stack


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


@pytest.fixture(scope="module")
def missed(
    http: httpx.Client, demo: SeedResult, hooks: WebhookReceiver, mail: MailServer
) -> Missed:
    # `mail` is listening before the deadline, so no email is missed.
    return set_up_missed_flows(http, demo, hooks)


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
