"""The world of the alerts tenancy suites (test_alerts_tenancy_*): every alerts route as
a row (who may call it, what it answers), two councils with their people, a rota, a
policy, an override and an alert each, and the calls and views the suites share.

Alerts' policy, as its routes declare it:
- staff of a council (professional, on-call, council administrator) see and act on the
  council's alerts, read its rota, who is on call, its policies and alert settings, and
  watch the live stream; residents, family and carers may not (403);
- only the council administrator changes the rota, its overrides, policies and settings;
- a person's contact methods are read and replaced by that person or the administrator
  (webhooks are for staff only);
- whoever a rota, an override, a policy or a reassignment names is staff of the caller's
  council; another council's person is answered exactly as a made-up id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hearth_devstack.seed import SeedResult
from support.councils import Council, Person, join_circle, new_council
from support.surface import error_of, wait_for

STAFF = ("professional", "oncall", "council_admin")
ADMIN = "council_admin"
POLICY_NAME = "night-cover"
STREAM = "/v1/alerts/stream"


@dataclass(frozen=True)
class Ctx:
    """One call: the ids in its path, who calls, and staff of the caller's own council
    (bodies only ever name people of the caller's council)."""

    caller: Person
    oncall: str
    professional: str
    alert: str = ""
    override: str = ""
    user: str = ""
    policy: str = POLICY_NAME


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the OpenAPI document
    who: str  # staff, admin or self_or_admin
    ok: int
    body: Callable[[Ctx], dict[str, Any] | None] = lambda ctx: None

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def url(self, ctx: Ctx) -> str:
        return self.path.format(
            alert_id=ctx.alert, override_id=ctx.override, user_id=ctx.user, name=ctx.policy
        )

    def may(self, role: str) -> bool:
        """May someone of `role` use the route (on someone else, for contact methods)?"""
        return role in STAFF if self.who == "staff" else role == ADMIN

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def rota_body(ctx: Ctx) -> dict[str, Any]:
    layer = {
        "name": "primary",
        "users": [ctx.oncall],
        "length_hours": 24,
        "handoff_time": "09:00",
        "start_date": "2026-01-05",
    }
    return {"timezone": "Europe/London", "layers": [layer]}


def override_body(ctx: Ctx) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    return {
        "layer": "primary",
        "kind": "cover",
        "user_id": ctx.professional,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=8)).isoformat(),
    }


def policy_body(ctx: Ctx) -> dict[str, Any]:
    return {
        "steps": [
            {"delay_seconds": 0, "targets": [{"type": "oncall"}]},
            {"delay_seconds": 600, "targets": [{"type": "user", "user_id": ctx.professional}]},
        ],
        "repeat": 2,
    }


def settings_body(ctx: Ctx) -> dict[str, Any]:
    return {"severities": {"support_unanswered": "high"}, "policies": {}}


ROUTES = (
    Route("GET", "/v1/alerts", "staff", 200),
    Route("GET", "/v1/alerts/settings", "staff", 200),
    Route("PUT", "/v1/alerts/settings", "admin", 200, settings_body),
    Route("GET", STREAM, "staff", 200),
    Route("GET", "/v1/alerts/{alert_id}", "staff", 200),
    Route("POST", "/v1/alerts/{alert_id}/acknowledge", "staff", 200, lambda c: {"note": "On it"}),
    Route(
        "POST",
        "/v1/alerts/{alert_id}/reassign",
        "staff",
        200,
        lambda ctx: {"user_id": ctx.professional, "note": "Yours, please"},
    ),
    Route(
        "POST",
        "/v1/alerts/{alert_id}/resolve",
        "staff",
        200,
        lambda ctx: {"outcome": "resident_fine", "note": "Spoke to her"},
    ),
    Route("GET", "/v1/escalation-policies", "staff", 200),
    Route("GET", "/v1/escalation-policies/{name}", "staff", 200),
    Route("PUT", "/v1/escalation-policies/{name}", "admin", 200, policy_body),
    Route("GET", "/v1/oncall/now", "staff", 200),
    Route("GET", "/v1/oncall/rota", "staff", 200),
    Route("PUT", "/v1/oncall/rota", "admin", 200, rota_body),
    Route("POST", "/v1/oncall/overrides", "admin", 201, override_body),
    Route("DELETE", "/v1/oncall/overrides/{override_id}", "admin", 204),
    Route("GET", "/v1/users/{user_id}/contact-methods", "self_or_admin", 200),
    Route(
        "PUT",
        "/v1/users/{user_id}/contact-methods",
        "self_or_admin",
        200,
        lambda ctx: {"methods": [{"channel": "console"}]},
    ),
)

# Routes whose bodies name someone to page, and the field that names them.
NAMING = {
    ("PUT", "/v1/oncall/rota"): "layers.0.users.0",
    ("POST", "/v1/oncall/overrides"): "user_id",
    ("PUT", "/v1/escalation-policies/{name}"): "steps.1.targets.0.user_id",
    ("POST", "/v1/alerts/{alert_id}/reassign"): "user_id",
}


