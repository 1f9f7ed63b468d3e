"""Tenancy and roles of chat from the outside, through the gateway, for every HTTP route.

Chat's policy, as its access rules state it:
- a direct conversation is its two members' alone (a resident and someone of their circle
  of support): nobody else - another resident, another family, council staff - learns it
  exists (404, exactly what a made-up id gets); only a message's author changes it (403);
- a support request is seen by the person who asked and the council's staff (the support
  desk); only staff claim or hand it over;
- the queue, flags and the support target are for staff; phrase lists and the target are
  changed by the council administrator; a role that may not is refused (403);
- platform administrators hold no council's conversations: every chat route is 403;
- another council's people get 404 for anything of this council, and lists, settings and
  phrase lists that are only ever their own council's.
Nothing a refused request asks for changes anything.

Every chat route in the gateway's OpenAPI document must have a row in ROUTES; the
WebSocket is in test_chat_tenancy_ws.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from support.chat import post_message, request_support, start_direct
from support.councils import Council, Person, join_circle, new_council, platform_token
from support.surface import error_of, missing_rows, owned_operations

from hearth_devstack.seed import SeedResult

A_TARGET = 3_599  # council A's support target: never reached while the module runs
A_PHRASE = "the lantern has gone out"  # a phrase of council A's own list
DANGER = "I can't get up off the kitchen floor"
STAFF = {"professional", "oncall", "council_admin"}
ROLES = {  # who may call a route at all, by role
    "member": {"resident", "family", "carer", *STAFF},
    "staff": STAFF,
    "admin": {"council_admin"},
}
A_CALLERS = ("resident", "family", "other_resident", "family_of_another", *sorted(STAFF))
B_CALLERS = ("b_admin", "b_professional", "b_oncall", "b_resident", "b_family")
CALLERS = (*A_CALLERS, *B_CALLERS, "platform_admin")


@dataclass(frozen=True)
class Ids:
    conversation: str
    message: str
    flag: str
    request: str
    resident: str

    @staticmethod
    def made_up() -> Ids:
        return Ids("dm-" + uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex,
                   uuid.uuid4().hex, str(uuid.uuid4()))  # fmt: skip


@dataclass
class World:
    a: Council
    b: Council
    people: dict[str, Person]
    roles: dict[str, str]  # caller -> role
    ids: Ids  # council A's things that every refused call aims at
    support_conversation: str
    platform: str  # a platform administrator's token

    def token(self, caller: str) -> str:
        return self.platform if caller == "platform_admin" else self.people[caller].token

    def colleague(self, caller: str) -> str:
        """A member of staff of the caller's own council (bodies name only those)."""
        return self.people["b_oncall" if caller.startswith("b_") else "oncall"].id


Body = Callable[[Ids, str], dict[str, Any] | None]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the OpenAPI document
    roles: str  # member, staff or admin
    may: frozenset[str]  # callers of council A who may act (never called here)
    not_found: str | None  # the 404 code for anyone else; None: a council-wide route
    body: Body = lambda ids, colleague: None
    special: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def url(self, ids: Ids) -> str:
        return self.path.format(conversation_id=ids.conversation, message_id=ids.message,
                                flag_id=ids.flag, request_id=ids.request)  # fmt: skip

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def each(names: set[str] | tuple[str, ...], answer: tuple[int, str]) -> dict[str, Any]:
    return dict.fromkeys(names, answer)


