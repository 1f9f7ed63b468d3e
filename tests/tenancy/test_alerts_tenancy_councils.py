"""Alerts from another council, through the gateway, for every route: everything is
scoped by the caller's council. Another council's alert, override or person is answered
exactly as a made-up one is (404, or 422 for a person a body names), lists, views and
the live stream never hold this council's things, and nothing another council sends
changes them. (The routes, the councils and their people: `support.alerts_tenancy`.)

Every route of alerts in the gateway's OpenAPI document must have a row in ROUTES.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from support.alerts_tenancy import (
    POLICY_NAME,
    ROUTES,
    Route,
    World,
    alerts_of,
    build_world,
    raise_alert,
    send,
    snapshot,
)
from support.surface import StreamReader, missing_rows, owned_operations, wait_for

from hearth_devstack.seed import SeedResult


@pytest.fixture(scope="module")
def world(http: httpx.Client, demo: SeedResult) -> World:
    return build_world(http, demo)


def test_every_alerts_route_has_a_row(http: httpx.Client) -> None:
    undocumented, stale = missing_rows(owned_operations(http, "alerts"), [r.key for r in ROUTES])
    assert undocumented == [], f"alerts routes without a row in ROUTES: {undocumented}"
    assert stale == [], f"rows for routes the gateway no longer documents: {stale}"


OTHER_COUNCIL = {
    "b_admin": "council_admin",
    "b_professional": "professional",
    "b_oncall": "oncall",
    "b_resident": "resident",
    "b_family": "family",
}


def _expected_from_another_council(route: Route, role: str) -> int:
    if not route.may(role):
        return 403  # the role may not use the route in any council
    if "{alert_id}" in route.path or "{override_id}" in route.path:
        return 404  # never found in the caller's council
    if route.who == "self_or_admin":
        return 404  # the administrator's council has nobody of that id
    return route.ok  # the caller acts on their own council


@pytest.mark.parametrize("caller", list(OTHER_COUNCIL))
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_another_council_learns_nothing_and_changes_nothing(
    http: httpx.Client, world: World, route: Route, caller: str
) -> None:
    before = snapshot(http, world)
    real = send(http, route, world.on_a(caller))
    made_up = send(http, route, world.made_up(caller))
    expected = _expected_from_another_council(route, OTHER_COUNCIL[caller])
    assert real.status == expected, (caller, str(route), real.status, real.text)
    # Council A's things are answered exactly as made-up ones are.
    assert real.status == made_up.status, (real.text, made_up.text)
    if real.status >= 400:
        assert real.error()["code"] == made_up.error()["code"]
    if real.status in (403, 404):
        assert real.json() == made_up.json()
    leaked = {marker for marker in world.markers() if marker in real.text}
    assert leaked == set(), f"{caller}, {route}: the answer holds council A's {leaked}"
    assert snapshot(http, world) == before


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_another_councils_admin_is_refused_someone_elses_contact_methods(
    http: httpx.Client, world: World, method: str
) -> None:
    route = next(r for r in ROUTES if r.key == (method, "/v1/users/{user_id}/contact-methods"))
    before = snapshot(http, world)
    answer = send(http, route, world.on_a("b_admin"))
    assert answer.status == 404, answer.text
    assert answer.error()["code"] == "user_not_found"
    assert answer.json() == send(http, route, world.made_up("b_admin")).json()
    assert snapshot(http, world) == before


def _b_setup(http: httpx.Client, world: World) -> dict[str, object]:
    """Council B's rota and policy as its administrator reads them, and its alert."""
    auth = world.people["b_admin"].auth
    seen: dict[str, object] = {}
    for name, path in {
        "rota": "/v1/oncall/rota",
        "policy": f"/v1/escalation-policies/{POLICY_NAME}",
    }.items():
        response = http.get(path, headers=auth)
        assert response.status_code == 200, response.text
        seen[name] = response.json()
    alert = http.get(f"/v1/alerts/{world.b_alert}", headers=auth).json()
    seen["alert"] = (alert["assignee"], [e["kind"] for e in alert["timeline"]].count("reassigned"))
    return seen


@pytest.mark.parametrize("who", ["oncall", "professional", "council_admin"])
def test_another_councils_staff_cannot_be_put_on_call(
    http: httpx.Client, world: World, who: str
) -> None:
    """B's administrator naming A's staff in B's rota, override or policy, or giving B's
    alert to them, is refused as for a made-up id, and B's set-up stays as it was."""
    before = _b_setup(http, world)
    a_person = world.people[who].id
    calls = world.naming("b_admin", a_person, alert=world.b_alert)
    ghosts = world.naming("b_admin", uuid.uuid4().hex, alert=world.b_alert)
    assert len(calls) == 4
    for (route, ctx, field), (_, ghost, _) in zip(calls, ghosts, strict=True):
        real = send(http, route, ctx)
        assert real.status == 422, (str(route), real.text)
        error = real.error()
        assert error["code"] == "unknown_user", error
        assert [d["field"] for d in error["details"]] == [field], error
        assert real.json() == send(http, route, ghost).json()
        assert a_person not in real.text
    assert _b_setup(http, world) == before


def test_lists_only_ever_show_the_callers_council(http: httpx.Client, world: World) -> None:
    a_alerts = {x["id"] for x in alerts_of(http, world.people["professional"])}
    b_alerts = {x["id"] for x in alerts_of(http, world.people["b_professional"])}
    assert world.standing_alert in a_alerts and b_alerts, "each council sees its own alerts"
    assert a_alerts.isdisjoint(b_alerts)
    b_staff = world.people["b_oncall"].auth
    b_policy = http.get(f"/v1/escalation-policies/{POLICY_NAME}", headers=b_staff).json()
    targets = [t for step in b_policy["steps"] for t in step["targets"]]
    assert {"type": "user", "layer": None, "user_id": world.people["b_professional"].id} in targets
    b_now = http.get("/v1/oncall/now", headers=b_staff).json()
    assert [layer["user_id"] for layer in b_now["layers"]] == [world.people["b_oncall"].id]


def test_the_live_stream_carries_only_the_callers_council(http: httpx.Client, world: World) -> None:
    base = str(http.base_url)
    a_stream = StreamReader(base, world.people["oncall"].auth).start()
    b_stream = StreamReader(base, world.people["b_oncall"].auth).start()
    try:
        assert a_stream.status == b_stream.status == 200
        a_alert = raise_alert(http, world.people["resident"], world.people["professional"])
        b_alert = raise_alert(http, world.people["b_resident"], world.people["b_professional"])

        def raised(stream: StreamReader, alert_id: str) -> bool:
            return any(
                e.get("type") == "alerts.alert.raised" and e["data"]["alert_id"] == alert_id
                for e in list(stream.events)
            )

        wait_for(lambda: raised(a_stream, a_alert), within=15, what="A's alert on A's stream")
        wait_for(lambda: raised(b_stream, b_alert), within=15, what="B's alert on B's stream")
    finally:
        a_stream.stop()
        b_stream.stop()
    seen_by_b = "\n".join(b_stream.lines)
    leaked = {marker for marker in world.markers() | {a_alert} if marker in seen_by_b}
    assert leaked == set(), f"council B's stream carried council A's {leaked}"
