"""HTTP tests of circles of support: invitations, joining, viewing, removing."""

from __future__ import annotations

from typing import Any

from identity_testkit import PASSWORD, Api, World


async def invite(
    api: Api,
    world: World,
    who: str = "north_resident",
    resident: str = "north_resident",
    **body: Any,
) -> Any:
    return await api.client.post(
        f"/v1/residents/{world.ids[resident]}/circle/invitations",
        json={"relationship": "family", **body},
        headers=world.headers[who],
    )


def joiner(code: str, email: str = "sam@family.example", **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "tenant": "north",
        "email": email,
        "password": PASSWORD,
        "display_name": "Sam Son",
        **extra,
    }


async def test_joined_member_is_in_the_circle_with_consent_and_events(
    api: Api, world: World
) -> None:
    rid, fid = world.ids["north_resident"], world.ids["north_family"]
    view = await api.client.get(
        f"/v1/residents/{rid}/circle", headers=world.headers["north_resident"]
    )
    assert view.status_code == 200
    body = view.json()
    assert body["members"] == [
        {
            "member_id": fid,
            "display_name": "Dana Daughter",
            "role": "family",
            "relationship": "family",
            "consent_by": rid,
            "consent_basis": "resident",
            "added_at": body["members"][0]["added_at"],
        }
    ]
    assert [a["action"] for a in body["audit"]] == ["invitation_created", "member_added"]
    assert body["invitations"][0]["status"] == "used"
    assert "code" not in str(body["invitations"])
    events = [e for e in await api.outbox("circles") if e["tenant_id"] == world.north["id"]]
    assert [(e["type"], e["subject"]) for e in events] == [
        ("identity.user.registered", fid),
        ("identity.circle.member_added", rid),
    ]
    assert events[1]["data"] == {
        "resident_id": rid,
        "member_id": fid,
        "relationship": "family",
        "consent_by": rid,
    }
    me = (await api.client.get("/v1/me", headers=world.headers["north_family"])).json()
    assert me["status"] == "active" and me["role"] == "family"


async def test_professional_invites_a_carer_with_consent(api: Api, world: World) -> None:
    refused = await invite(api, world, "north_pro", relationship="carer")
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "consent_confirmed"
    created = await invite(api, world, "north_pro", relationship="carer", consent_confirmed=True)
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    joined = await api.client.post(
        "/v1/circle/join", json=joiner(created.json()["code"], "carl@care.example")
    )
    assert joined.status_code == 201, joined.text
    assert joined.json()["user"]["role"] == "carer"
    assert joined.json()["relationship"] == "carer"
    members = (
        await api.client.get(
            f"/v1/residents/{world.ids['north_resident']}/circle",
            headers=world.headers["north_pro"],
        )
    ).json()["members"]
    carl = next(m for m in members if m["relationship"] == "carer")
    assert carl["consent_basis"] == "professional"
    assert carl["consent_by"] == world.ids["north_pro"]
    await api.login("north", "carl@care.example")


async def test_codes_are_one_time_and_expire(api: Api, world: World) -> None:
    code = (await invite(api, world)).json()["code"]
    assert (await api.client.post("/v1/circle/join", json=joiner(code))).status_code == 201
    before = await api.snapshot()
    reused = await api.client.post("/v1/circle/join", json=joiner(code, "other@x.example"))
    assert reused.status_code == 410
    late = (await invite(api, world)).json()["code"]
    api.clock.advance(7 * 24 * 3600 + 1)
    before = await api.snapshot()
    expired = await api.client.post("/v1/circle/join", json=joiner(late, "late@x.example"))
    assert expired.status_code == 410
    assert await api.snapshot() == before
    view = await api.client.get(
        f"/v1/residents/{world.ids['north_resident']}/circle",
        headers=world.headers["north_resident"],
    )
    assert [i["status"] for i in view.json()["invitations"]] == ["used", "used", "expired"]


