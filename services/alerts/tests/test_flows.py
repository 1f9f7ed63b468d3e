"""Alert flows through the real service: events in over Kafka, notifications out to real
local receivers (HTTP webhooks, an SMTP server, an SMS provider), staff acting over HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from alerts_testkit import Council, Service, kinds

from hearth_alerts.domain.signing import verify
from hearth_alerts.testing import HttpReceiver
from hearth_contracts.chat import MessageFlagged, SupportUnanswered
from hearth_contracts.identity import CircleMemberAdded, CircleMemberRemoved, UserErasureRequested
from hearth_kit.store import Query

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def to_path(path: str):  # type: ignore[no-untyped-def]
    return lambda request: request.path == path


def signed(council: Council, hook: HttpReceiver, request) -> bool:  # type: ignore[no-untyped-def]
    secret = council.secrets[f"{hook.url}{request.path}"]
    return verify(
        secret,
        request.headers["x-hearth-timestamp"],
        request.body,
        request.headers["x-hearth-signature"],
        now=time.time(),
    )


async def join_circle(council: Council, resident: str, member: str) -> None:
    await council.publish(
        CircleMemberAdded(
            resident_id=resident, member_id=member, relationship="family", consent_by=resident
        ),
        resident,
    )
    await wait_circle(council, resident, lambda members: member in members)


async def wait_circle(council: Council, resident: str, check) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        loaded = await council.service.repos.circles.get(council.tenant_id, resident)
        if check(loaded.value.member_ids() if loaded else []):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("circle projection did not change")


async def test_help_request_goes_to_on_call_at_once(
    council: Council, webhook: HttpReceiver
) -> None:
    await council.put_rota({"primary": ["oc-1"], "backup": ["bk-1"]})
    await council.contacts("oc-1", {"channel": "webhook", "address": f"{webhook.url}/oncall"})
    envelope = await council.help("res-1")

    [request] = await webhook.wait_for(to_path("/oncall"))
    body = request.json()
    assert body["source"] == "help_requested" and body["severity"] == "critical"
    assert body["resident_id"] == "res-1" and body["recipient_id"] == "oc-1"
    assert signed(council, webhook, request)

    alert = await council.wait_alert(lambda a: a["first_notified_at"] is not None)
    assert alert["refs"]["request_id"] == envelope.data["request_id"]
    assert alert["escalation"]["policy"] == "urgent"
    first = alert["steps"][0]
    # The first step fired is the on-call step, planned for the moment it was raised.
    assert first["step"] == 0 and first["recipients"] == ["oc-1"]
    assert first["planned_at"] == alert["raised_at"]


async def test_missed_check_in_escalates_until_acknowledged_then_resolves(
    council: Council, service: Service, webhook: HttpReceiver
) -> None:
    resident, family = "res-2", "fam-2"
    await council.put_rota({"primary": ["oc-2"], "backup": ["bk-2"], "duty_manager": ["dm-2"]})
    await council.policy(
        "quick",
        [
            {"delay_seconds": 0, "targets": [{"type": "resident"}, {"type": "circle"}]},
            {"delay_seconds": 1, "targets": [{"type": "oncall"}]},
            {"delay_seconds": 1, "targets": [{"type": "layer", "layer": "backup"}]},
            {"delay_seconds": 3600, "targets": [{"type": "layer", "layer": "duty_manager"}]},
        ],
    )
    await council.use_policy(checkin_missed="quick")
    await council.register(resident, role="resident")
    await council.register(family, role="family")
    await council.contacts(resident, {"channel": "sms", "address": "+447700900002"})
    await council.contacts(family, {"channel": "email", "address": "fam2@family.example"})
    await council.contacts("oc-2", {"channel": "webhook", "address": f"{webhook.url}/oncall"})
    await council.contacts("bk-2", {"channel": "webhook", "address": f"{webhook.url}/backup"})
    await join_circle(council, resident, family)

    await council.miss(resident, "occ-2")
    # Step 1: the resident is reminded by SMS and their circle is told by email.
    [sms] = await service.sms.wait_for(lambda r: r.json()["to"] == "+447700900002")
    assert sms.headers["x-api-key"] == "sms-test-key"
    [mail] = await service.smtp.wait_for(lambda m: "fam2@family.example" in m.recipients)
    assert b"A check-in was missed" in mail.content
    # Nobody acknowledges: the on-call responder, then the backup, are told.
    [oncall] = await webhook.wait_for(to_path("/oncall"))
    [backup] = await webhook.wait_for(to_path("/backup"))
    assert backup.at >= oncall.at
    assert oncall.json()["step"] == 1 and backup.json()["step"] == 2
    assert signed(council, webhook, oncall) and signed(council, webhook, backup)
    alert_id = backup.json()["alert_id"]

    acknowledged = await council.client.post(
        f"/v1/alerts/{alert_id}/acknowledge",
        json={"note": "calling her now"},
        headers=council.headers("bk-2", "oncall"),
    )
    assert acknowledged.status_code == 200, acknowledged.text
    body = acknowledged.json()
    assert body["status"] == "acknowledged" and body["acknowledged_by"] == "bk-2"
    assert body["escalation"]["next_step"] is None  # escalation stopped
    assert [s["step"] for s in body["steps"]] == [0, 1, 2]
    assert body["steps"][0]["recipients"] == [resident, family]

    again = await council.client.post(
        f"/v1/alerts/{alert_id}/acknowledge", headers=council.headers("oc-2", "oncall")
    )
    assert again.status_code == 409

    resolved = await council.client.post(
        f"/v1/alerts/{alert_id}/resolve",
        json={"outcome": "visited", "note": "fell asleep; fine"},
        headers=council.headers("bk-2", "oncall"),
    )
    assert resolved.status_code == 200, resolved.text
    final = resolved.json()
    assert (final["status"], final["outcome"], final["note"]) == (
        "resolved",
        "visited",
        "fell asleep; fine",
    )
    timeline = kinds(final)
    assert timeline[0] == "raised"
    assert timeline.count("step_fired") == 3
    assert timeline.index("acknowledged") < timeline.index("resolved")
    ack_entry = next(e for e in final["timeline"] if e["kind"] == "acknowledged")
    assert ack_entry["actor"] == "bk-2" and ack_entry["detail"]["note"] == "calling her now"
    assert await council.alerts("open") == []
    assert [a["id"] for a in await council.alerts("resolved")] == [alert_id]


async def test_recovered_check_in_resolves_the_alert_and_sends_all_clear(
    council: Council, webhook: HttpReceiver
) -> None:
    await council.put_rota({"primary": ["oc-3"]})
    await council.register("mgr-3", role="professional")
    await council.policy(
        "oncall-first",
        [
            {"delay_seconds": 0, "targets": [{"type": "oncall"}]},
            {"delay_seconds": 3600, "targets": [{"type": "user", "user_id": "mgr-3"}]},
        ],
    )
    await council.use_policy(checkin_missed="oncall-first")
    await council.contacts("oc-3", {"channel": "webhook", "address": f"{webhook.url}/oncall"})

    await council.miss("res-3", "occ-3")
    [alerted] = await webhook.wait_for(lambda r: r.json()["kind"] == "alert")
    await council.recover("res-3", "occ-3")
    [clear] = await webhook.wait_for(lambda r: r.json()["kind"] == "all_clear")
    assert clear.json()["alert_id"] == alerted.json()["alert_id"]
    assert "All clear" in clear.json()["text"]
    assert signed(council, webhook, clear)

    alert = await council.wait_alert(lambda a: a["status"] == "resolved")
    assert alert["outcome"] == "recovered" and alert["resolved_by"] is None
    assert alert["escalation"]["next_step"] is None
    assert "checkin_recovered" in kinds(alert)


async def test_recovery_before_the_miss_is_handled_raises_nothing(
    council: Council, webhook: HttpReceiver
) -> None:
    await council.put_rota({"primary": ["oc-4"]})
    await council.contacts("oc-4", {"channel": "webhook", "address": f"{webhook.url}/oncall"})
    await council.recover("res-4", "occ-4")
    resolved = await council.wait_alert(lambda a: a["status"] == "resolved")
    late = await council.miss("res-4", "occ-4")
    await council.service.wait_handled(late)
    await council.help("res-4")  # a later, different incident still raises its alert
    [request] = await webhook.wait_for(to_path("/oncall"))
    assert request.json()["source"] == "help_requested"
    assert [r.json()["source"] for r in webhook.received] == ["help_requested"]
    alerts = await council.alerts()
    assert sorted(a["source"] for a in alerts) == ["checkin_missed", "help_requested"]
    assert next(a for a in alerts if a["source"] == "checkin_missed")["id"] == resolved["id"]
    assert sorted(kinds(resolved)) == ["checkin_recovered", "resolved"]
    assert resolved["outcome"] == "recovered" and resolved["steps"] == []


async def test_one_incident_reported_twice_is_one_alert(
    council: Council, service: Service, webhook: HttpReceiver
) -> None:
    await council.put_rota({"primary": ["oc-5"]})
    await council.contacts("oc-5", {"channel": "webhook", "address": f"{webhook.url}/oncall"})
    await council.miss("res-5", "occ-5")
    await council.miss("res-5", "occ-5")  # a different event about the same occurrence
    await council.miss("res-5", "occ-6")  # another occurrence: another alert
    await webhook.wait_for(to_path("/oncall"), count=2)
    missed = [a for a in await council.alerts() if a["source"] == "checkin_missed"]
    assert sorted(a["refs"]["occurrence_id"] for a in missed) == ["occ-5", "occ-6"]
    page = await service.repos.alerts.find(
        council.tenant_id, Query(where={"dedup_key": "checkin_missed:res-5:occ-5"})
    )
    assert len(page[0]) == 1


async def test_a_step_nobody_received_escalates_at_once_after_retries(
    council: Council, service: Service, webhook: HttpReceiver
) -> None:
    webhook.default_status = 503
    await council.put_rota({"primary": ["oc-6"], "backup": ["bk-6"]})
    await council.policy(
        "slow",
        [
            {"delay_seconds": 0, "targets": [{"type": "oncall"}]},
            {"delay_seconds": 3600, "targets": [{"type": "layer", "layer": "backup"}]},
        ],
    )
    await council.use_policy(checkin_missed="slow")
    await council.contacts("oc-6", {"channel": "webhook", "address": f"{webhook.url}/oncall"})
    await council.contacts("bk-6", {"channel": "email", "address": "bk6@council.example"})

    await council.miss("res-6", "occ-6")
    # Three attempts (the service is set to 3) with backoff, then the backup is told
    # long before the hour the policy would otherwise wait.
    attempts = await webhook.wait_for(to_path("/oncall"), count=3)
    assert len({r.headers["x-hearth-notification-id"] for r in attempts}) == 1
    [mail] = await service.smtp.wait_for(lambda m: "bk6@council.example" in m.recipients)
    assert mail.at > attempts[-1].at

    alert = await council.wait_alert(lambda a: len(a["steps"]) == 2)
    timeline = kinds(alert)
    assert timeline.index("notification_failed") < timeline.index("escalating_early")
    failed = next(e for e in alert["timeline"] if e["kind"] == "notification_failed")
    assert failed["detail"]["result"] == "HTTP 503" and failed["detail"]["recipient_id"] == "oc-6"
    stored, _ = await service.repos.notifications.find(
        council.tenant_id, Query(where={"alert_id": alert["id"]}, order_by="created_at")
    )
    oncall = next(n for n in stored if n.recipient_id == "oc-6")
    assert (oncall.status, oncall.attempts, oncall.next_attempt_at) == ("failed", 3, None)


async def test_flagged_messages_and_unanswered_support_raise_alerts_with_council_severity(
    council: Council, webhook: HttpReceiver
) -> None:
    await council.put_rota({"primary": ["oc-7"]})
    await council.register("res-7", role="resident")
    await council.contacts("oc-7", {"channel": "webhook", "address": f"{webhook.url}/oncall"})
    response = await council.client.put(
        "/v1/alerts/settings",
        json={"severities": {"support_unanswered": "high"}},
        headers=council.admin,
    )
    assert response.status_code == 200, response.text
    await council.publish(
        MessageFlagged(
            conversation_id="c-7",
            message_id="m-7",
            author_id="res-7",
            category="self_harm",
            severity="critical",
            matched_phrase="phrase",
        ),
        "res-7",
    )
    await council.publish(
        SupportUnanswered(request_id="s-7", resident_id="res-7", waited_seconds=120), "res-7"
    )
    requests = await webhook.wait_for(to_path("/oncall"), count=2, within=20)
    by_source = {r.json()["source"]: r.json() for r in requests}
    assert by_source["message_flagged"]["severity"] == "critical"
    assert by_source["support_unanswered"]["severity"] == "high"
    flagged = next(a for a in await council.alerts() if a["source"] == "message_flagged")
    assert flagged["resident_id"] == "res-7" and flagged["escalation"]["policy"] == "urgent"
    assert flagged["refs"] == {
        "conversation_id": "c-7",
        "message_id": "m-7",
        "author_id": "res-7",
        "category": "self_harm",
    }


async def test_circle_members_removed_are_no_longer_told(
    council: Council, service: Service
) -> None:
    await council.register("fam-8", "fam-9", role="family")
    await council.contacts("fam-8", {"channel": "email", "address": "fam8@family.example"})
    await council.contacts("fam-9", {"channel": "email", "address": "fam9@family.example"})
    await join_circle(council, "res-8", "fam-8")
    await join_circle(council, "res-8", "fam-9")
    await council.publish(
        CircleMemberRemoved(resident_id="res-8", member_id="fam-8", removed_by="res-8"), "res-8"
    )
    await wait_circle(council, "res-8", lambda members: members == ["fam-9"])
    await council.miss("res-8", "occ-8")
    alert = await council.wait_alert(lambda a: len(a["steps"]) >= 1)
    assert alert["steps"][0]["recipients"] == ["res-8", "fam-9"]  # default: resident + circle
    await service.smtp.wait_for(lambda m: "fam9@family.example" in m.recipients)
    assert not [m for m in service.smtp.messages if "fam8@family.example" in m.recipients]


async def test_live_stream_carries_only_the_councils_own_events(
    council: Council, other_council: Council, service: Service
) -> None:
    await council.put_rota({"primary": ["oc-10"]})
    await council.contacts("oc-10", {"channel": "console"})
    seen: dict[str, list[dict[str, Any]]] = {}

    async def read(who: Council, until: set[str]) -> None:
        headers = who.headers("watcher", "professional")
        events: list[dict[str, Any]] = []
        seen[who.tenant_id] = events
        async with who.client.stream("GET", "/v1/alerts/stream", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if until <= {e["type"] for e in events}:
                        return

    async def connected(who: Council) -> None:
        while service.app.state.hub.count(who.tenant_id) == 0:
            await asyncio.sleep(0.01)

    ours = asyncio.create_task(
        read(council, {"alerts.alert.raised", "alerts.alert.escalated", "alerts.notification.sent"})
    )
    theirs = asyncio.create_task(read(other_council, {"alerts.alert.raised"}))
    await asyncio.wait_for(asyncio.gather(connected(council), connected(other_council)), 10)
    await council.miss("res-10", "occ-10")
    await asyncio.wait_for(ours, 20)
    await other_council.help("res-11")
    await asyncio.wait_for(theirs, 20)

    mine = seen[council.tenant_id]
    sent = next(e["data"] for e in mine if e["type"] == "alerts.notification.sent")
    assert sent["channel"] == "console" and sent["recipient_id"] == "oc-10"
    assert {e["data"]["alert_id"] for e in mine} == {sent["alert_id"]}
    assert {e["subject"] for e in mine} == {"res-10"}
    their_ids = {e["data"]["alert_id"] for e in seen[other_council.tenant_id]}
    assert sent["alert_id"] not in their_ids


async def test_reassigning_tells_the_new_assignee(council: Council, webhook: HttpReceiver) -> None:
    await council.put_rota({"primary": ["oc-12"]})
    await council.register("pro-12", role="professional")
    await council.contacts("oc-12", {"channel": "webhook", "address": f"{webhook.url}/oncall"})
    await council.contacts("pro-12", {"channel": "webhook", "address": f"{webhook.url}/pro"})
    await council.help("res-12")
    [first] = await webhook.wait_for(to_path("/oncall"))
    alert_id = first.json()["alert_id"]
    response = await council.client.post(
        f"/v1/alerts/{alert_id}/reassign",
        json={"user_id": "pro-12", "note": "knows her"},
        headers=council.headers("oc-12", "oncall"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["assignee"] == "pro-12"
    [told] = await webhook.wait_for(to_path("/pro"))
    assert told.json()["kind"] == "assigned" and told.json()["alert_id"] == alert_id
    assert datetime.fromtimestamp(told.at, UTC) >= datetime.fromtimestamp(first.at, UTC)


async def test_erasure_forgets_how_to_reach_the_person(council: Council, service: Service) -> None:
    await council.register("fam-13", role="family")
    await council.contacts("fam-13", {"channel": "email", "address": "fam13@family.example"})
    envelope = await council.publish(
        UserErasureRequested(user_id="fam-13", requested_by="admin-1"), "fam-13"
    )
    await service.wait_handled(envelope)
    assert await service.repos.contacts.get(council.tenant_id, "fam-13") is None
    # Alerts forgot the person too: to the administrator they are nobody now.
    assert await service.repos.directory.person(council.tenant_id, "fam-13") is None
    response = await council.client.get("/v1/users/fam-13/contact-methods", headers=council.admin)
    assert response.status_code == 404, response.text