MEMBERS = frozenset({"resident", "family"})
A_STAFF = frozenset(STAFF)
C = "/v1/conversations/{conversation_id}"
R = "/v1/support/requests/{request_id}"
ALL_STAFF = (*STAFF, "b_admin", "b_professional", "b_oncall")
NOT_AUTHOR = {"family": (403, "not_author")}
ROUTES = (
    Route("GET", "/v1/conversations", "member", MEMBERS, None),
    Route("POST", "/v1/conversations", "member", frozenset({"family", *STAFF}),
          "person_not_found", lambda ids, _: {"with_user_id": ids.resident},
          {"resident": (422, "invalid_input")}),  # with herself
    Route("GET", C, "member", MEMBERS, "conversation_not_found"),
    Route("GET", f"{C}/messages", "member", MEMBERS, "conversation_not_found"),
    Route("POST", f"{C}/messages", "member", MEMBERS, "conversation_not_found",
          lambda ids, _: {"text": "Let me in"}),
    Route("PATCH", f"{C}/messages/{{message_id}}", "member", frozenset({"resident"}),
          "conversation_not_found", lambda ids, _: {"text": "Changed"}, NOT_AUTHOR),
    Route("DELETE", f"{C}/messages/{{message_id}}", "member", frozenset({"resident"}),
          "conversation_not_found", special=NOT_AUTHOR),
    Route("POST", f"{C}/read", "member", MEMBERS, "conversation_not_found"),
    Route("GET", "/v1/safeguarding/flags", "staff", A_STAFF, None),
    Route("POST", "/v1/safeguarding/flags/{flag_id}/review", "staff", A_STAFF, "flag_not_found",
          lambda ids, _: {"outcome": "false_positive"}),
    Route("GET", "/v1/safeguarding/phrases", "admin", frozenset({"council_admin"}), None),
    Route("PUT", "/v1/safeguarding/phrases", "admin", frozenset({"council_admin"}), None,
          lambda ids, _: {"phrases": [{"phrase": "the candle is out", "category": "loneliness",
                                       "severity": "low"}]}),
    Route("GET", "/v1/support/queue", "staff", A_STAFF, None),
    # Staff do not ask for support; a resident asks only for themself.
    Route("POST", "/v1/support/requests", "member", frozenset({"resident", "family"}),
          "person_not_found", lambda ids, _: {"resident_id": ids.resident},
          {**each(ALL_STAFF, (403, "not_allowed")),
           **each(("other_resident", "b_resident"), (422, "invalid_input"))}),
    Route("GET", R, "member", frozenset({"resident", *STAFF}), "request_not_found"),
    Route("POST", f"{R}/claim", "staff", A_STAFF, "request_not_found"),
    Route("POST", f"{R}/handover", "staff", A_STAFF, "request_not_found",
          lambda ids, colleague: {"to_user_id": colleague}),
    Route("POST", f"{R}/close", "member", frozenset({"resident", *STAFF}), "request_not_found",
          lambda ids, _: {"outcome": "withdrawn"}),
    Route("GET", "/v1/support/settings", "staff", A_STAFF, None),
    Route("PUT", "/v1/support/settings", "admin", frozenset({"council_admin"}), None,
          lambda ids, _: {"target_seconds": 120}),
)  # fmt: skip


@pytest.fixture(scope="module")
def world(http: httpx.Client, demo: SeedResult) -> World:
    a, b = new_council(http, demo, "chat-ashdale"), new_council(http, demo, "chat-brookvale")
    resident, other, b_resident = a.add("resident"), a.add("resident"), b.add("resident")
    people = {
        "resident": resident,
        "family": join_circle(a, resident, "family"),
        "other_resident": other,
        "family_of_another": join_circle(a, other, "family"),
        "professional": a.add("professional"),
        "oncall": a.add("oncall"),
        "council_admin": a.admin,
        "b_admin": b.admin,
        "b_professional": b.add("professional"),
        "b_oncall": b.add("oncall"),
        "b_resident": b_resident,
        "b_family": join_circle(b, b_resident, "family"),
    }
    roles = {name: p.role for name, p in people.items()} | {"platform_admin": "platform_admin"}
    # Council A's things: a conversation with a message and a flagged one, a support
    # request, its own phrase and support target.
    conversation = start_direct(http, people["family"], resident)
    message = post_message(http, resident, conversation, "See you on Sunday")["id"]
    flagged = post_message(http, resident, conversation, DANGER)["id"]
    admin = a.admin.auth
    target = http.put("/v1/support/settings", json={"target_seconds": A_TARGET}, headers=admin)
    assert target.status_code == 200, target.text
    phrases = {"phrases": [{"phrase": A_PHRASE, "category": "loneliness", "severity": "low"}]}
    assert http.put("/v1/safeguarding/phrases", json=phrases, headers=admin).status_code == 200
    request = request_support(http, resident, text="Could someone ring me")
    # Council B has its own conversation and request, so its lists are not just empty.
    b_conversation = start_direct(http, people["b_family"], b_resident)
    post_message(http, b_resident, b_conversation, "Hello from Brookvale")
    request_support(http, b_resident)
    return World(
        a, b, people, roles, Ids(conversation, message, flagged, request["id"], resident.id),
        request["conversation_id"], platform_token(http, demo),
    )  # fmt: skip


def _call(http: httpx.Client, world: World, route: Route, caller: str, ids: Ids) -> httpx.Response:
    body = route.body(ids, world.colleague(caller))
    headers = {"Authorization": f"Bearer {world.token(caller)}"}
    return http.request(route.method, route.url(ids), json=body, headers=headers)


def _council_a(http: httpx.Client, world: World) -> dict[str, Any]:
    """What no refused request may change: A's conversation, request, flags and settings."""
    resident, admin = world.people["resident"].auth, world.a.admin.auth
    ids = world.ids
    answers = {
        "messages": http.get(f"/v1/conversations/{ids.conversation}/messages", headers=resident),
        "request": http.get(f"/v1/support/requests/{ids.request}", headers=admin),
        "flags": http.get("/v1/safeguarding/flags", headers=admin),
        "phrases": http.get("/v1/safeguarding/phrases", headers=admin),
        "target": http.get("/v1/support/settings", headers=admin),
    }
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.text)
    state = {name: response.json() for name, response in answers.items()}
    state["request"].pop("waiting_seconds")  # the clock moves; nothing else may
    return state