async def test_bad_join_requests_leave_nothing_behind(api: Api, world: World) -> None:
    created = (await invite(api, world)).json()
    code = created["code"]
    before = await api.snapshot()
    rid = world.ids["north_resident"]
    cases = [
        (joiner(rid + ".wrongwrongwrongwrongwrong"), 404),
        (joiner("garbage"), 404),
        (joiner(code, tenant="south"), 404),
        (joiner(code, tenant="nowhere"), 404),
        (joiner(code, email="dana@family.example"), 409),  # taken
        (joiner(code, password="password1234"), 422),
        (joiner(code, password="samuel-kettle-9", display_name="Samuel Son"), 422),
        (joiner(code, email="bad-email"), 422),
        (joiner(code, role="council_admin"), 422),
        ({"code": code}, 422),  # new account needs the rest
        ({"code": code, "tenant": "north", "email": "s@x.example"}, 422),
        (joiner(code, display_name=""), 422),
        (joiner(code[:-1] + "!"), 404),
    ]
    for body, status in cases:
        response = await api.client.post("/v1/circle/join", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["message"]
    assert await api.snapshot() == before
    # The code still works afterwards.
    assert (await api.client.post("/v1/circle/join", json=joiner(code))).status_code == 201


async def test_existing_account_joins_while_signed_in(api: Api, world: World) -> None:
    admin = world.headers["north_admin"]
    second = await api.client.post(
        "/v1/users",
        headers=admin,
        json={
            "email": "bob@north.example",
            "password": PASSWORD,
            "display_name": "Bob Resident",
            "role": "resident",
        },
    )
    bob = second.json()["id"]
    bob_headers = await api.bearer("north", "bob@north.example")
    code = (
        await api.client.post(
            f"/v1/residents/{bob}/circle/invitations",
            json={"relationship": "neighbour"},
            headers=bob_headers,
        )
    ).json()["code"]
    dana = world.headers["north_family"]
    with_fields = await api.client.post(
        "/v1/circle/join", headers=dana, json={"code": code, "email": "x@y.example"}
    )
    assert with_fields.status_code == 422
    other_council = await api.client.post(
        "/v1/circle/join", headers=dana, json={"code": code, "tenant": "south"}
    )
    assert other_council.status_code == 403
    staff = await api.client.post(
        "/v1/circle/join", headers=world.headers["north_oncall"], json={"code": code}
    )
    assert staff.status_code == 403
    south = await api.client.post(
        "/v1/circle/join", headers=world.headers["south_admin"], json={"code": code}
    )
    assert south.status_code == 404
    joined = await api.client.post("/v1/circle/join", headers=dana, json={"code": code})
    assert joined.status_code == 201
    assert joined.json()["user"]["id"] == world.ids["north_family"]
    assert joined.json()["relationship"] == "neighbour"
    again = (
        await api.client.post(
            f"/v1/residents/{bob}/circle/invitations",
            json={"relationship": "family"},
            headers=bob_headers,
        )
    ).json()
    dup = await api.client.post("/v1/circle/join", headers=dana, json={"code": again["code"]})
    assert dup.status_code == 409


async def test_invitation_refusals(api: Api, world: World) -> None:
    before = await api.snapshot()
    for who in ("north_family", "north_oncall", "north_admin"):
        assert (await invite(api, world, who)).status_code == 403, who
    assert (await invite(api, world, "south_admin")).status_code == 404
    assert (await invite(api, world, "south_resident")).status_code == 404
    assert (await invite(api, world, relationship="professional")).status_code == 422
    assert (await invite(api, world, relationship="boss")).status_code == 422
    assert (await invite(api, world, note="hi")).status_code == 422
    assert (
        await invite(api, world, resident="north_pro", who="north_pro", consent_confirmed=True)
    ).status_code == 404
    assert await api.snapshot() == before


async def test_revoking_an_invitation(api: Api, world: World) -> None:
    created = (await invite(api, world)).json()
    rid = world.ids["north_resident"]
    url = f"/v1/residents/{rid}/circle/invitations/{created['invitation_id']}"
    assert (await api.client.delete(url, headers=world.headers["north_family"])).status_code == 403
    assert (await api.client.delete(url, headers=world.headers["south_admin"])).status_code == 404
    assert (
        await api.client.delete(url, headers=world.headers["north_resident"])
    ).status_code == 204
    assert (
        await api.client.delete(url, headers=world.headers["north_resident"])
    ).status_code == 410
    joined = await api.client.post("/v1/circle/join", json=joiner(created["code"]))
    assert joined.status_code == 410


async def test_viewing_the_circle(api: Api, world: World) -> None:
    url = f"/v1/residents/{world.ids['north_resident']}/circle"
    for who in ("north_resident", "north_pro"):
        body = (await api.client.get(url, headers=world.headers[who])).json()
        assert "audit" in body and "invitations" in body
    for who in ("north_family", "north_oncall", "north_admin"):
        response = await api.client.get(url, headers=world.headers[who])
        assert response.status_code == 200
        assert "audit" not in response.json() and "invitations" not in response.json()
    for who in ("south_admin", "south_pro", "south_resident"):
        response = await api.client.get(url, headers=world.headers[who])
        assert response.status_code == 404 and "Dana" not in response.text
    other = await api.client.post(
        "/v1/users",
        headers=world.headers["north_admin"],
        json={
            "email": "fay@family.example",
            "password": PASSWORD,
            "display_name": "Fay Family",
            "role": "resident",
        },
    )
    assert other.status_code == 201
    outsider_url = f"/v1/residents/{other.json()['id']}/circle"
    assert (
        await api.client.get(outsider_url, headers=world.headers["north_family"])
    ).status_code == 403
    not_resident = f"/v1/residents/{world.ids['north_pro']}/circle"
    assert (
        await api.client.get(not_resident, headers=world.headers["north_admin"])
    ).status_code == 404


async def test_removing_members(api: Api, world: World) -> None:
    rid, fid = world.ids["north_resident"], world.ids["north_family"]
    url = f"/v1/residents/{rid}/circle/{fid}"
    before = await api.snapshot()
    for who, status in (
        ("north_oncall", 403),
        ("north_admin", 403),
        ("south_admin", 404),
        ("south_pro", 404),
    ):
        response = await api.client.delete(url, headers=world.headers[who])
        assert response.status_code == status, who
    assert await api.snapshot() == before
    assert (
        await api.client.delete(url, headers=world.headers["north_resident"])
    ).status_code == 204
    assert (
        await api.client.delete(url, headers=world.headers["north_resident"])
    ).status_code == 404
    body = (
        await api.client.get(f"/v1/residents/{rid}/circle", headers=world.headers["north_resident"])
    ).json()
    assert body["members"] == []
    assert body["audit"][-1]["action"] == "member_removed"
    events = [e for e in await api.outbox("circles") if e["subject"] == rid]
    assert events[-1]["type"] == "identity.circle.member_removed"
    assert events[-1]["data"] == {"resident_id": rid, "member_id": fid, "removed_by": rid}
    # Dana can no longer see the circle.
    view = await api.client.get(
        f"/v1/residents/{rid}/circle", headers=world.headers["north_family"]
    )
    assert view.status_code == 403


async def test_a_member_may_leave(api: Api, world: World) -> None:
    rid, fid = world.ids["north_resident"], world.ids["north_family"]
    response = await api.client.delete(
        f"/v1/residents/{rid}/circle/{fid}", headers=world.headers["north_family"]
    )
    assert response.status_code == 204
    events = [e for e in await api.outbox("circles") if e["subject"] == rid]
    assert events[-1]["data"]["removed_by"] == fid
