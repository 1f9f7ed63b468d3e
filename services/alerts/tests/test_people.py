"""The people a request names, through the real service: only council staff of the
caller's council can be on call, be a policy's named user or take over an alert;
identity is asked about people its events have not told alerts about yet, and when
identity is down the answer is a 503 with nothing written; a deactivated responder is
skipped. (Contact methods: test_http_contacts.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from alerts_testkit import Council, Service, kinds

from hearth_alerts.testing import HttpReceiver
from hearth_contracts.identity import UserDeactivated
from hearth_kit.people import Person

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

DAY = {"length_hours": 24, "handoff_time": "09:00", "start_date": "2026-01-01"}


def rota(*layers: list[str]) -> dict[str, Any]:
    names = ["primary", "backup", "duty_manager"]
    return {
        "timezone": "Europe/London",
        "layers": [{"name": names[i], "users": users, **DAY} for i, users in enumerate(layers)],
    }


def override(user_id: str, with_user_id: str | None = None) -> dict[str, Any]:
    body = {
        "layer": "primary",
        "kind": "cover",
        "user_id": user_id,
        "start": "2030-01-01T00:00:00Z",
        "end": "2030-01-02T00:00:00Z",
    }
    return {**body, "with_user_id": with_user_id} if with_user_id else body


def policy(user_id: str) -> dict[str, Any]:
    return {
        "steps": [
            {"delay_seconds": 0, "targets": [{"type": "oncall"}]},
            {"delay_seconds": 60, "targets": [{"type": "user", "user_id": user_id}]},
        ]
    }


def refusal(response: httpx.Response) -> tuple[int, str, list[str]]:
    error = response.json()["error"]
    return response.status_code, error["code"], [d["field"] for d in error["details"]]


@pytest.fixture
def identity_down(service: Service) -> Iterator[None]:
    service.identity.down = True
    try:
        yield
    finally:
        service.identity.down = False


async def snapshot(council: Council) -> dict[str, Any]:
    """What the administrator reads of the council's set-up (alerts escalate on their
    own meanwhile, so each test looks at its alert's timeline instead)."""
    seen = {}
    for name, path in {"rota": "/v1/oncall/rota", "policies": "/v1/escalation-policies"}.items():
        response = await council.client.get(path, headers=council.admin)
        seen[name] = (response.status_code, response.json())
    return seen


async def test_a_rota_names_only_active_staff_of_the_council(
    council: Council, other_council: Council, service: Service
) -> None:
    await council.register("oc-a", "oc-b")
    await council.register("res-a", role="resident")
    await council.register("fam-a", role="family")
    await council.register("carer-a", role="carer")
    await other_council.register("oc-elsewhere")
    deactivated = await council.publish(
        UserDeactivated(user_id="oc-b", deactivated_by="admin-1"), "oc-b"
    )
    await service.wait_handled(deactivated)
    before = await snapshot(council)
    cases = [
        (rota(["oc-a", "nobody-here"]), "unknown_user", "layers.0.users.1"),
        (rota(["oc-a"], ["oc-elsewhere"]), "unknown_user", "layers.1.users.0"),
        (rota(["res-a"]), "not_a_responder", "layers.0.users.0"),
        (rota(["oc-a"], ["fam-a"]), "not_a_responder", "layers.1.users.0"),
        (rota(["carer-a", "oc-a"]), "not_a_responder", "layers.0.users.0"),
        (rota(["oc-a"], ["oc-b"]), "user_deactivated", "layers.1.users.0"),
    ]
    for body, code, field in cases:
        response = await council.client.put("/v1/oncall/rota", json=body, headers=council.admin)
        assert refusal(response) == (422, code, [field]), (body, response.text)
    assert await snapshot(council) == before
    # Another council's person is answered word for word as a made-up id.
    made_up = await council.client.put(
        "/v1/oncall/rota", json=rota(["nobody-here"]), headers=council.admin
    )
    elsewhere = await council.client.put(
        "/v1/oncall/rota", json=rota(["oc-elsewhere"]), headers=council.admin
    )
    assert made_up.json() == elsewhere.json()
    ok = await council.client.put("/v1/oncall/rota", json=rota(["oc-a"]), headers=council.admin)
    assert ok.status_code == 200, ok.text


async def test_overrides_policies_and_reassignment_name_only_staff(
    council: Council, other_council: Council
) -> None:
    await council.put_rota({"primary": ["oc-1"]})
    await council.register("pro-1", role="professional")
    await council.register("res-1", role="resident")
    await other_council.register("pro-elsewhere", role="professional")
    await council.help("res-1")
    alert = await council.wait_alert()
    before = await snapshot(council)
    refused = [
        ("POST", "/v1/oncall/overrides", override("nobody"), "unknown_user", "user_id"),
        ("POST", "/v1/oncall/overrides", override("res-1"), "not_a_responder", "user_id"),
        ("POST", "/v1/oncall/overrides", override("pro-1", "x-1"), "unknown_user", "with_user_id"),
        (
            "PUT",
            "/v1/escalation-policies/named",
            policy("pro-elsewhere"),
            "unknown_user",
            "steps.1.targets.0.user_id",
        ),
        (
            "PUT",
            "/v1/escalation-policies/named",
            policy("res-1"),
            "not_a_responder",
            "steps.1.targets.0.user_id",
        ),
        ("POST", f"/v1/alerts/{alert['id']}/reassign", {"user_id": "res-1"}, "not_a_responder",
         "user_id"),
        ("POST", f"/v1/alerts/{alert['id']}/reassign", {"user_id": "pro-elsewhere"},
         "unknown_user", "user_id"),
    ]  # fmt: skip
    for method, path, body, code, field in refused:
        response = await council.client.request(method, path, json=body, headers=council.admin)
        assert refusal(response) == (422, code, [field]), (path, body, response.text)
    assert await snapshot(council) == before
    assert "reassigned" not in kinds(await council.alert(alert["id"]))
    accepted = [
        ("POST", "/v1/oncall/overrides", override("pro-1", "oc-1"), 201),
        ("PUT", "/v1/escalation-policies/named", policy("pro-1"), 200),
        ("POST", f"/v1/alerts/{alert['id']}/reassign", {"user_id": "pro-1"}, 200),
    ]
    for method, path, body, status in accepted:
        response = await council.client.request(method, path, json=body, headers=council.admin)
        assert response.status_code == status, (path, response.text)


