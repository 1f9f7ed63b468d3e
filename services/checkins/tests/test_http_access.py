"""Tenancy and roles on every route: who gets what, and refusals change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from checkins_testkit import Api

from hearth_checkins.handlers.identity_events import people_events
from hearth_contracts.identity import CircleMemberRemoved
from hearth_kit.testing import identity_envelope

ROUTES = ("get_schedule", "put_schedule", "add_pause", "end_pause", "check_in", "list", "help")
ALL_OK = {
    "get_schedule": 200,
    "put_schedule": 200,
    "add_pause": 201,
    "end_pause": 200,
    "check_in": 201,
    "list": 200,
    "help": 202,
}
HIDDEN = dict.fromkeys(ROUTES, 404)
EXPECTED: dict[str, dict[str, int]] = {
    "rita": ALL_OK,  # the resident herself
    "pat": ALL_OK,  # staff of her council
    "olly": ALL_OK,
    "ada": ALL_OK,
    # Her daughter, in her circle: sees, asks for help, changes nothing.
    "dana": {
        "get_schedule": 200,
        "put_schedule": 403,
        "add_pause": 403,
        "end_pause": 403,
        "check_in": 403,
        "list": 200,
        "help": 202,
    },
    "carl": HIDDEN,  # a carer outside her circle
    "ron": HIDDEN,  # another resident
    "sue": HIDDEN,  # staff of another council
    "sam": HIDDEN,  # a resident of another council
    "root": HIDDEN,  # platform administrators see no resident's data
}


async def call_every_route(api: Api, caller: str, pause_id: str) -> dict[str, int]:
    h = api.headers(caller)
    base = "/v1/residents/rita"
    staff = caller in ("pat", "olly", "ada")
    calls: dict[str, Any] = {
        "get_schedule": api.client.get(f"{base}/checkin-schedule", headers=h),
        "put_schedule": api.client.put(
            f"{base}/checkin-schedule",
            json={"timezone": "Europe/London", "times": [{"at": "09:30"}]},
            headers=h,
        ),
        "add_pause": api.client.post(
            f"{base}/checkin-schedule/pauses",
            json={
                "starts_at": "2026-03-01T00:00:00Z",
                "ends_at": "2026-03-02T00:00:00Z",
                "reason": "holiday",
            },
            headers=h,
        ),
        "end_pause": api.client.delete(f"{base}/checkin-schedule/pauses/{pause_id}", headers=h),
        "check_in": api.client.post(
            f"{base}/checkins",
            json={"status": "ok", "channel": "phone" if staff else "app"},
            headers=h,
        ),
        "list": api.client.get(f"{base}/checkins", headers=h),
        "help": api.client.post(f"{base}/help", json={}, headers=h),
    }
    statuses = {}
    for name in ROUTES:
        response = await calls[name]
        statuses[name] = response.status_code
        if response.status_code >= 400:
            assert response.json()["error"]["code"], response.text
    return statuses


async def prepare(api: Api) -> str:
    assert (await api.put_schedule()).status_code == 200
    pause = await api.client.post(
        "/v1/residents/rita/checkin-schedule/pauses",
        json={
            "starts_at": "2026-02-01T00:00:00Z",
            "ends_at": "2026-02-05T00:00:00Z",
            "reason": "hospital",
            "note": "planned operation",
        },
        headers=api.headers("pat"),
    )
    assert pause.status_code == 201, pause.text
    return str(pause.json()["pause"]["id"])


@pytest.mark.parametrize("caller", sorted(EXPECTED))
async def test_each_caller_gets_what_their_role_allows(api: Api, caller: str) -> None:
    pause_id = await prepare(api)
    before = await api.deps.repos.states.collection.get("tenant-north", "rita")
    statuses = await call_every_route(api, caller, pause_id)
    assert statuses == EXPECTED[caller]
    mutating = ("put_schedule", "add_pause", "end_pause", "check_in")
    if all(statuses[name] >= 400 for name in mutating):
        after = await api.deps.repos.states.collection.get("tenant-north", "rita")
        assert after == before  # refused calls changed nothing
        listed = await api.client.get("/v1/residents/rita/checkins", headers=api.headers("pat"))
        assert listed.json()["items"] == []
    if statuses["help"] != 202:
        assert await api.help_events() == []


async def test_without_a_token_every_route_is_401(api: Api) -> None:
    pause_id = await prepare(api)
    for method, path in [
        ("GET", "/checkin-schedule"),
        ("PUT", "/checkin-schedule"),
        ("POST", "/checkin-schedule/pauses"),
        ("DELETE", f"/checkin-schedule/pauses/{pause_id}"),
        ("POST", "/checkins"),
        ("GET", "/checkins"),
        ("POST", "/help"),
    ]:
        response = await api.client.request(method, f"/v1/residents/rita{path}", json={})
        assert response.status_code == 401, (method, path, response.text)
        bad = await api.client.request(
            method,
            f"/v1/residents/rita{path}",
            json={},
            headers={"Authorization": "Bearer not-a-token"},
        )
        assert bad.status_code == 401


async def test_another_councils_resident_is_never_found_even_with_the_same_id(api: Api) -> None:
    # Sam lives in the south; northern staff cannot reach him, whoever identity knows.
    response = await api.put_schedule(resident="sam", by="pat")
    assert response.status_code == 404
    sue = await api.put_schedule(resident="sam", by="sue")
    assert sue.status_code == 200
    for path in ("/checkin-schedule", "/checkins"):
        assert (
            await api.client.get(f"/v1/residents/sam{path}", headers=api.headers("pat"))
        ).status_code == 404


async def test_removing_someone_from_the_circle_removes_their_view(api: Api) -> None:
    await prepare(api)
    url = "/v1/residents/rita/checkin-schedule"
    assert (await api.client.get(url, headers=api.headers("dana"))).status_code == 200
    removed = CircleMemberRemoved(resident_id="rita", member_id="dana", removed_by="rita")
    await people_events(api.deps).on_circle_member_removed(
        removed, identity_envelope(removed, "tenant-north", "rita")
    )
    assert (await api.client.get(url, headers=api.headers("dana"))).status_code == 404
