"""What happens over time, through the HTTP API, with the fake clock driving deadlines."""

from __future__ import annotations

from checkins_testkit import Api, ts

from hearth_checkins.handlers.identity_events import people_events
from hearth_contracts.identity import UserDeactivated, UserErasureRequested
from hearth_kit.people import Person
from hearth_kit.testing import NORTH, eventually, identity_envelope


async def wait_for_events(api: Api, expected: list[str], resident: str = "rita") -> None:
    async def arrived() -> bool:
        return await api.event_types(resident) == expected

    try:
        await eventually(arrived)
    except AssertionError:
        raise AssertionError(f"events {await api.event_types(resident)} != {expected}") from None


async def test_a_missed_deadline_publishes_one_miss_and_a_late_check_in_recovers(
    api: Api,
) -> None:
    assert (await api.put_schedule(reminder_minutes_before=[10])).status_code == 200
    api.clock.set(ts("2026-01-15T09:20"))  # the reminder: no event type yet, counted
    await eventually(lambda: _metric(api, "hearth_checkins_reminders_due_total"))
    api.clock.set(ts("2026-01-15T09:30"))
    await wait_for_events(api, ["checkins.checkin.missed"])
    missed = (await api.outbox("rita"))[0]
    assert missed["subject"] == "rita" and missed["tenant_id"] == NORTH
    assert missed["data"] == {
        "resident_id": "rita",
        "occurrence_id": "rita:2026-01-15T09:00",
        "due_at": "2026-01-15T09:00:00Z",
        "deadline_at": "2026-01-15T09:30:00Z",
    }
    assert missed["occurred_at"].startswith("2026-01-15T09:30:00")
    schedule = (
        await api.client.get("/v1/residents/rita/checkin-schedule", headers=api.headers("dana"))
    ).json()
    assert schedule["last"]["outcome"] == "missed"
    assert schedule["unrecovered"] == ["rita:2026-01-15T09:00"]
    assert schedule["next"]["local"] == "2026-01-16T09:00"
    # Nothing more happens until tomorrow, however often the timer looks.
    api.clock.set(ts("2026-01-15T12:00"))
    late = await api.check_in(mood=3, note="overslept")
    assert late.status_code == 201, late.text
    assert late.json()["recovered"] == ["rita:2026-01-15T09:00"]
    assert late.json()["occurrence_id"] is None
    assert await api.event_types("rita") == [
        "checkins.checkin.missed",
        "checkins.checkin.recorded",
        "checkins.checkin.recovered",
    ]
    recovered = (await api.outbox("rita"))[2]["data"]
    assert recovered == {
        "resident_id": "rita",
        "occurrence_id": "rita:2026-01-15T09:00",
        "checkin_id": late.json()["id"],
    }


async def test_an_on_time_check_in_means_no_miss(api: Api) -> None:
    assert (await api.put_schedule()).status_code == 200
    api.clock.set(ts("2026-01-15T08:55"))
    response = await api.check_in(mood=4)
    assert response.status_code == 201
    assert response.json()["occurrence_id"] == "rita:2026-01-15T09:00"
    assert (await api.deps.repos.states.collection.count_due(now=ts("2026-01-16T08:59")))[0] == 0
    assert await api.event_types("rita") == ["checkins.checkin.recorded"]
    recorded = (await api.outbox("rita"))[0]["data"]
    assert recorded["occurrence_due_at"] == "2026-01-15T09:00:00Z"
    assert recorded["mood"] == 4 and "note" not in recorded


