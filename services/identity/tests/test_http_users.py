"""HTTP tests of councils, users and /v1/me: roles, tenancy and input checks."""

from __future__ import annotations

from typing import Any

import pytest
from identity_testkit import PASSWORD, ROOT_EMAIL, Api, World, council_body


def new_user(
    role: str = "oncall", email: str = "new@north.example", **extra: Any
) -> dict[str, Any]:
    return {
        "email": email,
        "password": PASSWORD,
        "display_name": "New Person",
        "role": role,
        **extra,
    }


async def test_platform_admin_is_bootstrapped(api: Api) -> None:
    headers = await api.bearer("platform", ROOT_EMAIL, "lighthouse-platform-77")
    me = (await api.client.get("/v1/me", headers=headers)).json()
    assert me["role"] == "platform_admin" and me["roles"] == ["platform_admin"]
    assert me["tenant"]["slug"] == "platform" and me["email"] == ROOT_EMAIL
    events = await api.outbox("users")
    assert [e["type"] for e in events] == ["identity.user.registered"]


async def test_create_tenant_with_its_first_admin(api: Api, world: World) -> None:
    north = world.north
    assert north["slug"] == "north" and north["timezone"] == "Europe/London"
    assert north["admin"]["role"] == "council_admin"
    assert north["admin"]["tenant_id"] == north["id"]
    assert "password" not in str(north) and "argon2" not in str(north)
    events = [e for e in await api.outbox("tenants") if e["tenant_id"] == north["id"]]
    assert [e["type"] for e in events] == ["identity.tenant.created", "identity.user.registered"]
    assert events[0]["data"] == {
        "tenant_id": north["id"],
        "slug": "north",
        "timezone": "Europe/London",
    }
    assert events[1]["subject"] == north["admin"]["id"]
    assert events[1]["data"]["role"] == "council_admin"


async def test_tenant_creation_refusals(api: Api, world: World) -> None:
    before = await api.snapshot()
    taken = await api.client.post("/v1/tenants", json=council_body("north"), headers=world.root)
    assert taken.status_code == 409 and taken.json()["error"]["details"][0]["field"] == "slug"
    platform = await api.client.post(
        "/v1/tenants", json=council_body("platform"), headers=world.root
    )
    assert platform.status_code == 409
    for role in ("north_admin", "north_pro", "north_resident"):
        refused = await api.client.post(
            "/v1/tenants", json=council_body("east"), headers=world.headers[role]
        )
        assert refused.status_code == 403
    bad_bodies = [
        {**council_body("east"), "timezone": "Mars/Olympus"},
        {**council_body("east"), "slug": "East Side"},
        {**council_body("east"), "admin": {**council_body("east")["admin"], "email": "nope"}},
        {**council_body("east"), "admin": {**council_body("east")["admin"], "password": "short"}},
        {**council_body("east"), "admin": {**council_body("east")["admin"], "role": "x"}},
        {**council_body("east"), "colour": "blue"},
        {**council_body("east"), "name": 7},
        {**council_body("east"), "name": "x" * 500},
    ]
    for body in bad_bodies:
        response = await api.client.post("/v1/tenants", json=body, headers=world.root)
        assert response.status_code == 422, body
        assert response.json()["error"]["details"], body
    assert await api.snapshot() == before


