"""Roles of alerts within one council, through the gateway, for every route: staff read
and act on alerts, only the administrator configures, contact methods belong to the
person or their administrator, and only staff can be paged as responders. (The routes,
the councils and their people: `support.alerts_tenancy`.)
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.alerts_tenancy import (
    ADMIN,
    POLICY_NAME,
    ROUTES,
    STAFF,
    Route,
    World,
    add_override,
    build_world,
    raise_alert,
    send,
    snapshot,
)
from support.surface import error_of

from hearth_devstack.seed import SeedResult


@pytest.fixture(scope="module")
def world(http: httpx.Client, demo: SeedResult) -> World:
    return build_world(http, demo)


def _refused_cases() -> list[Any]:
    cases = []
    for route in ROUTES:
        for role in ("resident", "family", "carer", "professional", "oncall"):
            # Contact methods are aimed at the on-call's own: only they and the admin may.
            if role == "oncall" and route.who == "self_or_admin":
                continue
            if not route.may(role):
                cases.append(pytest.param(route, role, id=f"{route}-{role}"))
    return cases


@pytest.mark.parametrize(("route", "caller"), _refused_cases())
def test_a_role_that_may_not_act_is_refused(
    http: httpx.Client, world: World, route: Route, caller: str
) -> None:
    before = snapshot(http, world)
    answer = send(http, route, world.on_a(caller))
    assert answer.status == 403, (caller, str(route), answer.text)
    assert answer.error()["code"] == "forbidden"
    assert snapshot(http, world) == before


def test_only_staff_may_receive_webhooks(http: httpx.Client, world: World) -> None:
    resident = world.people["resident"]
    path = f"/v1/users/{resident.id}/contact-methods"
    hook = {"methods": [{"channel": "webhook", "address": "https://care.example.org/hook"}]}
    refused = http.put(path, json=hook, headers=resident.auth)
    assert refused.status_code == 403, refused.text
    assert error_of(refused)["code"] == "forbidden"
    # Nor may the administrator give the resident one: webhooks are for the staff reached.
    by_admin = http.put(path, json=hook, headers=world.a.admin.auth)
    assert by_admin.status_code == 403, by_admin.text
    assert http.get(path, headers=resident.auth).json() == {"methods": []}
    staff = world.people["professional"]
    allowed = http.put(f"/v1/users/{staff.id}/contact-methods", json=hook, headers=staff.auth)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["methods"][0]["secret"], "a webhook gets its signing secret"


@pytest.mark.parametrize("who", ["resident", "family", "carer"])
def test_people_the_council_cares_for_are_never_put_on_call(
    http: httpx.Client, world: World, who: str
) -> None:
    """The rota, an override, a policy's named user and a reassignment name staff only."""
    before = snapshot(http, world)
    calls = world.naming(ADMIN, world.people[who].id, alert=world.standing_alert)
    assert len(calls) == 4
    for route, ctx, field in calls:
        answer = send(http, route, ctx)
        assert answer.status == 422, (who, str(route), answer.text)
        error = answer.error()
        assert error["code"] == "not_a_responder", error
        assert [d["field"] for d in error["details"]] == [field], error
    assert snapshot(http, world) == before
    alert = http.get(f"/v1/alerts/{world.standing_alert}", headers=world.a.admin.auth).json()
    assert "reassigned" not in [entry["kind"] for entry in alert["timeline"]]


def _allowed_cases() -> list[Any]:
    cases = []
    for route in ROUTES:
        if route.who == "self_or_admin":
            callers = ["resident", "family", "carer", "professional", "oncall", ADMIN]
        else:
            callers = [role for role in STAFF if route.may(role)]
        cases.extend(pytest.param(route, c, id=f"{route}-{c}") for c in callers)
    return cases


@pytest.mark.parametrize(("route", "caller"), _allowed_cases())
def test_a_role_that_may_act_succeeds(
    http: httpx.Client, world: World, route: Route, caller: str
) -> None:
    person = world.people[caller]
    alert, override = world.standing_alert, world.standing_override
    if route.method == "POST" and "{alert_id}" in route.path:
        alert = raise_alert(http, world.people["resident"], world.people["professional"])
    if route.method == "DELETE":
        override = add_override(http, world)
    # Contact methods: the admin acts for the on-call, everyone else for themself.
    user = world.people["oncall"].id if caller == ADMIN else person.id
    ctx = world.ctx(caller, alert=alert, override=override, user=user)
    answer = send(http, route, ctx)
    assert answer.status == route.ok, (caller, str(route), answer.text)
    body = answer.json() if answer.text else None
    if route.path.endswith("/acknowledge"):
        assert (body["status"], body["acknowledged_by"]) == ("acknowledged", person.id)
    elif route.path.endswith("/resolve"):
        assert (body["status"], body["resolved_by"]) == ("resolved", person.id)
    elif route.path.endswith("/reassign"):
        assert body["assignee"] == ctx.professional
    elif route.path == "/v1/alerts/{alert_id}":
        assert body["id"] == alert and body["timeline"]
    elif route.key == ("GET", "/v1/alerts"):
        assert world.standing_alert in {a["id"] for a in body["items"]}
    elif route.key == ("GET", "/v1/oncall/now"):
        assert [layer["user_id"] for layer in body["layers"]] == [ctx.oncall]
    elif route.key == ("GET", "/v1/oncall/rota"):
        assert world.standing_override in {o["id"] for o in body["overrides"]}
    elif route.key == ("POST", "/v1/oncall/overrides"):
        assert body["created_by"] == person.id
    elif route.method == "DELETE":
        rota = http.get("/v1/oncall/rota", headers=person.auth).json()
        assert override not in {o["id"] for o in rota["overrides"]}
    elif "{name}" in route.path:
        assert body["name"] == POLICY_NAME and body["built_in"] is False
    elif route.key == ("GET", "/v1/escalation-policies"):
        assert POLICY_NAME in {p["name"] for p in body["items"]}
