"""Bad input to check-ins and alerts, through the gateway, from callers who may act: the
council the suites (test_care_bad_input_*) work in, the bad requests' shape, and sending
them and reading what must not change.

Each bad request is refused with a clear 4xx in Hearth's one error shape
({"error": {"code", "message", "details": [{"field", "reason"}]}}), naming the field at
fault where there is one, and leaves no partial state: what the caller could read
before, they read after.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hearth_devstack.seed import SeedResult
from support.councils import Council, Person, new_council
from support.surface import error_of, fields_of, wait_for

SCHEDULE = {
    "timezone": "Europe/London",
    "times": [{"at": "08:30"}, {"at": "18:00", "days": ["mon", "wed", "fri"]}],
    "grace_minutes": 45,
    "reminder_minutes_before": [15],
}
NOW = datetime.now(UTC).replace(microsecond=0)


def at(days: float) -> str:
    return (NOW + timedelta(days=days)).isoformat()


def pause(start_days: float, end_days: float, **extra: Any) -> dict[str, Any]:
    return {"starts_at": at(start_days), "ends_at": at(end_days), "reason": "holiday", **extra}


def layer(**change: Any) -> dict[str, Any]:
    layer = {
        "name": "primary",
        "users": ["{oncall}"],
        "length_hours": 24,
        "handoff_time": "09:00",
        "start_date": "2026-01-05",
    }
    return {**layer, **change}


def rota(*layers: dict[str, Any], timezone: str = "Europe/London") -> dict[str, Any]:
    return {"timezone": timezone, "layers": list(layers) or [layer()]}


def step(delay: float = 0, *targets: dict[str, Any]) -> dict[str, Any]:
    return {"delay_seconds": delay, "targets": list(targets) or [{"type": "oncall"}]}


@dataclass(frozen=True)
class Bad:
    """One bad request: who sends it where, what comes back, and which view must stay."""

    id: str
    method: str
    path: str  # {resident}, {alert}, {oncall}, {pause} are filled in
    body: Any  # JSON, or bytes sent as they are (with a JSON content type)
    status: int
    field: str | None  # the field the error names (None: no single field)
    view: str  # the GET whose answer must not change
    who: str = "admin"
    code: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


RES = "/v1/residents/{resident}"
SCHED = f"{RES}/checkin-schedule"
TOO_LONG_CHECKIN_NOTE = "x" * 1001


@dataclass
class Setting:
    council: Council
    people: dict[str, Person]
    alert: str
    policy: str = "weekday-cover"

    def fill(self, text: str) -> str:
        return (
            text.replace("{resident}", self.people["resident"].id)
            .replace("{oncall}", self.people["oncall"].id)
            .replace("{alert}", self.alert)
            .replace("{policy}", self.policy)
        )

    def views(self) -> dict[str, tuple[str, str]]:
        """Each view: (GET path, who reads it)."""
        return {
            "schedule": (self.fill(SCHED), "admin"),
            "checkins": (self.fill(f"{RES}/checkins"), "admin"),
            "rota": ("/v1/oncall/rota", "admin"),
            "policy": (f"/v1/escalation-policies/{self.policy}", "admin"),
            "settings": ("/v1/alerts/settings", "admin"),
            "contacts": (self.fill("/v1/users/{oncall}/contact-methods"), "oncall"),
            "alert": (f"/v1/alerts/{self.alert}", "oncall"),
        }


def fill_json(setting: Setting, body: Any) -> Any:
    return json.loads(setting.fill(json.dumps(body)))


def make_setting(http: httpx.Client, demo: SeedResult) -> Setting:
    """A council with a resident's schedule, a pause and a check-in, a rota, a policy,
    alert settings, the on-call's contact methods and an open help alert."""
    council = new_council(http, demo, "edgebury")
    people = {"admin": council.admin, "resident": council.add("resident")}
    people["oncall"] = council.add("oncall")
    admin, resident = council.admin.auth, people["resident"]
    res = f"/v1/residents/{resident.id}"
    ok = [
        http.put(f"{res}/checkin-schedule", json=SCHEDULE, headers=admin),
        http.post(f"{res}/checkin-schedule/pauses", json=pause(10, 11), headers=admin),
        http.post(f"{res}/checkins", json={"status": "ok", "mood": 4}, headers=resident.auth),
    ]
    setting = Setting(council, people, alert="")
    ok.append(http.put("/v1/oncall/rota", json=fill_json(setting, rota()), headers=admin))
    policy = {"steps": [step(0), step(300, {"type": "layer", "layer": "primary"})]}
    ok.append(http.put(f"/v1/escalation-policies/{setting.policy}", json=policy, headers=admin))
    ok.append(http.put("/v1/alerts/settings", json={"severities": {}}, headers=admin))
    contacts = {"methods": [{"channel": "email", "address": "oncall@edgebury.example"}]}
    oncall = people["oncall"]
    path = f"/v1/users/{oncall.id}/contact-methods"
    ok.append(http.put(path, json=contacts, headers=oncall.auth))
    for response in ok:
        assert response.status_code in (200, 201), response.text
    setting.alert = raise_help_alert(http, setting)
    return setting


def help_alerts(http: httpx.Client, setting: Setting) -> list[dict[str, Any]]:
    listed = http.get("/v1/alerts", params={"limit": 200}, headers=setting.council.admin.auth)
    assert listed.status_code == 200, listed.text
    return [a for a in listed.json()["items"] if a["source"] == "help_requested"]


def raise_help_alert(http: httpx.Client, setting: Setting) -> str:
    resident = setting.people["resident"]
    asked = http.post(f"/v1/residents/{resident.id}/help", json={}, headers=resident.auth)
    assert asked.status_code == 202, asked.text
    request_id = asked.json()["request_id"]

    def raised() -> str | None:
        found = [a for a in help_alerts(http, setting) if a["refs"]["request_id"] == request_id]
        return str(found[0]["id"]) if found else None

    return wait_for(raised, within=30, what="the help request's alert")


def view(http: httpx.Client, setting: Setting, name: str) -> Any:
    path, who = setting.views()[name]
    response = http.get(path, headers=setting.people[who].auth)
    assert response.status_code == 200, response.text
    return response.json()


def send(http: httpx.Client, setting: Setting, case: Bad) -> httpx.Response:
    headers = {**setting.people[case.who].auth, **dict(case.headers)}
    url = setting.fill(case.path)
    if isinstance(case.body, bytes):
        headers["Content-Type"] = "application/json"
        return http.request(case.method, url, content=case.body, headers=headers)
    body = None if case.body is None else fill_json(setting, case.body)
    return http.request(case.method, url, json=body, headers=headers)


def check_refused(http: httpx.Client, setting: Setting, case: Bad) -> None:
    """The case is refused with its status, code and field, and its view is unchanged."""
    before = view(http, setting, case.view)
    response = send(http, setting, case)
    assert response.status_code == case.status, (case.id, response.text)
    error = error_of(response)
    if case.code is not None:
        assert error["code"] == case.code, error
    if case.field is not None:
        named = fields_of(error)
        assert any(n == case.field or n.startswith(case.field + ".") for n in named), (
            f"{case.id}: the error names {named}, not {case.field!r}: {error}"
        )
    assert view(http, setting, case.view) == before, f"{case.id} changed {case.view}"
