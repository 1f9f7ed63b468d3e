"""Chat's alerts through the real service (events in over Kafka, webhooks and SMS out):
a flagged message and a support request nobody answered call on-call at once, without
reminding the resident first; a flagged message by someone else names no resident."""

from __future__ import annotations

from typing import Any

import pytest
from alerts_testkit import Council, Service, kinds

from hearth_alerts.testing import HttpReceiver
from hearth_contracts.chat import MessageFlagged, SupportUnanswered

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def flagged_message(message_id: str, author_id: str) -> MessageFlagged:
    return MessageFlagged(
        conversation_id=f"c-{message_id}",
        message_id=message_id,
        author_id=author_id,
        category="falls_medical",
        severity="critical",
        matched_phrase="phrase",
    )


async def alert_of(council: Council, source: str) -> dict[str, Any]:
    return await council.wait_alert(lambda a: a["source"] == source and len(a["steps"]) >= 1)


async def test_a_flagged_message_and_unanswered_support_call_on_call_at_once(
    council: Council, service: Service, webhook: HttpReceiver
) -> None:
    resident, phone = "res-20", "+447700900020"
    await council.put_rota({"primary": ["oc-20"], "backup": ["bk-20"]})
    await council.register(resident, role="resident")
    await council.contacts("oc-20", {"channel": "webhook", "address": f"{webhook.url}/oc-20"})
    await council.contacts(resident, {"channel": "sms", "address": phone})
    await council.publish(flagged_message("m-20", resident), resident)
    await council.publish(
        SupportUnanswered(request_id="s-20", resident_id=resident, waited_seconds=90), resident
    )

    requests = await webhook.wait_for(lambda r: r.path == "/oc-20", count=2, within=20)
    assert sorted(r.json()["source"] for r in requests) == ["message_flagged", "support_unanswered"]
    assert all(r.json()["step"] == 0 and r.json()["resident_id"] == resident for r in requests)
    for source in ("message_flagged", "support_unanswered"):
        alert = await alert_of(council, source)
        assert alert["escalation"]["policy"] == "urgent"
        # On-call was the first step, fired as the alert was raised; the resident was not
        # reminded first (nor at all: the urgent policy is for staff and the circle).
        first = alert["steps"][0]
        assert (first["step"], first["recipients"]) == (0, ["oc-20"])
        assert first["planned_at"] == alert["raised_at"]
        assert resident not in alert["notified"]
        # The next step is the backup, minutes away, not a reminder.
        assert alert["escalation"]["next_step"] == 1
    assert not [r for r in service.sms.received if r.json()["to"] == phone]


async def test_a_flagged_message_by_family_names_no_resident_but_still_escalates(
    council: Council, webhook: HttpReceiver
) -> None:
    await council.put_rota({"primary": ["oc-21"]})
    await council.register("fam-21", role="family")
    await council.contacts("oc-21", {"channel": "webhook", "address": f"{webhook.url}/oc-21"})
    await council.publish(flagged_message("m-21", "fam-21"), "fam-21")

    [request] = await webhook.wait_for(lambda r: r.path == "/oc-21", within=20)
    assert request.json()["source"] == "message_flagged"
    assert request.json()["resident_id"] is None
    alert = await alert_of(council, "message_flagged")
    assert alert["resident_id"] is None
    assert alert["refs"]["author_id"] == "fam-21"
    assert alert["steps"][0]["recipients"] == ["oc-21"]
    # No resident, so no circle: that target is skipped and said so on the timeline.
    gaps = next(e for e in alert["timeline"] if e["kind"] == "gaps")
    assert gaps["detail"]["unfilled"] == ["circle"]
    assert "nobody_reachable" not in kinds(alert)
