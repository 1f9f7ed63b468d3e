"""Bad input gets a clear 4xx naming what is wrong, and leaves nothing half-written."""

from __future__ import annotations

from typing import Any

import pytest
from checkins_testkit import Api

from hearth_checkins.handlers.identity_events import people_events
from hearth_contracts.identity import UserRegistered
from hearth_kit.testing import identity_envelope

SCHEDULE = "/v1/residents/rita/checkin-schedule"


async def stored(api: Api, resident: str = "rita") -> dict[str, Any] | None:
    return await api.deps.repos.states.collection.get("tenant-north", resident)


def field_of(response: Any) -> str:
    details = response.json()["error"]["details"]
    return str(details[0]["field"]) if details else ""


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons", "times": [{"at": "09:00"}]}, 422, "timezone"),
        ({"timezone": "europe/london", "times": [{"at": "09:00"}]}, 422, "timezone"),
        ({"times": [{"at": "25:00"}]}, 422, "times.0.at"),
        ({"times": [{"at": "09:75"}]}, 422, "times.0.at"),
        ({"times": [{"at": "nine"}]}, 422, "times.0.at"),
        ({"times": [{"at": "09:00", "days": ["someday"]}]}, 422, "times.0.days"),
        ({"times": []}, 422, "times"),
        ({"times": [{"at": "09:00"}, {"at": "09:10"}], "grace_minutes": 30}, 422, "times"),
        ({"times": [{"at": "09:00"}], "grace_minutes": 0}, 422, "grace_minutes"),
        ({"times": [{"at": "09:00"}], "grace_minutes": "30"}, 422, "body.grace_minutes"),
        (
            {"times": [{"at": "09:00"}], "reminder_minutes_before": [600]},
            422,
            "reminder_minutes_before",
        ),
        (
            {"times": [{"at": "09:00"}], "reminder_minutes_before": [10, 10]},
            422,
            "reminder_minutes_before",
        ),
        ({"times": [{"at": "09:00"}], "colour": "blue"}, 422, "body.colour"),
        ({"timezone": "Europe/London"}, 422, "body.times"),
    ],
)
async def test_bad_schedules_are_refused_and_nothing_is_stored(
    api: Api, body: dict[str, Any], status: int, field: str
) -> None:
    response = await api.client.put(SCHEDULE, json=body, headers=api.headers("pat"))
    assert response.status_code == status, response.text
    assert field_of(response) == field
    assert await stored(api) is None


async def test_a_bad_change_leaves_the_previous_schedule_in_place(api: Api) -> None:
    assert (await api.put_schedule()).status_code == 200
    before = await stored(api)
    response = await api.put_schedule(times=[{"at": "24:00"}])
    assert response.status_code == 422
    assert await stored(api) == before


async def test_timezone_defaults_to_the_councils_and_is_required_without_one(api: Api) -> None:
    response = await api.client.put(
        SCHEDULE, json={"times": [{"at": "09:00"}]}, headers=api.headers("pat")
    )
    assert response.status_code == 200, response.text
    assert response.json()["timezone"] == "Europe/London"
    # The south's timezone was never announced: a schedule there must name one.
    sam = "/v1/residents/sam/checkin-schedule"
    missing = await api.client.put(
        sam, json={"times": [{"at": "09:00"}]}, headers=api.headers("sue")
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "timezone_required"
    assert await stored(api, "sam") is None


async def test_malformed_json_and_bad_ids_are_4xx(api: Api) -> None:
    h = {**api.headers("pat"), "content-type": "application/json"}
    malformed = await api.client.put(SCHEDULE, content=b"{not json", headers=h)
    assert malformed.status_code == 400
    for bad in ("a%20b", "x" * 65, "rita%2F..%2Fron"):
        response = await api.client.get(
            f"/v1/residents/{bad}/checkin-schedule", headers=api.headers("pat")
        )
        assert response.status_code in (404, 422), (bad, response.text)
        assert response.status_code != 200


PAUSES = f"{SCHEDULE}/pauses"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (
            {
                "starts_at": "2026-02-01T00:00:00",
                "ends_at": "2026-02-02T00:00:00Z",
                "reason": "holiday",
            },
            422,
            "body.starts_at",
        ),  # no offset: ambiguous
        (
            {
                "starts_at": "2026-02-02T00:00:00Z",
                "ends_at": "2026-02-01T00:00:00Z",
                "reason": "holiday",
            },
            422,
            "ends_at",
        ),
        (
            {
                "starts_at": "2026-01-01T00:00:00Z",
                "ends_at": "2026-01-02T00:00:00Z",
                "reason": "holiday",
            },
            422,
            "ends_at",
        ),  # already over
        (
            {
                "starts_at": "2026-02-01T00:00:00Z",
                "ends_at": "2027-06-01T00:00:00Z",
                "reason": "holiday",
            },
            422,
            "ends_at",
        ),  # over a year
        (
            {
                "starts_at": "2026-02-01T00:00:00Z",
                "ends_at": "2026-02-02T00:00:00Z",
                "reason": "boredom",
            },
            422,
            "body.reason",
        ),
        (
            {
                "starts_at": "2026-02-01T00:00:00Z",
                "ends_at": "2026-02-02T00:00:00Z",
                "reason": "other",
                "note": "x" * 501,
            },
            422,
            "body.note",
        ),
    ],
)
async def test_bad_pauses_are_refused(
    api: Api, body: dict[str, Any], status: int, field: str
) -> None:
    assert (await api.put_schedule()).status_code == 200
    before = await stored(api)
    response = await api.client.post(PAUSES, json=body, headers=api.headers("pat"))
    assert response.status_code == status, response.text
    assert field_of(response) == field
    assert await stored(api) == before


