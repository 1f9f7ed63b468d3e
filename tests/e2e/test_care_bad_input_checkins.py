"""Bad input to check-ins, through the gateway, from callers who may act: schedules,
pauses, check-ins and help requests (the council and the checks: `support.care_input`).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.care_input import (
    RES,
    SCHED,
    SCHEDULE,
    TOO_LONG_CHECKIN_NOTE,
    Bad,
    Setting,
    check_refused,
    help_alerts,
    make_setting,
    pause,
    raise_help_alert,
)
from support.surface import error_of, fields_of

from hearth_devstack.seed import SeedResult

CASES = [
    # ---- check-in schedules ------------------------------------------------------------
    Bad("unknown-timezone", "PUT", SCHED, {**SCHEDULE, "timezone": "Mars/Olympus_Mons"},
        422, "timezone", "schedule", code="unknown_timezone"),
    Bad("timezone-not-a-string", "PUT", SCHED, {**SCHEDULE, "timezone": 0},
        422, "timezone", "schedule"),
    Bad("hour-25", "PUT", SCHED, {**SCHEDULE, "times": [{"at": "25:00"}]},
        422, "times.0.at", "schedule", code="invalid_time"),
    Bad("minute-60", "PUT", SCHED, {**SCHEDULE, "times": [{"at": "12:60"}]},
        422, "times.0.at", "schedule", code="invalid_time"),
    Bad("time-24-00", "PUT", SCHED, {**SCHEDULE, "times": [{"at": "24:00"}]},
        422, "times.0.at", "schedule", code="invalid_time"),
    Bad("time-in-words", "PUT", SCHED, {**SCHEDULE, "times": [{"at": "9am"}]},
        422, "times.0.at", "schedule", code="invalid_time"),
    Bad("unknown-day", "PUT", SCHED, {**SCHEDULE, "times": [{"at": "09:00", "days": ["funday"]}]},
        422, "times.0.days", "schedule"),
    Bad("no-times", "PUT", SCHED, {**SCHEDULE, "times": []}, 422, "times", "schedule"),
    Bad("same-time-twice", "PUT", SCHED, {**SCHEDULE, "times": [{"at": "09:00"}, {"at": "09:00"}]},
        422, "times", "schedule"),
    Bad("times-closer-than-grace", "PUT", SCHED,
        {**SCHEDULE, "times": [{"at": "09:00"}, {"at": "09:20"}]}, 422, "times", "schedule"),
    Bad("zero-grace", "PUT", SCHED, {**SCHEDULE, "grace_minutes": 0},
        422, "grace_minutes", "schedule"),
    Bad("negative-grace", "PUT", SCHED, {**SCHEDULE, "grace_minutes": -5},
        422, "grace_minutes", "schedule"),
    Bad("grace-as-text", "PUT", SCHED, {**SCHEDULE, "grace_minutes": "30"},
        422, "grace_minutes", "schedule"),
    Bad("reminder-outside-window", "PUT", SCHED, {**SCHEDULE, "reminder_minutes_before": [600]},
        422, "reminder_minutes_before", "schedule"),
    Bad("times-not-a-list", "PUT", SCHED, {**SCHEDULE, "times": "09:00"}, 422, "times", "schedule"),
    Bad("schedule-unknown-field", "PUT", SCHED, {**SCHEDULE, "snooze": True},
        422, "snooze", "schedule"),
    Bad("schedule-not-an-object", "PUT", SCHED, [SCHEDULE], 422, None, "schedule"),
    Bad("schedule-malformed-json", "PUT", SCHED, b'{"times": [{"at": "09:00"}',
        400, None, "schedule", code="malformed_json"),
    # ---- pauses ------------------------------------------------------------------------
    Bad("overlapping-pause", "POST", f"{SCHED}/pauses", pause(10.5, 12),
        409, "starts_at", "schedule", code="pause_overlaps"),
    Bad("pause-inside-another", "POST", f"{SCHED}/pauses", pause(10.2, 10.4),
        409, "starts_at", "schedule", code="pause_overlaps"),
    Bad("pause-ends-before-it-starts", "POST", f"{SCHED}/pauses", pause(30, 29),
        422, "ends_at", "schedule"),
    Bad("pause-of-no-length", "POST", f"{SCHED}/pauses", pause(30, 30),
        422, "ends_at", "schedule"),
    Bad("pause-already-over", "POST", f"{SCHED}/pauses", pause(-3, -2),
        422, "ends_at", "schedule"),
    Bad("pause-over-a-year", "POST", f"{SCHED}/pauses", pause(30, 430),
        422, "ends_at", "schedule"),
    Bad("pause-over-a-year-ahead", "POST", f"{SCHED}/pauses", pause(400, 401),
        422, "starts_at", "schedule"),
    Bad("pause-without-offset", "POST", f"{SCHED}/pauses",
        {"starts_at": "2027-03-01T10:00:00", "ends_at": "2027-03-02T10:00:00",
         "reason": "holiday"}, 422, "starts_at", "schedule"),
    Bad("pause-unknown-reason", "POST", f"{SCHED}/pauses", {**pause(30, 31), "reason": "party"},
        422, "reason", "schedule"),
    Bad("pause-note-too-long", "POST", f"{SCHED}/pauses", pause(30, 31, note="n" * 501),
        422, "note", "schedule"),
    Bad("pause-date-not-a-date", "POST", f"{SCHED}/pauses",
        {**pause(30, 31), "starts_at": "next tuesday"}, 422, "starts_at", "schedule"),
    Bad("pause-unknown-field", "POST", f"{SCHED}/pauses", pause(30, 31, all_day=True),
        422, "all_day", "schedule"),
    Bad("pause-malformed-json", "POST", f"{SCHED}/pauses", b"{starts_at: tomorrow}",
        400, None, "schedule", code="malformed_json"),
    Bad("end-unknown-pause", "DELETE", f"{SCHED}/pauses/no-such-pause", None,
        404, None, "schedule", code="pause_not_found"),
    Bad("end-pause-odd-id", "DELETE", f"{SCHED}/pauses/{'p' * 65}", None,
        422, "pause_id", "schedule"),
    # ---- check-ins (by the resident) ---------------------------------------------------
    Bad("mood-zero", "POST", f"{RES}/checkins", {"status": "ok", "mood": 0},
        422, "mood", "checkins", who="resident"),
    Bad("mood-six", "POST", f"{RES}/checkins", {"status": "ok", "mood": 6},
        422, "mood", "checkins", who="resident"),
    Bad("mood-as-text", "POST", f"{RES}/checkins", {"status": "ok", "mood": "3"},
        422, "mood", "checkins", who="resident"),
    Bad("mood-fraction", "POST", f"{RES}/checkins", {"status": "ok", "mood": 3.5},
        422, "mood", "checkins", who="resident"),
    Bad("checkin-note-too-long", "POST", f"{RES}/checkins",
        {"status": "ok", "note": TOO_LONG_CHECKIN_NOTE}, 422, "note", "checkins", who="resident"),
    Bad("unknown-status", "POST", f"{RES}/checkins", {"status": "great"},
        422, "status", "checkins", who="resident"),
    Bad("no-status", "POST", f"{RES}/checkins", {"mood": 3},
        422, "status", "checkins", who="resident"),
    Bad("resident-as-staff-channel", "POST", f"{RES}/checkins", {"status": "ok", "channel": "staff"},
        422, "channel", "checkins", who="resident"),
    Bad("checkin-unknown-field", "POST", f"{RES}/checkins", {"status": "ok", "location": "home"},
        422, "location", "checkins", who="resident"),
    Bad("checkin-malformed-json", "POST", f"{RES}/checkins", b'{"status": "ok",}',
        400, None, "checkins", who="resident", code="malformed_json"),
    Bad("idempotency-key-too-long", "POST", f"{RES}/checkins", {"status": "ok"},
        422, "Idempotency-Key", "checkins", who="resident",
        headers=(("Idempotency-Key", "k" * 257),)),
    Bad("request-too-large", "POST", f"{RES}/checkins", {"status": "ok", "note": "x" * 1_100_000},
        413, None, "checkins", who="resident"),
]  # fmt: skip


@pytest.fixture(scope="module")
def setting(http: httpx.Client, demo: SeedResult) -> Setting:
    return make_setting(http, demo)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_refused_with_a_reason_and_changes_nothing(
    http: httpx.Client, setting: Setting, case: Bad
) -> None:
    check_refused(http, setting, case)


def test_bad_help_requests_raise_nothing(http: httpx.Client, setting: Setting) -> None:
    """Refused help requests publish nothing: a good one sent after them is the only new
    alert once it is there (one resident's events stay in order on one partition)."""
    resident = setting.people["resident"]
    path = f"/v1/residents/{resident.id}/help"
    bad: list[tuple[Any, str | None]] = [
        ({"note": TOO_LONG_CHECKIN_NOTE}, "note"),
        ({"channel": "staff"}, "channel"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"urgent": True}, "urgent"),
        ([], None),
        (b'{"note": ', None),
    ]
    before = {a["id"] for a in help_alerts(http, setting)}
    for body, field in bad:
        if isinstance(body, bytes):
            headers = {**resident.auth, "Content-Type": "application/json"}
            response = http.post(path, content=body, headers=headers)
        else:
            response = http.post(path, json=body, headers=resident.auth)
        assert response.status_code in (400, 422), (body, response.text)
        error = error_of(response)
        if field is not None:
            assert field in fields_of(error), error
    good = raise_help_alert(http, setting)
    after = {a["id"] for a in help_alerts(http, setting)}
    assert after - before == {good}
