"""Help requests, end to end through the gateway with real processes: a resident asks for
help and alerts tells the on-call responder at once, skipping the policy's waiting steps,
with ids and facts only (the resident's note stays with check-ins).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from support.care import WebhookReceiver, get_alert, put_policy, put_rota, wait_for
from support.checkin_flow import DELIVER_WITHIN, staff_member, staff_target, webhooks_of
from support.councils import new_council

from hearth_devstack.seed import SeedResult


@pytest.fixture(scope="module")
def hooks() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


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
