"""Identity through the gateway, with real processes: councils, people, circles, tokens."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from support.councils import PASSWORD, new_council
from support.events import read_topics

from hearth_devstack.seed import SeedResult
from hearth_devstack.stack import Stack


@pytest.fixture
def http(stack: Stack) -> httpx.Client:
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        yield client  # type: ignore[misc]


def test_circle_of_support_from_invitation_to_removal(
    http: httpx.Client, demo: SeedResult, stack: Stack
) -> None:
    council = new_council(http, demo, "brightwater")
    resident = council.add("resident")
    invited = http.post(
        f"/v1/residents/{resident.id}/circle/invitations",
        json={"relationship": "family"},
        headers=resident.auth,
    )
    assert invited.status_code == 201, invited.text
    code = invited.json()["code"]

    joined = http.post(
        "/v1/circle/join",
        json={
            "code": code,
            "tenant": council.slug,
            "email": f"daughter@{council.slug}.example",
            "password": PASSWORD,
            "display_name": "Daughter",
        },
    )
    assert joined.status_code == 201, joined.text
    # A one-time code: the same code cannot be used twice.
    again = http.post(
        "/v1/circle/join",
        json={
            "code": code,
            "tenant": council.slug,
            "email": f"other@{council.slug}.example",
            "password": PASSWORD,
            "display_name": "Other",
        },
    )
    assert 400 <= again.status_code < 500

    family_tokens = council.sign_in(f"daughter@{council.slug}.example")
    family_auth = {"Authorization": f"Bearer {family_tokens['access_token']}"}
    me = http.get("/v1/me", headers=family_auth).json()
    assert me["roles"] == ["family"] or me.get("role") == "family"

    circle = http.get(f"/v1/residents/{resident.id}/circle", headers=resident.auth)
    assert circle.status_code == 200
    members = circle.json()["members"]
    assert [m["member_id"] if "member_id" in m else m["id"] for m in members] == [me["id"]]

    removed = http.delete(f"/v1/residents/{resident.id}/circle/{me['id']}", headers=resident.auth)
    assert removed.status_code == 204
    assert (
        http.get(f"/v1/residents/{resident.id}/circle", headers=resident.auth).json()["members"]
        == []
    )

    # Every change became an event on the broker, through the outbox.
    events = asyncio.run(
        read_topics(
            stack.bootstrap_servers,
            [
                "identity.user.registered",
                "identity.circle.member_added",
                "identity.circle.member_removed",
            ],
        )
    )
    mine = [e for e in events if e["tenant_id"] == council.id]
    types = sorted(
        e["type"] for e in mine if resident.id in (e["subject"], e["data"].get("resident_id"))
    )
    assert "identity.circle.member_added" in types
    assert "identity.circle.member_removed" in types
    registered = {e["data"]["user_id"] for e in mine if e["type"] == "identity.user.registered"}
    assert {resident.id, me["id"], council.admin.id} <= registered
    # Events carry ids, not personal details.
    assert all("email" not in e["data"] and "password" not in str(e["data"]) for e in mine)


def test_refresh_rotates_and_reuse_revokes_the_family(http: httpx.Client, demo: SeedResult) -> None:
    council = new_council(http, demo, "rotation")
    person = council.add("oncall")
    first = http.post("/v1/auth/refresh", json={"refresh_token": person.refresh_token})
    assert first.status_code == 200, first.text
    rotated = first.json()["refresh_token"]
    assert rotated != person.refresh_token

    replayed = http.post("/v1/auth/refresh", json={"refresh_token": person.refresh_token})
    assert replayed.status_code == 401
    # Reuse revoked the whole family, so the newest token is refused too.
    assert http.post("/v1/auth/refresh", json={"refresh_token": rotated}).status_code == 401


def test_tokens_the_gateway_refuses(http: httpx.Client, demo: SeedResult) -> None:
    council = new_council(http, demo, "forgery")
    person = council.add("professional")
    assert http.get("/v1/me", headers=person.auth).status_code == 200
    missing = http.get("/v1/me")
    assert missing.status_code == 401
    assert missing.json()["error"]["message"]
    header, payload, signature = person.token.split(".")
    tampered = ".".join(
        [header, payload, signature[:-3] + ("AAA" if signature[-3:] != "AAA" else "BBB")]
    )
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    wrong_council = http.get("/v1/me", headers={**person.auth, "X-Hearth-Tenant": "someone-else"})
    assert wrong_council.status_code == 403


def test_logout_everywhere_ends_every_refresh_token(http: httpx.Client, demo: SeedResult) -> None:
    council = new_council(http, demo, "logout")
    person = council.add("professional")
    second = council.sign_in(person.email)
    out = http.post(
        "/v1/auth/logout", json={"refresh_token": person.refresh_token, "everywhere": True}
    )
    assert out.status_code == 204
    assert (
        http.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code
        == 401
    )


def test_bad_input_is_refused_clearly_and_changes_nothing(
    http: httpx.Client, demo: SeedResult
) -> None:
    council = new_council(http, demo, "badinput")
    cases = [
        (
            {
                "email": "not-an-email",
                "password": PASSWORD,
                "display_name": "X",
                "role": "resident",
            },
            422,
        ),
        (
            {
                "email": "weak@x.example",
                "password": "password",
                "display_name": "X",
                "role": "resident",
            },
            422,
        ),
        (
            {"email": "a@x.example", "password": PASSWORD, "display_name": "X", "role": "emperor"},
            422,
        ),
        (
            {
                "email": "a@x.example",
                "password": PASSWORD,
                "display_name": "X",
                "role": "resident",
                "extra": 1,
            },
            422,
        ),
        ({"email": 5, "password": PASSWORD, "display_name": "X", "role": "resident"}, 422),
    ]
    for body, status in cases:
        response = http.post("/v1/users", json=body, headers=council.admin.auth)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["message"]
    malformed = http.post(
        "/v1/users",
        content=b'{"email": ',
        headers={**council.admin.auth, "content-type": "application/json"},
    )
    assert malformed.status_code == 400
    oversized = http.post(
        "/v1/users",
        content=b'{"a":"' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={**council.admin.auth, "content-type": "application/json"},
    )
    assert oversized.status_code == 413
    listed = http.get("/v1/users", headers=council.admin.auth).json()
    assert [u["email"] for u in listed["items"]] == [council.admin.email]