async def test_council_admin_creates_staff_and_residents(api: Api, world: World) -> None:
    admin = world.headers["north_admin"]
    for role in ("resident", "professional", "oncall", "council_admin"):
        response = await api.client.post(
            "/v1/users", json=new_user(role, email=f"{role}@new.example"), headers=admin
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["role"] == role and body["tenant_id"] == world.north["id"]
        assert set(body) >= {"id", "email", "display_name", "roles", "status"}
        assert not any("hash" in key or "password" in key for key in body)
    events = [
        e
        for e in await api.outbox("users")
        if e["data"].get("role") == "council_admin" and e["tenant_id"] == world.north["id"]
    ]
    assert events and events[0]["data"]["registered_by"] == world.ids["north_admin"]


async def test_resident_with_a_responsible_professional(api: Api, world: World) -> None:
    admin = world.headers["north_admin"]
    ok = await api.client.post(
        "/v1/users",
        headers=admin,
        json=new_user("resident", responsible_professional_id=world.ids["north_pro"]),
    )
    assert ok.status_code == 201
    assert ok.json()["responsible_professional_id"] == world.ids["north_pro"]
    before = await api.snapshot()
    for pro in (world.ids["north_oncall"], world.ids["south_pro"], "no-such-user"):
        bad = await api.client.post(
            "/v1/users",
            headers=admin,
            json=new_user("resident", email="r2@north.example", responsible_professional_id=pro),
        )
        assert bad.status_code == 422
    staff = await api.client.post(
        "/v1/users",
        headers=admin,
        json=new_user(
            "oncall", email="o2@north.example", responsible_professional_id=world.ids["north_pro"]
        ),
    )
    assert staff.status_code == 422
    assert await api.snapshot() == before
    # A professional's residents are theirs.
    mine = await api.client.get(
        f"/v1/users/{world.ids['north_resident']}", headers=world.headers["north_pro"]
    )
    assert mine.json()["responsible_professional_id"] == world.ids["north_pro"]


@pytest.mark.parametrize(
    ("who", "role"),
    [
        ("north_pro", "oncall"),
        ("north_pro", "council_admin"),
        ("north_oncall", "resident"),
        ("north_resident", "resident"),
        ("north_family", "family"),
        ("north_admin", "family"),
        ("north_admin", "platform_admin"),
    ],
)
async def test_role_refusals_on_create(api: Api, world: World, who: str, role: str) -> None:
    before = await api.snapshot()
    response = await api.client.post("/v1/users", json=new_user(role), headers=world.headers[who])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert await api.snapshot() == before


async def test_user_input_is_validated(api: Api, world: World) -> None:
    admin = world.headers["north_admin"]
    before = await api.snapshot()
    cases: list[tuple[dict[str, Any], str]] = [
        (new_user(email="not-an-email"), "email"),
        (new_user(password="password1234"), "password"),
        (new_user(password="short"), "password"),
        (new_user(password="new-person-garden"), "password"),
        (new_user(role="wizard"), "role"),
        ({**new_user(), "display_name": ""}, "display_name"),
        ({**new_user(), "display_name": "x" * 300}, "display_name"),
        ({**new_user(), "nickname": "x"}, "nickname"),
        ({**new_user(), "password": 12345678901}, "password"),
    ]
    for body, field in cases:
        response = await api.client.post("/v1/users", json=body, headers=admin)
        assert response.status_code == 422, body
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert any(field in f for f in fields), (body, fields)
    missing_password = {k: v for k, v in new_user("resident").items() if k != "password"}
    assert (
        await api.client.post("/v1/users", json=missing_password, headers=admin)
    ).status_code == 422
    assert await api.snapshot() == before


async def test_email_taken_in_a_council_but_free_in_another(api: Api, world: World) -> None:
    admin = world.headers["north_admin"]
    before = await api.snapshot()
    taken = await api.client.post(
        "/v1/users", headers=admin, json=new_user(email="PRO@north.example")
    )
    assert taken.status_code == 409
    assert await api.snapshot() == before
    elsewhere = await api.client.post(
        "/v1/users", headers=world.headers["south_admin"], json=new_user(email="pro@north.example")
    )
    assert elsewhere.status_code == 201


async def test_reading_users(api: Api, world: World) -> None:
    rid = world.ids["north_resident"]
    self_read = await api.client.get(f"/v1/users/{rid}", headers=world.headers["north_resident"])
    assert self_read.status_code == 200 and self_read.json()["email"] == "rita@north.example"
    by_oncall = await api.client.get(f"/v1/users/{rid}", headers=world.headers["north_oncall"])
    assert by_oncall.status_code == 200 and "email" not in by_oncall.json()
    by_admin = await api.client.get(f"/v1/users/{rid}", headers=world.headers["north_admin"])
    assert by_admin.json()["email"] == "rita@north.example"
    family = await api.client.get(f"/v1/users/{rid}", headers=world.headers["north_family"])
    assert family.status_code == 403
    missing = await api.client.get("/v1/users/nobody", headers=world.headers["north_admin"])
    assert missing.status_code == 404
    bad_id = await api.client.get("/v1/users/" + "x" * 65, headers=world.headers["north_admin"])
    assert bad_id.status_code == 422


async def test_listing_users_by_role_with_paging(api: Api, world: World) -> None:
    admin = world.headers["north_admin"]
    for n in range(3):
        await api.client.post(
            "/v1/users", headers=admin, json=new_user("resident", email=f"r{n}@north.example")
        )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"role": "resident", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await api.client.get("/v1/users", params=params, headers=admin)).json()
        seen.extend(u["id"] for u in page["items"])
        assert all(u["role"] == "resident" for u in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 4
    everyone = (await api.client.get("/v1/users", params={"limit": 200}, headers=admin)).json()
    assert {u["tenant_id"] for u in everyone["items"]} == {world.north["id"]}
    assert len(everyone["items"]) == 8
    for who in ("north_resident", "north_family"):
        assert (await api.client.get("/v1/users", headers=world.headers[who])).status_code == 403
    for params in ({"role": "wizard"}, {"limit": 0}, {"limit": 1000}, {"cursor": "!!!"}):
        response = await api.client.get("/v1/users", params=params, headers=admin)
        assert response.status_code in (400, 422), params


async def test_another_council_sees_nothing(api: Api, world: World) -> None:
    before = await api.snapshot()
    south_admin = world.headers["south_admin"]
    for uid in (world.ids["north_resident"], world.ids["north_admin"], world.ids["north_pro"]):
        read = await api.client.get(f"/v1/users/{uid}", headers=south_admin)
        assert read.status_code == 404 and "Rita" not in read.text
        role = await api.client.put(
            f"/v1/users/{uid}/role", json={"role": "oncall"}, headers=south_admin
        )
        assert role.status_code == 404
        off = await api.client.post(f"/v1/users/{uid}/deactivate", headers=south_admin)
        assert off.status_code == 404
    listed = (await api.client.get("/v1/users", params={"limit": 200}, headers=south_admin)).json()
    assert world.ids["north_resident"] not in {u["id"] for u in listed["items"]}
    # Platform administrators do not see into councils either.
    assert (
        await api.client.get(f"/v1/users/{world.ids['north_resident']}", headers=world.root)
    ).status_code == 404
    assert await api.snapshot() == before


async def test_role_change_and_deactivation_publish_events(api: Api, world: World) -> None:
    admin = world.headers["north_admin"]
    oncall = world.ids["north_oncall"]
    changed = await api.client.put(
        f"/v1/users/{oncall}/role", json={"role": "professional"}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["role"] == "professional"
    fresh = await api.login("north", "oncall@north.example")
    import jwt

    assert jwt.decode(fresh["access_token"], options={"verify_signature": False})["roles"] == [
        "professional"
    ]
    off = await api.client.post(f"/v1/users/{oncall}/deactivate", headers=admin)
    assert off.status_code == 200
    again = await api.client.post(f"/v1/users/{oncall}/deactivate", headers=admin)
    assert again.status_code == 200
    events = [e for e in await api.outbox("users") if e["subject"] == oncall]
    assert [e["type"] for e in events] == [
        "identity.user.registered",
        "identity.user.role_changed",
        "identity.user.deactivated",
    ]
    assert events[1]["data"] == {
        "user_id": oncall,
        "old_role": "oncall",
        "new_role": "professional",
        "changed_by": world.ids["north_admin"],
    }


async def test_role_change_refusals(api: Api, world: World) -> None:
    before = await api.snapshot()
    admin = world.headers["north_admin"]
    cases = [
        (world.ids["north_resident"], {"role": "family"}, admin, 422),
        (world.ids["north_oncall"], {"role": "platform_admin"}, admin, 422),
        (world.ids["north_oncall"], {"role": "resident"}, admin, 422),
        (world.ids["north_admin"], {"role": "oncall"}, admin, 403),
        (world.ids["north_oncall"], {"role": "professional"}, world.headers["north_pro"], 403),
        (world.ids["north_oncall"], {"role": "nonsense"}, admin, 422),
        (world.ids["north_oncall"], {"role": "professional", "why": "x"}, admin, 422),
    ]
    for uid, body, headers, status in cases:
        response = await api.client.put(f"/v1/users/{uid}/role", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
    self_off = await api.client.post(
        f"/v1/users/{world.ids['north_admin']}/deactivate", headers=admin
    )
    assert self_off.status_code == 403
    by_pro = await api.client.post(
        f"/v1/users/{world.ids['north_resident']}/deactivate", headers=world.headers["north_pro"]
    )
    assert by_pro.status_code == 403
    assert await api.snapshot() == before


async def test_platform_admins_manage_only_the_platform(api: Api, world: World) -> None:
    second = await api.client.post(
        "/v1/users", headers=world.root, json=new_user("platform_admin", email="ops@hearth.example")
    )
    assert second.status_code == 201
    assert second.json()["tenant_id"] != world.north["id"]
    council_user = await api.client.post(
        "/v1/users", headers=world.root, json=new_user("resident", email="r@hearth.example")
    )
    assert council_user.status_code == 403
