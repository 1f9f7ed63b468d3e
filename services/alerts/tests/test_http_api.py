"""The HTTP API: roles and tenancy on every route, and clear 4xx answers to bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from alerts_testkit import Council

from hearth_alerts.testing import HttpReceiver

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

NOT_STAFF = ("resident", "family", "carer")
ROTA = {
    "timezone": "Europe/London",
    "layers": [
        {
            "name": "primary",
            "users": ["oc-1"],
            "length_hours": 24,
            "handoff_time": "09:00",
            "start_date": "2026-01-01",
        }
    ],
}
POLICY = {"steps": [{"delay_seconds": 0, "targets": [{"type": "oncall"}]}]}
OVERRIDE = {
    "layer": "primary",
    "kind": "cover",
    "user_id": "oc-2",
    "start": "2030-01-01T00:00:00Z",
    "end": "2030-01-02T00:00:00Z",
}


@pytest_asyncio.fixture(loop_scope="session", autouse=True)
async def people(council: Council) -> None:
    """The council's staff the requests below name, as identity's events told alerts."""
    await council.register("oc-1", "oc-2", "zed", role="oncall")
    await council.register("pro-1", role="professional")


@pytest_asyncio.fixture(loop_scope="session")
async def alert_id(council: Council) -> str:
    """An open alert of `council` (a help request nobody is on call for)."""
    await council.help("res-1")
    alert = await council.wait_alert()
    return str(alert["id"])


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def routes(alert: str) -> list[tuple[str, str, Any, str]]:
    """(method, path, body, who may call it: staff or admin)."""
    return [
        ("GET", "/v1/alerts", None, "staff"),
        ("GET", f"/v1/alerts/{alert}", None, "staff"),
        ("GET", "/v1/alerts/settings", None, "staff"),
        ("PUT", "/v1/alerts/settings", {"severities": {"checkin_missed": "low"}}, "admin"),
        ("GET", "/v1/alerts/stream", None, "staff"),
        ("POST", f"/v1/alerts/{alert}/reassign", {"user_id": "pro-1"}, "staff"),
        ("POST", f"/v1/alerts/{alert}/acknowledge", None, "staff"),
        ("POST", f"/v1/alerts/{alert}/resolve", {"outcome": "false_alarm"}, "staff"),
        ("PUT", "/v1/oncall/rota", ROTA, "admin"),
        ("GET", "/v1/oncall/rota", None, "staff"),
        ("POST", "/v1/oncall/overrides", OVERRIDE, "admin"),
        ("DELETE", "/v1/oncall/overrides/nope", None, "admin"),
        ("GET", "/v1/oncall/now", None, "staff"),
        ("GET", "/v1/escalation-policies", None, "staff"),
        ("PUT", "/v1/escalation-policies/quick", POLICY, "admin"),
        ("GET", "/v1/escalation-policies/default", None, "staff"),
    ]


async def call(
    client: httpx.AsyncClient, method: str, path: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    return await client.request(method, path, json=body, headers=headers)


async def test_every_route_needs_a_valid_token(council: Council, alert_id: str) -> None:
    contact_routes = [
        ("GET", "/v1/users/u/contact-methods", None, ""),
        ("PUT", "/v1/users/u/contact-methods", {"methods": []}, ""),
    ]
    for method, path, body, _ in [*routes(alert_id), *contact_routes]:
        missing = await call(council.client, method, path, body, {})
        assert missing.status_code == 401, (method, path, missing.text)
        forged = await call(
            council.client, method, path, body, {"Authorization": "Bearer not.a.token"}
        )
        assert forged.status_code == 401, (method, path)


async def test_residents_and_families_never_reach_alerts_or_rotas(
    council: Council, alert_id: str
) -> None:
    for role in NOT_STAFF:
        headers = council.headers(f"{role}-1", role)
        for method, path, body, _ in routes(alert_id):
            response = await call(council.client, method, path, body, headers)
            assert response.status_code == 403, (role, method, path, response.text)
            assert response.json()["error"]["code"] == "forbidden"


async def test_staff_read_and_act_but_only_administrators_configure(
    council: Council, alert_id: str
) -> None:
    for role in ("oncall", "professional"):
        headers = council.headers(f"{role}-1", role)
        for method, path, body, who in routes(alert_id):
            if who != "admin":
                continue
            response = await call(council.client, method, path, body, headers)
            assert response.status_code == 403, (role, method, path, response.text)
    ok = {
        ("GET", "/v1/alerts"): 200,
        ("GET", f"/v1/alerts/{alert_id}"): 200,
        ("GET", "/v1/alerts/settings"): 200,
        ("GET", "/v1/oncall/now"): 200,
        ("GET", "/v1/escalation-policies"): 200,
        ("GET", "/v1/escalation-policies/default"): 200,
        ("GET", "/v1/oncall/rota"): 404,  # none yet: allowed, and says so
    }
    for (method, path), status in ok.items():
        response = await call(
            council.client, method, path, None, council.headers("p", "professional")
        )
        assert response.status_code == status, (method, path, response.text)
    admin_ok = [
        ("PUT", "/v1/oncall/rota", ROTA, 200),
        ("POST", "/v1/oncall/overrides", OVERRIDE, 201),
        ("PUT", "/v1/escalation-policies/quick", POLICY, 200),
        ("PUT", "/v1/alerts/settings", {"policies": {"checkin_missed": "quick"}}, 200),
    ]
    for method, path, body, status in admin_ok:
        response = await call(council.client, method, path, body, council.admin)
        assert response.status_code == status, (method, path, response.text)
    rota = await council.client.get("/v1/oncall/rota", headers=council.headers("o", "oncall"))
    assert rota.status_code == 200 and len(rota.json()["overrides"]) == 1


async def test_another_councils_alerts_rotas_and_policies_are_invisible(
    council: Council, other_council: Council, alert_id: str
) -> None:
    await council.put_rota({"primary": ["oc-a"]})
    await council.policy("ours", POLICY["steps"])
    staff = other_council.headers("oc-b", "oncall")
    for method, path, body in [
        ("GET", f"/v1/alerts/{alert_id}", None),
        ("POST", f"/v1/alerts/{alert_id}/acknowledge", None),
        ("POST", f"/v1/alerts/{alert_id}/resolve", {"outcome": "false_alarm"}),
        ("POST", f"/v1/alerts/{alert_id}/reassign", {"user_id": "oc-b"}),
        ("GET", "/v1/oncall/rota", None),
        ("GET", "/v1/escalation-policies/ours", None),
    ]:
        response = await call(other_council.client, method, path, body, staff)
        assert response.status_code == 404, (method, path, response.text)
    assert (await other_council.client.get("/v1/alerts", headers=staff)).json()["items"] == []
    now = await other_council.client.get("/v1/oncall/now", headers=staff)
    assert now.json()["layers"] == []
    listed = await other_council.client.get("/v1/escalation-policies", headers=staff)
    assert listed.json()["items"] == []
    # The alert is untouched in its own council.
    assert (await council.alert(alert_id))["status"] == "open"


BAD_INPUT: list[tuple[str, str, Any, int, str]] = [
    ("GET", "/v1/alerts?status=lost", None, 422, "status"),
    ("GET", "/v1/alerts?limit=0", None, 422, "limit"),
    ("GET", "/v1/alerts?cursor=%%%", None, 400, "cursor"),
    ("GET", "/v1/alerts/bad%20id", None, 422, "alert_id"),
    ("GET", "/v1/alerts/0000", None, 404, "alert"),
    ("POST", "/v1/alerts/{alert}/resolve", {"outcome": "recovered"}, 422, "outcome"),
    ("POST", "/v1/alerts/{alert}/resolve", {"outcome": "visited", "note": "x" * 2001}, 422, "note"),
    ("POST", "/v1/alerts/{alert}/resolve", {}, 422, "outcome"),
    ("POST", "/v1/alerts/{alert}/reassign", {"user_id": "no spaces"}, 422, "user_id"),
    ("POST", "/v1/alerts/{alert}/acknowledge", {"extra": 1}, 422, "extra"),
    ("PUT", "/v1/alerts/settings", {"severities": {"checkin_missed": "dire"}}, 422, "severities"),
    ("PUT", "/v1/alerts/settings", {"severities": {"weather": "low"}}, 422, "severities"),
    ("PUT", "/v1/alerts/settings", {"policies": {"checkin_missed": "missing"}}, 422, "policies"),
    ("PUT", "/v1/oncall/rota", {**ROTA, "timezone": "Mars/Base"}, 422, "timezone"),
    (
        "PUT",
        "/v1/oncall/rota",
        {"timezone": "UTC", "layers": [{**ROTA["layers"][0], "length_hours": 7}]},
        422,
        "length_hours",
    ),  # type: ignore[index]
    (
        "PUT",
        "/v1/oncall/rota",
        {"timezone": "UTC", "layers": [ROTA["layers"][0]] * 2},
        422,
        "unique",
    ),  # type: ignore[index]
    ("POST", "/v1/oncall/overrides", {**OVERRIDE, "end": "2029-12-31T00:00:00Z"}, 422, "end"),
    ("POST", "/v1/oncall/overrides", {**OVERRIDE, "start": "2030-01-01T00:00:00"}, 422, "offset"),
    ("POST", "/v1/oncall/overrides", {**OVERRIDE, "layer": "nope"}, 404, "rota"),
    ("POST", "/v1/oncall/overrides", {**OVERRIDE, "kind": "swap"}, 422, "swap"),
    (
        "POST",
        "/v1/oncall/overrides",
        {**OVERRIDE, "start": "2001-01-01T00:00:00Z", "end": "2001-01-02T00:00:00Z"},
        422,
        "ended",
    ),
    ("DELETE", "/v1/oncall/overrides/nope", None, 404, "rota"),
    ("GET", "/v1/oncall/now?at=2026-01-01T10:00:00", None, 422, "offset"),
    ("GET", "/v1/oncall/now?at=yesterday", None, 422, "at"),
    ("PUT", "/v1/escalation-policies/Bad Name", POLICY, 422, "name"),
    ("PUT", "/v1/escalation-policies/p", {"steps": []}, 422, "steps"),
    (
        "PUT",
        "/v1/escalation-policies/p",
        {"steps": [{"delay_seconds": 0, "targets": [{"type": "layer"}]}]},
        422,
        "layer",
    ),
    ("PUT", "/v1/escalation-policies/p", {**POLICY, "repeat": 99}, 422, "repeat"),
    ("GET", "/v1/escalation-policies/unknown", None, 404, "policy"),
    (
        "PUT",
        "/v1/users/u-1/contact-methods",
        {"methods": [{"channel": "sms", "address": "123"}]},
        422,
        "E.164",
    ),
    ("PUT", "/v1/users/u-1/contact-methods", {"methods": "email"}, 422, "methods"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "mention"), BAD_INPUT)
async def test_bad_input_gets_a_clear_4xx(
    council: Council, alert_id: str, method: str, path: str, body: Any, status: int, mention: str
) -> None:
    response = await call(
        council.client, method, path.replace("{alert}", alert_id), body, council.admin
    )
    assert response.status_code == status, response.text
    assert mention.lower() in response.text.lower()
    assert (await council.alert(alert_id))["status"] == "open"  # nothing half-written


async def test_malformed_json_is_400(council: Council, alert_id: str) -> None:
    response = await council.client.post(
        f"/v1/alerts/{alert_id}/resolve",
        content=b"{not json",
        headers={**council.admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


async def test_state_conflicts_are_409(council: Council, alert_id: str) -> None:
    resolve = await council.client.post(
        f"/v1/alerts/{alert_id}/resolve", json={"outcome": "false_alarm"}, headers=council.admin
    )
    assert resolve.status_code == 200
    for path, body in [
        ("acknowledge", None),
        ("resolve", {"outcome": "visited"}),
        ("reassign", {"user_id": "pro-1"}),
    ]:
        response = await council.client.post(
            f"/v1/alerts/{alert_id}/{path}", json=body, headers=council.admin
        )
        assert response.status_code == 409, (path, response.text)
        assert response.json()["error"]["code"] == "conflict"


async def test_who_is_on_call_now_and_at_another_time(council: Council) -> None:
    await council.put_rota({"primary": ["ann", "bob"], "backup": ["cat"]})
    staff = council.headers("o", "oncall")
    at = await council.client.get(
        "/v1/oncall/now", params={"at": "2026-01-02T12:00:00Z"}, headers=staff
    )
    assert at.status_code == 200
    assert [(x["layer"], x["user_id"]) for x in at.json()["layers"]] == [
        ("primary", "bob"),
        ("backup", "cat"),
    ]
    cover = await council.client.post(
        "/v1/oncall/overrides",
        json={**OVERRIDE, "user_id": "zed", "start": soon(-3600), "end": soon(30 * 86400)},
        headers=council.admin,
    )
    assert cover.status_code == 201, cover.text
    now = await council.client.get("/v1/oncall/now", headers=staff)
    primary = now.json()["layers"][0]
    assert (primary["user_id"], primary["via"]) == ("zed", "cover")
    removed = await council.client.delete(
        f"/v1/oncall/overrides/{cover.json()['id']}", headers=council.admin
    )
    assert removed.status_code == 204
    after = await council.client.get("/v1/oncall/now", headers=staff)
    assert after.json()["layers"][0]["via"] == "rota"


async def test_policies_builtin_and_stored(council: Council) -> None:
    staff = council.headers("o", "oncall")
    builtin = await council.client.get("/v1/escalation-policies/urgent", headers=staff)
    assert builtin.status_code == 200 and builtin.json()["built_in"] is True
    urgent = ["help_requested", "message_flagged", "support_unanswered"]
    assert builtin.json()["urgent_sources"] == urgent
    await council.policy("default", POLICY["steps"], repeat=1)
    stored = await council.client.get("/v1/escalation-policies/default", headers=staff)
    assert stored.json()["built_in"] is False and stored.json()["repeat"] == 1
    assert stored.json()["urgent_sources"] == urgent  # unless the council says otherwise
    await council.policy("gentle", POLICY["steps"], urgent_sources=["help_requested"])
    gentle = await council.client.get("/v1/escalation-policies/gentle", headers=staff)
    assert gentle.json()["urgent_sources"] == ["help_requested"]
    listed = await council.client.get("/v1/escalation-policies", headers=staff)
    assert [p["name"] for p in listed.json()["items"]] == ["default", "gentle"]


async def test_metrics_count_alerts_acknowledgements_and_notifications_per_council(
    council: Council, webhook: HttpReceiver
) -> None:
    await council.put_rota({"primary": ["oc-m"]})
    await council.contacts("oc-m", {"channel": "webhook", "address": f"{webhook.url}/m"})
    await council.help("res-m")
    [request] = await webhook.wait_for(lambda r: r.path == "/m")
    alert_id = request.json()["alert_id"]
    await council.wait_alert(lambda a: a["first_notified_at"] is not None)
    acknowledged = await council.client.post(
        f"/v1/alerts/{alert_id}/acknowledge", headers=council.headers("oc-m", "oncall")
    )
    assert acknowledged.status_code == 200
    resolved = await council.client.post(
        f"/v1/alerts/{alert_id}/resolve", json={"outcome": "resident_fine"}, headers=council.admin
    )
    assert resolved.status_code == 200
    text = (await council.client.get("/metrics")).text
    tenant = f'tenant="{council.tenant_id}"'

    def value(name: str, *labels: str) -> float:
        for line in text.splitlines():
            if line.startswith(name + "{") and all(label in line for label in (tenant, *labels)):
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"{name} {labels} not exported for the council")

    assert (
        value("hearth_alerts_raised_total", 'source="help_requested"', 'severity="critical"') == 1
    )
    assert value("hearth_alerts_time_to_acknowledge_seconds_count", 'source="help_requested"') == 1
    assert value("hearth_alerts_time_to_acknowledge_seconds_bucket", 'le="180.0"') == 1
    assert value("hearth_alerts_acknowledged_within_total", 'window="180s"') == 1
    assert value("hearth_alerts_time_to_resolve_seconds_count", 'outcome="resident_fine"') == 1
    assert (
        value("hearth_alerts_notifications_total", 'channel="webhook"', 'outcome="delivered"') == 1
    )
    assert value("hearth_alerts_first_notification_seconds_count") == 1
