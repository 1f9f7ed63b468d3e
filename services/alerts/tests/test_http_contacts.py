"""Contact methods over HTTP: a person's own, or their council administrator's to
manage; never another council's; webhooks only for staff, and never to local or private
addresses unless allowed."""

from __future__ import annotations

import pytest
from alerts_testkit import Council, Service

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_contact_methods_belong_to_the_person_or_their_councils_admin(
    council: Council, other_council: Council
) -> None:
    await council.register("oc-1")
    mine = council.headers("fam-1", "family")
    methods = {"methods": [{"channel": "email", "address": "fam@family.example"}]}
    put = await council.client.put("/v1/users/fam-1/contact-methods", json=methods, headers=mine)
    assert put.status_code == 200, put.text
    got = await council.client.get("/v1/users/fam-1/contact-methods", headers=mine)
    assert got.json() == {"methods": [{"channel": "email", "address": "fam@family.example"}]}
    someone_else = await council.client.get(
        "/v1/users/fam-1/contact-methods", headers=council.headers("fam-2", "family")
    )
    assert someone_else.status_code == 403
    staff_not_admin = await council.client.put(
        "/v1/users/fam-1/contact-methods",
        json={"methods": []},
        headers=council.headers("oc-1", "oncall"),
    )
    assert staff_not_admin.status_code == 403
    # Another council's administrator finds nobody of that id in their own council.
    theirs = await other_council.client.get(
        "/v1/users/fam-1/contact-methods", headers=other_council.admin
    )
    assert theirs.status_code == 404, theirs.text
    hook = {
        "methods": [{"channel": "webhook", "address": "http://127.0.0.1:9/x", "secret": "s" * 20}]
    }
    by_admin = await council.client.put(
        "/v1/users/oc-1/contact-methods", json=hook, headers=council.admin
    )
    assert by_admin.status_code == 200
    assert by_admin.json()["methods"][0]["secret"] == "s" * 20
    shown = await council.client.get("/v1/users/oc-1/contact-methods", headers=council.admin)
    assert shown.json()["methods"][0]["secret"] == "********"
    by_family = await council.client.put("/v1/users/fam-1/contact-methods", json=hook, headers=mine)
    assert by_family.status_code == 403


async def test_private_webhook_addresses_are_refused_when_not_allowed(council: Council) -> None:
    await council.register("oc-1")
    deps = council.service.app.state.alerts
    deps.allow_private_webhooks = False
    try:
        for address in ("http://127.0.0.1:8080/x", "http://10.0.0.5/x", "http://localhost/x"):
            body = {"methods": [{"channel": "webhook", "address": address}]}
            response = await council.client.put(
                "/v1/users/oc-1/contact-methods", json=body, headers=council.admin
            )
            assert response.status_code == 422, (address, response.text)
            assert "private" in response.json()["error"]["message"]
    finally:
        deps.allow_private_webhooks = True


async def test_an_administrator_manages_contact_methods_of_their_own_councils_people_only(
    council: Council, other_council: Council, service: Service
) -> None:
    await council.register("oc-4")
    await council.register("res-4", role="resident")
    console = {"methods": [{"channel": "console"}]}
    answers = []
    for user in ("oc-4", "made-up-4"):
        path = f"/v1/users/{user}/contact-methods"
        put = await other_council.client.put(path, json=console, headers=other_council.admin)
        got = await other_council.client.get(path, headers=other_council.admin)
        assert (put.status_code, got.status_code) == (404, 404), (put.text, got.text)
        answers.append((put.json(), got.json()))
    # The same answer for another council's person as for a made-up id.
    assert answers[0] == answers[1]
    assert answers[0][0]["error"]["code"] == "user_not_found"
    for tenant in (council.tenant_id, other_council.tenant_id):
        assert await service.repos.contacts.get(tenant, "oc-4") is None
    # Their own administrator may; a webhook is for staff, whoever sets it up.
    mine = await council.client.put(
        "/v1/users/oc-4/contact-methods", json=console, headers=council.admin
    )
    assert mine.status_code == 200, mine.text
    hook = {"methods": [{"channel": "webhook", "address": "https://care.example.org/h"}]}
    for_resident = await council.client.put(
        "/v1/users/res-4/contact-methods", json=hook, headers=council.admin
    )
    assert for_resident.status_code == 403, for_resident.text