def _secrets(world: World) -> list[str]:
    """What no answer to another council or an outsider may hold."""
    ids = world.ids
    return [ids.conversation, ids.message, ids.flag, ids.request, ids.resident,
            world.support_conversation, A_PHRASE, "See you on Sunday", "kitchen floor"]  # fmt: skip


def expected(route: Route, caller: str, role: str) -> tuple[int, str] | None:
    """(status, code) for a refused caller; None: a council-wide route answers with the
    caller's own council's things."""
    if role not in ROLES[route.roles]:
        return (403, "forbidden")
    if caller in route.special:
        return route.special[caller]
    return None if route.not_found is None else (404, route.not_found)


def test_every_chat_route_has_a_row(http: httpx.Client) -> None:
    undocumented, stale = missing_rows(owned_operations(http, "chat"), [r.key for r in ROUTES])
    assert undocumented == [], f"chat routes without a row in ROUTES: {undocumented}"
    assert stale == [], f"rows for routes the gateway no longer documents: {stale}"


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_everyone_who_may_not_act_is_refused_and_learns_nothing(
    http: httpx.Client, world: World, route: Route
) -> None:
    before = _council_a(http, world)
    refused = [c for c in CALLERS if c not in route.may]
    problems: list[str] = []
    for caller in refused:
        want = expected(route, caller, world.roles[caller])
        response = _call(http, world, route, caller, world.ids)
        got = (response.status_code, response.text[:300])
        leaked = [s for s in _secrets(world) if s in response.text]
        if leaked:
            problems.append(f"{caller}: answer holds {leaked}: {got}")
        if want is None:
            # A council-wide route: the caller's own council's answer, never A's.
            if response.status_code != 200:
                problems.append(f"{caller}: expected 200 with their own council's, got {got}")
            elif route.key == ("GET", "/v1/support/settings"):
                if response.json()["target_seconds"] == A_TARGET:
                    problems.append(f"{caller}: sees council A's support target")
            continue
        if (response.status_code, error_of(response)["code"]) != want:
            problems.append(f"{caller}: expected {want}, got {got}")
        elif want[0] == 404:
            # Exactly what a made-up id gets: nothing tells that A's thing exists.
            made_up = _call(http, world, route, caller, Ids.made_up())
            if made_up.json() != response.json():
                problems.append(f"{caller}: {got} differs from a made-up id's {made_up.text}")
    assert problems == [], "\n".join(problems)
    assert _council_a(http, world) == before


def test_a_token_is_refused_for_another_councils_header(http: httpx.Client, world: World) -> None:
    staff = world.people["b_professional"]
    wrong = http.get("/v1/support/queue", headers={**staff.auth, "X-Hearth-Tenant": world.a.slug})
    assert wrong.status_code == 403, wrong.text
    assert error_of(wrong)["code"] == "wrong_tenant"


def test_the_people_who_may_see_a_thing_do(http: httpx.Client, world: World) -> None:
    # The refusals above mean something: the same things are there for those who may.
    ids, people = world.ids, world.people

    def get(caller: str, path: str, **params: Any) -> dict[str, Any]:
        response = http.get(path, params=params, headers=people[caller].auth)
        assert response.status_code == 200, (caller, path, response.text)
        body: dict[str, Any] = response.json()
        return body

    for caller in MEMBERS:
        assert ids.conversation in {c["id"] for c in get(caller, "/v1/conversations")["items"]}
        assert get(caller, f"/v1/conversations/{ids.conversation}")["id"] == ids.conversation
        page = get(caller, f"/v1/conversations/{ids.conversation}/messages")
        assert {ids.message, ids.flag} <= {m["id"] for m in page["items"]}
    for caller in ("resident", *sorted(STAFF)):
        assert get(caller, f"/v1/support/requests/{ids.request}")["id"] == ids.request
    for caller in sorted(STAFF):
        queue = get(caller, "/v1/support/queue")["items"]
        assert ids.request in {r["id"] for r in queue}
        assert ids.flag in {f["id"] for f in get(caller, "/v1/safeguarding/flags")["items"]}
        assert get(caller, "/v1/support/settings")["target_seconds"] == A_TARGET
    phrases = get("council_admin", "/v1/safeguarding/phrases")["phrases"]
    assert A_PHRASE in {p["phrase"] for p in phrases}