async def test_overlapping_pauses_are_a_conflict(api: Api) -> None:
    assert (await api.put_schedule()).status_code == 200
    first = await api.client.post(
        PAUSES,
        json={
            "starts_at": "2026-02-01T00:00:00Z",
            "ends_at": "2026-02-10T00:00:00Z",
            "reason": "holiday",
        },
        headers=api.headers("pat"),
    )
    assert first.status_code == 201
    before = await stored(api)
    overlapping = await api.client.post(
        PAUSES,
        json={
            "starts_at": "2026-02-09T12:00:00+01:00",
            "ends_at": "2026-02-12T00:00:00Z",
            "reason": "hospital",
        },
        headers=api.headers("rita"),
    )
    assert overlapping.status_code == 409
    assert overlapping.json()["error"]["code"] == "pause_overlaps"
    assert await stored(api) == before
    missing = await api.client.delete(f"{PAUSES}/no-such-pause", headers=api.headers("pat"))
    assert missing.status_code == 404


async def test_pausing_without_a_schedule_is_404(api: Api) -> None:
    response = await api.client.post(
        PAUSES,
        json={
            "starts_at": "2026-02-01T00:00:00Z",
            "ends_at": "2026-02-02T00:00:00Z",
            "reason": "holiday",
        },
        headers=api.headers("pat"),
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_schedule"


@pytest.mark.parametrize(
    ("by", "body", "headers", "field"),
    [
        ("rita", {"status": "fine"}, {}, "body.status"),
        ("rita", {"status": "ok", "mood": 6}, {}, "body.mood"),
        ("rita", {"status": "ok", "mood": 0}, {}, "body.mood"),
        ("rita", {"status": "ok", "mood": "3"}, {}, "body.mood"),
        ("rita", {"status": "ok", "note": "x" * 1001}, {}, "body.note"),
        ("rita", {"status": "ok", "channel": "visit"}, {}, "channel"),
        ("pat", {"status": "ok", "channel": "app"}, {}, "channel"),
        ("rita", {"status": "ok"}, {"Idempotency-Key": "has spaces"}, "Idempotency-Key"),
        ("rita", {"status": "ok", "extra": 1}, {}, "body.extra"),
    ],
)
async def test_bad_check_ins_are_refused_and_nothing_is_recorded(
    api: Api, by: str, body: dict[str, Any], headers: dict[str, str], field: str
) -> None:
    assert (await api.put_schedule()).status_code == 200
    before = await stored(api)
    response = await api.client.post(
        "/v1/residents/rita/checkins", json=body, headers=api.headers(by, **headers)
    )
    assert response.status_code == 422, response.text
    assert field_of(response) == field
    assert await stored(api) == before
    listed = await api.client.get("/v1/residents/rita/checkins", headers=api.headers("pat"))
    assert listed.json()["items"] == []


async def test_bad_help_requests_are_refused(api: Api) -> None:
    url = "/v1/residents/rita/help"
    too_long = await api.client.post(url, json={"note": "x" * 1001}, headers=api.headers("rita"))
    assert too_long.status_code == 422
    wrong_channel = await api.client.post(
        url, json={"channel": "visit"}, headers=api.headers("rita")
    )
    assert wrong_channel.status_code == 422
    assert await api.help_events() == []


async def test_listing_limits_are_bounded(api: Api) -> None:
    url = "/v1/residents/rita/checkins"
    for query in ("limit=0", "limit=101", "limit=x", "cursor=" + "a" * 600, "cursor=garbage"):
        response = await api.client.get(f"{url}?{query}", headers=api.headers("pat"))
        assert response.status_code in (400, 422), (query, response.text)


async def test_staff_cannot_schedule_someone_who_is_not_a_resident(api: Api) -> None:
    # Olly is staff; identity knows him, and he is not a resident.
    data = UserRegistered(user_id="olly", role="oncall")
    await people_events(api.deps).on_user_registered(
        data, identity_envelope(data, "tenant-north", "olly")
    )
    response = await api.put_schedule(resident="olly", by="pat")
    assert response.status_code == 404
    assert await stored(api, "olly") is None