async def test_another_councils_alert_is_not_found_before_whom_it_names_is_looked_at(
    council: Council, other_council: Council, service: Service
) -> None:
    await council.help("res-2")
    alert = await council.wait_alert()
    calls = len(service.identity.calls)
    response = await other_council.client.post(
        f"/v1/alerts/{alert['id']}/reassign",
        json={"user_id": "anyone"},
        headers=other_council.headers("oc-x", "oncall"),
    )
    assert response.status_code == 404, response.text
    assert len(service.identity.calls) == calls


async def test_identity_is_asked_about_someone_its_events_have_not_brought_yet(
    council: Council, service: Service
) -> None:
    service.identity.users["fresh-1"] = Person("fresh-1", "oncall", active=True)
    try:
        response = await council.client.put(
            "/v1/oncall/rota", json=rota(["fresh-1"]), headers=council.admin
        )
        assert response.status_code == 200, response.text
        assert service.identity.calls.count("user:fresh-1") == 1
        # Remembered: identity is not asked again.
        remembered = await service.repos.directory.person(council.tenant_id, "fresh-1")
        assert remembered == Person("fresh-1", "oncall", active=True)
        again = await council.client.put(
            "/v1/oncall/rota", json=rota(["fresh-1"]), headers=council.admin
        )
        assert again.status_code == 200
        assert service.identity.calls.count("user:fresh-1") == 1
    finally:
        del service.identity.users["fresh-1"]


@pytest.mark.usefixtures("identity_down")
async def test_identity_down_is_a_503_with_a_reason_and_nothing_written(
    council: Council, service: Service
) -> None:
    await council.put_rota({"primary": ["oc-3"]})  # known from events: no need to ask
    await council.help("res-3")
    alert = await council.wait_alert()
    before = await snapshot(council)
    for method, path, body in [
        ("PUT", "/v1/oncall/rota", rota(["oc-3", "unheard-of"])),
        ("POST", "/v1/oncall/overrides", override("unheard-of")),
        ("PUT", "/v1/escalation-policies/named", policy("unheard-of")),
        ("POST", f"/v1/alerts/{alert['id']}/reassign", {"user_id": "unheard-of"}),
        ("PUT", "/v1/users/unheard-of/contact-methods", {"methods": [{"channel": "console"}]}),
        ("GET", "/v1/users/unheard-of/contact-methods", None),
    ]:
        response = await council.client.request(method, path, json=body, headers=council.admin)
        assert response.status_code == 503, (path, response.text)
        assert response.json()["error"]["code"] == "unavailable"
        assert "identity" in response.json()["error"]["message"]
        assert response.headers["retry-after"]
    assert await snapshot(council) == before
    assert "reassigned" not in kinds(await council.alert(alert["id"]))
    assert await service.repos.contacts.get(council.tenant_id, "unheard-of") is None
    # People alerts already knows need no identity.
    still = await council.client.put("/v1/oncall/rota", json=rota(["oc-3"]), headers=council.admin)
    assert still.status_code == 200, still.text


async def test_a_deactivated_responder_is_skipped_and_the_backup_told_at_once(
    council: Council, service: Service, webhook: HttpReceiver
) -> None:
    await council.put_rota({"primary": ["oc-5"], "backup": ["bk-5"]})
    await council.policy(
        "backup-later",
        [
            {"delay_seconds": 0, "targets": [{"type": "oncall"}]},
            {"delay_seconds": 3600, "targets": [{"type": "layer", "layer": "backup"}]},
        ],
    )
    await council.use_policy(checkin_missed="backup-later")
    await council.contacts("oc-5", {"channel": "webhook", "address": f"{webhook.url}/oncall"})
    await council.contacts("bk-5", {"channel": "webhook", "address": f"{webhook.url}/backup"})
    # Identity's event, through Kafka as in production.
    deactivated = await council.publish(
        UserDeactivated(user_id="oc-5", deactivated_by="admin-1"), "oc-5"
    )
    await service.wait_handled(deactivated)

    await council.miss("res-5", "occ-5")
    [told] = await webhook.wait_for(lambda r: r.path == "/backup")
    assert told.json()["step"] == 1
    alert = await council.wait_alert(lambda a: len(a["steps"]) == 2)
    assert [(s["step"], s["recipients"]) for s in alert["steps"]] == [(0, []), (1, ["bk-5"])]
    gaps = next(e for e in alert["timeline"] if e["kind"] == "gaps")
    assert gaps["detail"]["skipped"] == [{"user_id": "oc-5", "reason": "deactivated"}]
    assert "nobody_reachable" in kinds(alert)
    assert [r.path for r in webhook.received] == ["/backup"]
