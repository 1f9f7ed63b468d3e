"""Tenancy and roles of check-ins from the outside, through the gateway, for every route.

Check-ins' policy, as its access module states it and as a person would expect it:
- the resident acts for themself; staff of their council (professional, on-call, council
  administrator) see and do everything for any resident of the council;
- members of the resident's circle of support (family, carers) see the schedule and the
  check-ins (without mood and note) and may ask for help, but do not change the schedule
  or check in for the person (403: they know the resident);
- anyone else - another council, another resident, another resident's family or carer -
  learns nothing, not even that the resident exists: the answer is exactly the 404 a
  made-up resident gets.

Every route of check-ins in the gateway's OpenAPI document must have a row in ROUTES.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from support.councils import Council, Person, join_circle, new_council
from support.surface import error_of, missing_rows, owned_operations, wait_for

from hearth_devstack.seed import SeedResult

SCHEDULE = {"timezone": "Europe/London", "times": [{"at": "09:00"}], "grace_minutes": 30}
# Every pause is a day long and starts two days after the previous one, so none overlap.
_pause_starts = itertools.count(2, 2)


def _pause_body() -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=next(_pause_starts))
    return {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=1)).isoformat(),
        "reason": "holiday",
        "note": "Visiting my sister",
    }


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the OpenAPI document
    action: str  # view, manage, check_in, help (check-ins' names for what a route does)
    ok: int  # the status when the caller may act
    body: Callable[[], dict[str, Any] | None] = lambda: None

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def url(self, resident_id: str, pause_id: str) -> str:
        return self.path.format(resident_id=resident_id, pause_id=pause_id)

    def __str__(self) -> str:
        return f"{self.method} {self.path.removeprefix('/v1/residents/{resident_id}')}"


R = "/v1/residents/{resident_id}"
ROUTES = (
    Route("GET", f"{R}/checkin-schedule", "view", 200),
    Route("PUT", f"{R}/checkin-schedule", "manage", 200, lambda: dict(SCHEDULE)),
    Route("POST", f"{R}/checkin-schedule/pauses", "manage", 201, _pause_body),
    Route("DELETE", f"{R}/checkin-schedule/pauses/{{pause_id}}", "manage", 200),
    Route("GET", f"{R}/checkins", "view", 200),
    Route("POST", f"{R}/checkins", "check_in", 201, lambda: {"status": "ok", "mood": 4}),
    Route("POST", f"{R}/help", "help", 202, lambda: {"note": "I have had a fall"}),
)

# Who may do what, by the caller's relation to the resident.
ALLOWED = {
    "self": {"view", "manage", "check_in", "help"},
    "staff": {"view", "manage", "check_in", "help"},
    "circle": {"view", "help"},
    "none": set(),
}
# Callers of council A and their relation to the resident every test acts on.
RELATION = {
    "resident": "self",
    "professional": "staff",
    "oncall": "staff",
    "council_admin": "staff",
    "family": "circle",
    "carer_in_circle": "circle",
    "other_resident": "none",
    "family_of_another": "none",
    "carer_of_another": "none",
}
OTHER_COUNCIL = ["b_admin", "b_professional", "b_oncall", "b_resident", "b_family"]


def _cases(allowed: bool) -> list[Any]:
    return [
        pytest.param(route, caller, id=f"{route}-{caller}")
        for route in ROUTES
        for caller, relation in RELATION.items()
        if (route.action in ALLOWED[relation]) is allowed
    ]


@pytest.fixture(scope="module")
def councils(http: httpx.Client, demo: SeedResult) -> tuple[Council, Council]:
    return new_council(http, demo, "ashdale"), new_council(http, demo, "brookvale")


@pytest.fixture(scope="module")
def people(http: httpx.Client, councils: tuple[Council, Council]) -> dict[str, Person]:
    a, b = councils
    resident = a.add("resident")
    other_resident = a.add("resident")
    b_resident = b.add("resident")
    found = {
        "resident": resident,
        "professional": a.add("professional"),
        "oncall": a.add("oncall"),
        "council_admin": a.admin,
        "family": join_circle(a, resident, "family"),
        "carer_in_circle": join_circle(a, resident, "carer"),
        "other_resident": other_resident,
        "family_of_another": join_circle(a, other_resident, "family"),
        "carer_of_another": join_circle(a, other_resident, "carer"),
        "b_admin": b.admin,
        "b_professional": b.add("professional"),
        "b_oncall": b.add("oncall"),
        "b_resident": b_resident,
        "b_family": join_circle(b, b_resident, "family"),
    }
    # The resident has a schedule and a check-in to protect (and a pause: see below).
    staff = found["professional"]
    put = http.put(
        f"/v1/residents/{resident.id}/checkin-schedule", json=SCHEDULE, headers=staff.auth
    )
    assert put.status_code == 200, put.text
    checked = http.post(
        f"/v1/residents/{resident.id}/checkins",
        json={"status": "ok", "mood": 2, "note": "Knee is sore today"},
        headers=resident.auth,
    )
    assert checked.status_code == 201, checked.text
    # Check-ins learns circles from identity's events: wait until it knows both members.
    for member in ("family", "carer_in_circle"):
        wait_for(
            lambda m=found[member]: (
                http.get(
                    f"/v1/residents/{resident.id}/checkin-schedule", headers=m.auth
                ).status_code
                == 200
            ),
            within=30,
            what=f"check-ins to learn that the {member} is in the circle",
        )
    return found


@pytest.fixture(scope="module")
def standing_pause(http: httpx.Client, people: dict[str, Person]) -> str:
    """A pause ahead that only refused callers aim at: it must outlive them all."""
    paused = http.post(
        f"/v1/residents/{people['resident'].id}/checkin-schedule/pauses",
        json=_pause_body(),
        headers=people["professional"].auth,
    )
    assert paused.status_code == 201, paused.text
    pause_id: str = paused.json()["pause"]["id"]
    return pause_id


def _snapshot(http: httpx.Client, people: dict[str, Person]) -> dict[str, Any]:
    """What a refused request must not change: the schedule, its pauses, the check-ins."""
    resident = people["resident"].id
    staff = people["professional"].auth
    schedule = http.get(f"/v1/residents/{resident}/checkin-schedule", headers=staff)
    checkins = http.get(f"/v1/residents/{resident}/checkins", headers=staff)
    assert schedule.status_code == checkins.status_code == 200
    body = schedule.json()
    return {
        "schedule": {k: body[k] for k in ("timezone", "times", "grace_minutes", "early_minutes")},
        "pauses": sorted((p["id"], p["starts_at"], p["ends_at"]) for p in body["pauses"]),
        "checkins": [c["id"] for c in checkins.json()["items"]],
    }


def _call(
    http: httpx.Client, route: Route, caller: Person, *, resident: str, pause: str
) -> httpx.Response:
    return http.request(
        route.method, route.url(resident, pause), json=route.body(), headers=caller.auth
    )


def test_every_checkins_route_has_a_row(http: httpx.Client) -> None:
    undocumented, stale = missing_rows(owned_operations(http, "checkins"), [r.key for r in ROUTES])
    assert undocumented == [], f"check-ins routes without a row in ROUTES: {undocumented}"
    assert stale == [], f"rows for routes the gateway no longer documents: {stale}"


@pytest.mark.parametrize("caller", OTHER_COUNCIL)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_another_council_is_refused_and_learns_nothing(
    http: httpx.Client,
    people: dict[str, Person],
    standing_pause: str,
    route: Route,
    caller: str,
) -> None:
    target, pause = people["resident"], standing_pause
    before = _snapshot(http, people)
    real = _call(http, route, people[caller], resident=target.id, pause=pause)
    made_up = _call(
        http, route, people[caller], resident=str(uuid.uuid4()), pause=str(uuid.uuid4())
    )
    assert real.status_code == 404, (caller, str(route), real.status_code, real.text)
    assert error_of(real)["code"] == "resident_not_found", real.text
    # Indistinguishable from a resident who does not exist, and nothing of theirs in it.
    assert real.json() == made_up.json()
    assert target.id not in real.text and target.email not in real.text
    assert _snapshot(http, people) == before


@pytest.mark.parametrize(("route", "caller"), _cases(allowed=False))
def test_a_caller_who_may_not_act_is_refused(
    http: httpx.Client,
    people: dict[str, Person],
    standing_pause: str,
    route: Route,
    caller: str,
) -> None:
    target, pause = people["resident"], standing_pause
    before = _snapshot(http, people)
    response = _call(http, route, people[caller], resident=target.id, pause=pause)
    error = error_of(response)
    if RELATION[caller] == "none":
        # A stranger to the resident: exactly what a made-up resident gets.
        assert response.status_code == 404, (caller, response.text)
        made_up = _call(http, route, people[caller], resident=str(uuid.uuid4()), pause=pause)
        assert response.json() == made_up.json()
    else:
        # The circle knows the resident, so it is told it may not do this.
        assert response.status_code == 403, (caller, response.text)
        assert error["code"] == "forbidden"
    assert _snapshot(http, people) == before


@pytest.mark.parametrize(("route", "caller"), _cases(allowed=True))
def test_a_caller_who_may_act_succeeds(
    http: httpx.Client, people: dict[str, Person], route: Route, caller: str
) -> None:
    target, person = people["resident"], people[caller]
    pause = ""
    if route.path.endswith("{pause_id}"):
        # Ending a pause consumes it: each caller ends one of their own.
        made = http.post(
            f"/v1/residents/{target.id}/checkin-schedule/pauses",
            json=_pause_body(),
            headers=people["professional"].auth,
        )
        assert made.status_code == 201, made.text
        pause = made.json()["pause"]["id"]
    response = _call(http, route, person, resident=target.id, pause=pause)
    assert response.status_code == route.ok, (caller, str(route), response.text)
    body = response.json()
    if route.key == ("POST", f"{R}/checkins"):
        assert body["recorded_by"] == person.id
        assert body["channel"] == ("app" if caller == "resident" else "staff")
    elif route.key == ("GET", f"{R}/checkins"):
        assert body["items"], "the resident's check-ins are listed"
        private = {"mood", "note"} & set(body["items"][0])
        # Mood and note are for the resident and staff, not the circle.
        assert private == (set() if RELATION[caller] == "circle" else {"mood", "note"})
    elif route.key == ("DELETE", f"{R}/checkin-schedule/pauses/{{pause_id}}"):
        assert pause not in {p["id"] for p in body["pauses"]}
    elif route.key == ("POST", f"{R}/help"):
        assert body["resident_id"] == target.id and body["request_id"]
    elif route.method == "POST":
        assert body["pause"]["created_by"] == person.id
    else:
        assert body["resident_id"] == target.id


def test_a_token_is_refused_for_another_councils_header(
    http: httpx.Client, councils: tuple[Council, Council], people: dict[str, Person]
) -> None:
    a, b = councils
    path = f"/v1/residents/{people['b_resident'].id}/checkin-schedule"
    staff = people["b_professional"]
    # B's own staff naming A as the council: refused at the gateway, whatever the route.
    wrong = http.get(path, headers={**staff.auth, "X-Hearth-Tenant": a.slug})
    assert wrong.status_code == 403, wrong.text
    assert error_of(wrong)["code"] == "wrong_tenant"
    # Naming their own council passes the gateway (404: that resident has no schedule).
    right = http.get(path, headers={**staff.auth, "X-Hearth-Tenant": b.slug})
    assert right.status_code == 404, right.text
    assert error_of(right)["code"] == "no_schedule"
