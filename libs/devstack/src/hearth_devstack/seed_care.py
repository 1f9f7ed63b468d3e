"""The demo council's care, so that `make run` shows Hearth's headline flow on its own: a
check-in nobody makes becomes an alert, a notification and then an escalation.

Seeded through the gateway's public API after the council and its logins (`seed`):

- residents (the demo resident and DEMO_RESIDENTS) with a daily check-in each, due a
  minute apart from two minutes after seeding, with one minute of grace;
- an on-call rota: the demo on-call user in the first layer, the council admin as backup
  and duty manager;
- the council's `default` escalation policy: on-call at once, the backup after two
  minutes, the staff steps repeated twice five minutes apart until someone acknowledges;
- how both are reached: the live staff console (alerts' `console` channel: it needs no
  outside service, and the alerts live stream and each alert's timeline show it).

Idempotent: a rota, policy or contact methods already there (perhaps changed by hand) are
kept. The schedules are set again at every seeding, so each start re-arms the demo a few
minutes ahead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from hearth_devstack.seed import (
    Login,
    SeedError,
    SeedResult,
    describe,
    login,
    send,
    token_subject,
)

# The first check-in is due this many minutes after the next whole minute, the others a
# minute apart; each is missed `GRACE_MINUTES` after it is due.
FIRST_DUE_MINUTES = 1
GRACE_MINUTES = 1
# Rota layers and who is in each (by demo role): the first layer is the on-call responder.
ROTA_LAYERS = (
    ("primary", "oncall"),
    ("backup", "council_admin"),
    ("duty_manager", "council_admin"),
)
ROTA_START = "2024-01-01"  # any day in the past: the shifts are a day long
POLICY_NAME = "default"
BACKUP_AFTER_SECONDS = 120
REPEAT = 2
REPEAT_AFTER_SECONDS = 300


@dataclass(frozen=True)
class ScheduledResident:
    """A resident and the check-in they are expected to make next (local times)."""

    login: Login
    due: datetime
    deadline: datetime


@dataclass(frozen=True)
class CareSeed:
    timezone: str
    residents: tuple[ScheduledResident, ...]
    oncall: Login
    backup: Login
    # What this seeding set up (a second seeding keeps what is there): rota, policy,
    # contacts:<role>.
    created: tuple[str, ...]
    backup_after_seconds: float = BACKUP_AFTER_SECONDS
    repeat: int = REPEAT
    repeat_after_seconds: float = REPEAT_AFTER_SECONDS


def due_times(now: datetime, count: int) -> list[datetime]:
    """Whole local minutes: FIRST_DUE_MINUTES after the next whole minute, then one apart."""
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=1 + FIRST_DUE_MINUTES)
    return [start + timedelta(minutes=i) for i in range(count)]


def seed_care(
    gateway_url: str,
    seed: SeedResult,
    *,
    now: datetime | None = None,
    client: httpx.Client | None = None,
    timeout: float = 30.0,
) -> CareSeed:
    """Set up the demo council's residents, schedules, rota, policy and contacts through
    the gateway; `now` (default: the clock) decides when the check-ins fall due."""
    own_client = client is None
    http = client or httpx.Client(base_url=gateway_url, timeout=timeout)
    try:
        return _Care(http, seed).run(now)
    except httpx.HTTPError as exc:
        raise SeedError(f"cannot reach the gateway at {gateway_url}: {exc!r}") from exc
    finally:
        if own_client:
            http.close()


class _Care:
    def __init__(self, http: httpx.Client, seed: SeedResult) -> None:
        self.http = http
        self.creds = seed.credentials
        self.users = seed.logins
        self.zone = ZoneInfo(self.creds.timezone)
        self.token = login(http, self.users["council_admin"])
        self.created: list[str] = []

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return send(self.http, method, path, body, self.token)

    def expect(self, response: httpx.Response, doing: str, *ok: int) -> httpx.Response:
        if response.status_code not in (ok or (200,)):
            raise SeedError(f"{doing} failed: {describe(response)}")
        return response

    def run(self, now: datetime | None) -> CareSeed:
        residents = [self.users["resident"], *(self.resident(r) for r in self.creds.residents)]
        staff = {role: self.user_id(role) for role in ("oncall", "council_admin")}
        self.rota(staff)
        self.policy()
        for role, user_id in staff.items():
            self.contacts(role, user_id)
        moment = (now or datetime.now(self.zone)).astimezone(self.zone)
        scheduled = [
            self.schedule(resident, due)
            for resident, due in zip(residents, due_times(moment, len(residents)), strict=True)
        ]
        return CareSeed(
            timezone=self.creds.timezone,
            residents=tuple(scheduled),
            oncall=self.users["oncall"],
            backup=self.users["council_admin"],
            created=tuple(self.created),
        )

    def user_id(self, role: str) -> str:
        user = self.users[role]
        if user.user_id is None:
            raise SeedError(f"the demo {role} has no user id; seed the council first")
        return user.user_id

    def resident(self, key: str) -> Login:
        """A demo resident (created unless they exist), with their user id."""
        who = self.creds.residents[key]
        body = {
            "email": who.email,
            "password": who.password,
            "display_name": who.display_name,
            "role": "resident",
        }
        self.expect(self.call("POST", "/v1/users", body), f"creating {who.email}", 201, 409)
        user_id = token_subject(login(self.http, who))
        if user_id is None:
            raise SeedError(f"the token of {who.email} names no user")
        return replace(who, user_id=user_id)

    def rota(self, staff: dict[str, str]) -> None:
        found = self.call("GET", "/v1/oncall/rota")
        if found.status_code == 200:
            return
        self.expect(found, "reading the on-call rota", 404)
        layers = [
            {
                "name": name,
                "users": [staff[role]],
                "length_hours": 24,
                "handoff_time": "09:00",
                "start_date": ROTA_START,
            }
            for name, role in ROTA_LAYERS
        ]
        body = {"timezone": self.creds.timezone, "layers": layers}
        self.expect(self.call("PUT", "/v1/oncall/rota", body), "setting the on-call rota")
        self.created.append("rota")

    def policy(self) -> None:
        path = f"/v1/escalation-policies/{POLICY_NAME}"
        found = self.expect(self.call("GET", path), "reading the escalation policy")
        if not found.json().get("built_in", False):
            return
        staff_steps = [
            {"delay_seconds": 0, "targets": [{"type": "oncall"}]},
            {
                "delay_seconds": BACKUP_AFTER_SECONDS,
                "targets": [{"type": "layer", "layer": "backup"}],
            },
        ]
        body = {
            "steps": staff_steps,
            "repeat": REPEAT,
            "repeat_delay_seconds": REPEAT_AFTER_SECONDS,
        }
        self.expect(self.call("PUT", path, body), "setting the escalation policy")
        self.created.append("policy")

    def contacts(self, role: str, user_id: str) -> None:
        path = f"/v1/users/{user_id}/contact-methods"
        found = self.expect(self.call("GET", path), f"reading how the demo {role} is reached")
        if found.json().get("methods"):
            return
        body = {"methods": [{"channel": "console"}]}
        self.expect(self.call("PUT", path, body), f"setting how the demo {role} is reached")
        self.created.append(f"contacts:{role}")

    def schedule(self, resident: Login, due: datetime) -> ScheduledResident:
        body = {
            "timezone": self.creds.timezone,
            "times": [{"at": due.strftime("%H:%M")}],
            "grace_minutes": GRACE_MINUTES,
        }
        path = f"/v1/residents/{resident.user_id}/checkin-schedule"
        saved = self.expect(self.call("PUT", path, body), f"setting {resident.email}'s check-ins")
        # What check-ins expects next (an occurrence already due keeps its deadline).
        expected = saved.json().get("next") or {}
        try:
            due = datetime.fromisoformat(expected["due_at"]).astimezone(self.zone)
            deadline = datetime.fromisoformat(expected["deadline_at"]).astimezone(self.zone)
        except (KeyError, TypeError, ValueError):
            deadline = due + timedelta(minutes=GRACE_MINUTES)
        return ScheduledResident(resident, due, deadline)
