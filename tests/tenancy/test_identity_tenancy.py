"""Tenancy and roles from the outside: for every identity route, another council and a
role that may not act are refused, and nothing of another council leaks."""

from __future__ import annotations

import httpx
import pytest
from support.councils import Council, Person, join_circle, new_council

from hearth_devstack.seed import SeedResult
from hearth_devstack.stack import Stack


@pytest.fixture(scope="module")
def http(stack: Stack) -> httpx.Client:
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        yield client  # type: ignore[misc]


@pytest.fixture(scope="module")
def councils(http: httpx.Client, demo: SeedResult) -> tuple[Council, Council]:
    return new_council(http, demo, "northshire"), new_council(http, demo, "southshire")


@pytest.fixture(scope="module")
def people(councils: tuple[Council, Council]) -> dict[str, Person]:
    a, b = councils
    a_resident = a.add("resident")
    return {
        "a_resident": a_resident,
        "a_professional": a.add("professional"),
        "a_family": join_circle(a, a_resident),
        "b_admin": b.admin,
        "b_professional": b.add("professional"),
        "b_oncall": b.add("oncall"),
        "b_resident": b.add("resident"),
    }


def _routes(a_resident: str, a_member: str) -> list[tuple[str, str, dict[str, object] | None]]:
    return [
        ("GET", f"/v1/users/{a_resident}", None),
        ("PUT", f"/v1/users/{a_resident}/role", {"role": "family"}),
        ("POST", f"/v1/users/{a_resident}/deactivate", None),
        ("GET", f"/v1/residents/{a_resident}/circle", None),
        (
            "POST",
            f"/v1/residents/{a_resident}/circle/invitations",
            {"relationship": "family", "consent_confirmed": True},
        ),
        ("DELETE", f"/v1/residents/{a_resident}/circle/{a_member}", None),
    ]


@pytest.mark.parametrize("caller", ["b_admin", "b_professional", "b_oncall", "b_resident"])
def test_another_council_cannot_reach_anything(
    http: httpx.Client, people: dict[str, Person], caller: str
) -> None:
    target = people["a_resident"]
    for method, path, body in _routes(target.id, people["a_family"].id):
        response = http.request(method, path, json=body, headers=people[caller].auth)
        assert response.status_code in (403, 404), (caller, method, path, response.status_code)
        # Refusals never describe the other council's data.
        assert target.email not in response.text
    # And the resident is untouched.
    seen = http.get(f"/v1/users/{target.id}", headers=people["a_professional"].auth)
    assert seen.status_code == 200
    assert seen.json()["role"] == "resident"


def test_lists_only_ever_show_the_callers_council(
    http: httpx.Client, councils: tuple[Council, Council], people: dict[str, Person]
) -> None:
    a, _b = councils
    listed = http.get("/v1/users", headers=people["b_admin"].auth)
    assert listed.status_code == 200
    ids = {u["id"] for u in listed.json()["items"]}
    assert ids.isdisjoint(a.people) and people["a_resident"].id not in ids
    assert people["b_resident"].id in ids


@pytest.mark.parametrize(
    ("caller", "method", "path_of", "body"),
    [
        ("a_resident", "GET", lambda p: "/v1/users", None),
        ("a_family", "GET", lambda p: "/v1/users", None),
        (
            "a_resident",
            "POST",
            lambda p: "/v1/users",
            {
                "email": "x@y.example",
                "password": "Lantern-Orchard-2026",
                "display_name": "X",
                "role": "oncall",
            },
        ),
        (
            "a_professional",
            "POST",
            lambda p: "/v1/users",
            {
                "email": "x2@y.example",
                "password": "Lantern-Orchard-2026",
                "display_name": "X",
                "role": "council_admin",
            },
        ),
        (
            "a_professional",
            "PUT",
            lambda p: f"/v1/users/{p['a_family'].id}/role",
            {"role": "oncall"},
        ),
        (
            "a_family",
            "POST",
            lambda p: f"/v1/residents/{p['a_resident'].id}/circle/invitations",
            {"relationship": "family"},
        ),
        ("a_family", "GET", lambda p: f"/v1/users/{p['a_professional'].id}", None),
        (
            "a_resident",
            "POST",
            lambda p: "/v1/tenants",
            {
                "slug": "sneaky",
                "name": "S",
                "timezone": "Europe/London",
                "admin": {
                    "email": "a@b.example",
                    "password": "Lantern-Orchard-2026",
                    "display_name": "A",
                },
            },
        ),
        ("a_professional", "POST", lambda p: "/v1/auth/keys/rotate", None),
    ],
)
def test_roles_that_may_not_act_are_refused(
    http: httpx.Client, people: dict[str, Person], caller: str, method: str, path_of, body
) -> None:  # type: ignore[no-untyped-def]
    response = http.request(method, path_of(people), json=body, headers=people[caller].auth)
    assert response.status_code in (403, 404), (caller, method, response.text)
    assert response.json()["error"]["message"]


def test_unknown_council_and_wrong_password_look_the_same(
    http: httpx.Client, councils: tuple[Council, Council], people: dict[str, Person]
) -> None:
    a, _ = councils
    wrong_password = http.post(
        "/v1/auth/token",
        json={
            "tenant": a.slug,
            "email": people["a_resident"].email,
            "password": "Not-The-Password-99",
        },
    )
    unknown_council = http.post(
        "/v1/auth/token",
        json={
            "tenant": "no-such-council",
            "email": people["a_resident"].email,
            "password": "Not-The-Password-99",
        },
    )
    unknown_email = http.post(
        "/v1/auth/token",
        json={"tenant": a.slug, "email": "nobody@x.example", "password": "Not-The-Password-99"},
    )
    assert (
        wrong_password.status_code
        == unknown_council.status_code
        == unknown_email.status_code
        == 401
    )
    assert wrong_password.json() == unknown_council.json() == unknown_email.json()