async def test_a_repeated_request_is_answered_once(api: Api) -> None:
    assert (await api.put_schedule()).status_code == 200
    first = await api.check_in(key="tap-1")
    again = await api.check_in(key="tap-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert await api.event_types("rita") == ["checkins.checkin.recorded"]
    listed = await api.client.get("/v1/residents/rita/checkins", headers=api.headers("rita"))
    assert [c["id"] for c in listed.json()["items"]] == [first.json()["id"]]


async def test_staff_record_calls_and_visits_on_behalf(api: Api) -> None:
    assert (await api.put_schedule()).status_code == 200
    api.clock.set(ts("2026-01-15T09:10"))
    response = await api.check_in(by="pat", channel="phone", note="spoke on the phone")
    assert response.status_code == 201
    body = response.json()
    assert (body["channel"], body["recorded_by"]) == ("phone", "pat")
    assert body["occurrence_id"] == "rita:2026-01-15T09:00"


async def test_need_help_and_help_requests_raise_help_at_once(api: Api) -> None:
    assert (await api.put_schedule()).status_code == 200
    need = await api.check_in(status="need_help")
    assert need.status_code == 201
    assert await api.event_types("rita") == [
        "checkins.checkin.recorded",
        "checkins.help.requested",
    ]
    help_ = await api.client.post(
        "/v1/residents/rita/help", json={"note": "fell over"}, headers=api.headers("dana")
    )
    assert help_.status_code == 202
    events = await api.help_events()
    assert [e["type"] for e in events] == ["checkins.help.requested"]
    assert events[0]["data"] == {
        "resident_id": "rita",
        "request_id": help_.json()["request_id"],
        "channel": "app",
        "requested_by": "dana",
    }
    # A resident with no schedule at all can still ask for help.
    alone = await api.client.post("/v1/residents/ron/help", headers=api.headers("ron"))
    assert alone.status_code == 202


async def test_the_circle_sees_check_ins_without_notes_or_mood(api: Api) -> None:
    assert (await api.put_schedule()).status_code == 200
    assert (await api.check_in(mood=2, note="feeling low")).status_code == 201
    staff = await api.client.get("/v1/residents/rita/checkins", headers=api.headers("pat"))
    family = await api.client.get("/v1/residents/rita/checkins", headers=api.headers("dana"))
    assert staff.json()["items"][0]["note"] == "feeling low"
    assert staff.json()["items"][0]["mood"] == 2
    assert "note" not in family.json()["items"][0] and "mood" not in family.json()["items"][0]


async def test_check_ins_are_listed_newest_first_in_pages(api: Api) -> None:
    for minute in range(5):
        api.clock.set(ts(f"2026-01-15T10:0{minute}"))
        assert (await api.check_in(note=f"n{minute}")).status_code == 201
    url = "/v1/residents/rita/checkins?limit=2"
    notes: list[str] = []
    cursor = None
    while True:
        response = await api.client.get(
            url + (f"&cursor={cursor}" if cursor else ""), headers=api.headers("rita")
        )
        body = response.json()
        notes += [c["note"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert notes == ["n4", "n3", "n2", "n1", "n0"]


async def test_a_pause_silences_deadlines_and_ending_it_brings_them_back(api: Api) -> None:
    assert (await api.put_schedule()).status_code == 200
    pause = await api.client.post(
        "/v1/residents/rita/checkin-schedule/pauses",
        json={
            "starts_at": "2026-01-15T08:00:00Z",
            "ends_at": "2026-01-20T00:00:00Z",
            "reason": "hospital",
        },
        headers=api.headers("olly"),
    )
    assert pause.status_code == 201
    assert pause.json()["schedule"]["next"]["local"] == "2026-01-20T09:00"
    api.clock.set(ts("2026-01-16T10:00"))
    ended = await api.client.delete(
        f"/v1/residents/rita/checkin-schedule/pauses/{pause.json()['pause']['id']}",
        headers=api.headers("rita"),
    )
    assert ended.status_code == 200
    assert ended.json()["next"]["local"] == "2026-01-17T09:00"
    assert ended.json()["pauses"][0]["active"] is False
    api.clock.set(ts("2026-01-17T09:30"))
    await wait_for_events(api, ["checkins.checkin.missed"])


async def test_a_schedule_change_while_a_deadline_is_pending(api: Api) -> None:
    assert (await api.put_schedule()).status_code == 200
    api.clock.set(ts("2026-01-15T08:00"))
    moved = await api.put_schedule(times=[{"at": "11:00"}])
    assert moved.json()["next"]["local"] == "2026-01-15T11:00"
    due, _ = await api.deps.repos.states.collection.count_due(now=ts("2026-01-15T10:59"))
    assert due == 0  # the old 09:30 deadline is gone
    api.clock.set(ts("2026-01-15T11:30"))
    await wait_for_events(api, ["checkins.checkin.missed"])
    assert (await api.outbox("rita"))[0]["data"]["occurrence_id"] == "rita:2026-01-15T11:00"


async def test_staff_can_act_for_a_resident_identity_has_not_announced_yet(api: Api) -> None:
    api.identity.users["newbie"] = Person("newbie", "resident", True)
    response = await api.put_schedule(resident="newbie", by="pat")
    assert response.status_code == 200, response.text
    assert api.identity.calls == ["user:newbie"]
    # Remembered: identity is not asked again.
    assert (await api.put_schedule(resident="newbie", by="pat")).status_code == 200
    assert api.identity.calls == ["user:newbie"]
    unknown = await api.put_schedule(resident="nobody", by="pat")
    assert unknown.status_code == 404
    api.identity.down = True
    down = await api.put_schedule(resident="later", by="pat")
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "unavailable"


async def test_a_deactivated_resident_has_nothing_due_and_is_not_found(api: Api) -> None:
    assert (await api.put_schedule()).status_code == 200
    data = UserDeactivated(user_id="rita", deactivated_by="ada")
    await people_events(api.deps).on_user_deactivated(data, identity_envelope(data, NORTH, "rita"))
    count, _ = await api.deps.repos.states.collection.count_due(now=ts("2027-01-01T00:00"))
    assert count == 0
    api.clock.set(ts("2026-01-15T09:30"))
    for path in ("/checkin-schedule", "/checkins"):
        response = await api.client.get(f"/v1/residents/rita{path}", headers=api.headers("pat"))
        assert response.status_code == 404
    assert (await api.check_in()).status_code == 404
    assert await api.event_types("rita") == []


async def test_erasure_removes_what_checkins_holds_about_the_person(api: Api) -> None:
    assert (await api.put_schedule()).status_code == 200
    assert (await api.check_in(note="private")).status_code == 201
    assert (
        await api.client.post(
            "/v1/residents/rita/help", json={"note": "n"}, headers=api.headers("rita")
        )
    ).status_code == 202
    data = UserErasureRequested(user_id="rita", requested_by="ada")
    await people_events(api.deps).on_erasure_requested(data, identity_envelope(data, NORTH, "rita"))
    doc = await api.deps.repos.states.collection.get(NORTH, "rita")
    assert doc is not None
    assert doc["active"] is False and doc["schedule"] is None and doc["recent"] == []
    assert "private" not in str(doc)
    page = await api.deps.repos.history.page(NORTH, "rita", limit=10, cursor=None)
    assert page == ([], None)
    assert await api.deps.repos.directory.person(NORTH, "rita") is None


def _metric(api: Api, name: str) -> object:
    async def check() -> bool:
        value = api.app.state.registry.get_sample_value(name, {"tenant": NORTH})
        return bool(value)

    return check()