@dataclass
class World:
    """Two councils and their people; what council A holds must stay A's."""

    a: Council
    b: Council
    people: dict[str, Person]
    standing_alert: str = ""
    standing_override: str = ""
    b_alert: str = ""

    def ctx(self, caller: str, **ids: str) -> Ctx:
        """A call by `caller`; bodies name staff of the caller's own council."""
        prefix = "b_" if caller.startswith("b_") else ""
        return Ctx(
            caller=self.people[caller],
            oncall=self.people[f"{prefix}oncall"].id,
            professional=self.people[f"{prefix}professional"].id,
            **ids,
        )

    def on_a(self, caller: str) -> Ctx:
        """A call aimed at council A's things."""
        return self.ctx(
            caller,
            alert=self.standing_alert,
            override=self.standing_override,
            user=self.people["oncall"].id,
        )

    def made_up(self, caller: str) -> Ctx:
        """The same call aimed at made-up things (a policy name is the caller council's
        own, so it stays)."""
        ghost = uuid.uuid4().hex
        return self.ctx(caller, alert=ghost, override=ghost, user=ghost)

    def naming(self, caller: str, user: str, *, alert: str) -> list[tuple[Route, Ctx, str]]:
        """Every request by `caller` that names `user` to be paged (reassigning `alert`),
        with the field that names them."""
        ctx = Ctx(caller=self.people[caller], oncall=user, professional=user, alert=alert)
        return [(route, ctx, NAMING[route.key]) for route in ROUTES if route.key in NAMING]

    def markers(self) -> set[str]:
        """Strings only council A's data holds: its people, alert, override and itself."""
        ids = {p.id for name, p in self.people.items() if not name.startswith("b_")}
        return ids | {self.standing_alert, self.standing_override, self.a.id, self.a.slug}


@dataclass(frozen=True)
class Answer:
    status: int
    text: str

    def error(self) -> dict[str, Any]:
        return error_of(httpx.Response(self.status, text=self.text))

    def json(self) -> Any:
        return json.loads(self.text)


def send(http: httpx.Client, route: Route, ctx: Ctx) -> Answer:
    """One call; the live stream is opened, its status read, and closed."""
    if route.path == STREAM:
        with http.stream("GET", route.url(ctx), headers=ctx.caller.auth) as response:
            if response.status_code == 200:
                assert response.headers["content-type"].startswith("text/event-stream")
                return Answer(200, "")
            return Answer(response.status_code, response.read().decode())
    response = http.request(
        route.method, route.url(ctx), json=route.body(ctx), headers=ctx.caller.auth
    )
    return Answer(response.status_code, response.text)


def alerts_of(http: httpx.Client, by: Person) -> list[dict[str, Any]]:
    listed = http.get("/v1/alerts", params={"limit": 200}, headers=by.auth)
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


def raise_alert(http: httpx.Client, resident: Person, staff: Person) -> str:
    """A new open alert: the resident asks for help and alerts raises it."""
    asked = http.post(f"/v1/residents/{resident.id}/help", headers=resident.auth)
    assert asked.status_code == 202, asked.text
    request_id = asked.json()["request_id"]

    def raised() -> str | None:
        for alert in alerts_of(http, staff):
            if alert["refs"].get("request_id") == request_id:
                return str(alert["id"])
        return None

    return wait_for(raised, within=30, what="the alert of a help request")


def add_override(http: httpx.Client, world: World) -> str:
    made = http.post(
        "/v1/oncall/overrides",
        json=override_body(world.ctx("council_admin")),
        headers=world.a.admin.auth,
    )
    assert made.status_code == 201, made.text
    override_id: str = made.json()["id"]
    return override_id


def build_world(http: httpx.Client, demo: SeedResult) -> World:
    """Councils A and B, their people, and a rota, a policy and an alert each."""
    a, b = new_council(http, demo, "cobbleford"), new_council(http, demo, "dunmere")
    resident, b_resident = a.add("resident"), b.add("resident")
    people = {
        "resident": resident,
        "family": join_circle(a, resident, "family"),
        "carer": join_circle(a, resident, "carer"),
        "professional": a.add("professional"),
        "oncall": a.add("oncall"),
        "council_admin": a.admin,
        "b_admin": b.admin,
        "b_professional": b.add("professional"),
        "b_oncall": b.add("oncall"),
        "b_resident": b_resident,
        "b_family": join_circle(b, b_resident, "family"),
    }
    world = World(a, b, people)
    # Each council has a rota, a policy of its own and an alert; A's on-call has an email.
    for admin in ("council_admin", "b_admin"):
        ctx, auth = world.ctx(admin), people[admin].auth
        put = http.put("/v1/oncall/rota", json=rota_body(ctx), headers=auth)
        assert put.status_code == 200, put.text
        put = http.put(
            f"/v1/escalation-policies/{POLICY_NAME}", json=policy_body(ctx), headers=auth
        )
        assert put.status_code == 200, put.text
    oncall = people["oncall"]
    contacts = {"methods": [{"channel": "email", "address": f"oncall@{a.slug}.example"}]}
    put = http.put(f"/v1/users/{oncall.id}/contact-methods", json=contacts, headers=oncall.auth)
    assert put.status_code == 200, put.text
    world.standing_override = add_override(http, world)
    world.standing_alert = raise_alert(http, resident, people["professional"])
    world.b_alert = raise_alert(http, b_resident, people["b_professional"])
    return world


def snapshot(http: httpx.Client, world: World) -> dict[str, Any]:
    """Council A as its administrator sees it: what nobody else may change."""
    views = {
        "alerts": "/v1/alerts",
        "rota": "/v1/oncall/rota",
        "policy": f"/v1/escalation-policies/{POLICY_NAME}",
        "policies": "/v1/escalation-policies",
        "settings": "/v1/alerts/settings",
        "contacts": f"/v1/users/{world.people['oncall'].id}/contact-methods",
    }
    seen = {}
    for name, path in views.items():
        response = http.get(path, headers=world.a.admin.auth)
        assert response.status_code == 200, response.text
        seen[name] = response.json()
    seen["alerts"] = sorted((a["id"], a["status"], a["assignee"]) for a in seen["alerts"]["items"])
    return seen
