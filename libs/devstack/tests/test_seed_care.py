from __future__ import annotations

import base64
import json
import re
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from hearth_devstack.seed import (
    CREDENTIALS_FILE,
    DEMO_RESIDENTS,
    DemoCredentials,
    SeedError,
    SeedResult,
)
from hearth_devstack.seed_care import (
    BACKUP_AFTER_SECONDS,
    GRACE_MINUTES,
    CareSeed,
    due_times,
    seed_care,
)

LONDON = ZoneInfo("Europe/London")


def fake_token(sub: str) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': sub})}.c2ln"


class FakeGateway:
    """The parts of identity, alerts and check-ins the care seeding uses, in memory."""

    today = datetime(2026, 11, 28, tzinfo=LONDON)

    def __init__(self, creds: DemoCredentials) -> None:
        self.passwords = {u.email: u.password for u in creds.users.values()}
        self.rota: dict[str, Any] | None = None
        self.policy: dict[str, Any] | None = None
        self.contacts: dict[str, list[dict[str, str]]] = {}
        self.schedules: dict[str, dict[str, Any]] = {}
        self.fail: dict[tuple[str, str], httpx.Response] = {}
        self.created_users: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        if (method, path) in self.fail:
            return self.fail[(method, path)]
        body = json.loads(request.content) if request.content else None
        if path == "/v1/auth/token":
            if self.passwords.get(body["email"]) != body["password"]:
                return httpx.Response(401, json={"detail": "invalid credentials"})
            return httpx.Response(200, json={"access_token": fake_token(f"id-{body['email']}")})
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return httpx.Response(401)
        if path == "/v1/users":
            if body["email"] in self.passwords:
                return httpx.Response(409, json={"detail": "email taken"})
            self.passwords[body["email"]] = body["password"]
            self.created_users.append(body["email"])
            return httpx.Response(201, json={"id": f"id-{body['email']}"})
        if path == "/v1/oncall/rota":
            if method == "PUT":
                self.rota = body
            return httpx.Response(200, json=self.rota) if self.rota else httpx.Response(404)
        if path == "/v1/escalation-policies/default":
            if method == "PUT":
                self.policy = body
            return httpx.Response(200, json={**(self.policy or {}), "built_in": not self.policy})
        if match := re.fullmatch(r"/v1/users/([^/]+)/contact-methods", path):
            if method == "PUT":
                self.contacts[match[1]] = body["methods"]
            return httpx.Response(200, json={"methods": self.contacts.get(match[1], [])})
        if match := re.fullmatch(r"/v1/residents/([^/]+)/checkin-schedule", path):
            self.schedules[match[1]] = body
            hour, minute = map(int, body["times"][0]["at"].split(":"))
            due = self.today.replace(hour=hour, minute=minute)
            deadline = due + timedelta(minutes=body["grace_minutes"])
            expected = {
                "due_at": due.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "deadline_at": deadline.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            }
            return httpx.Response(200, json={"next": expected})
        return httpx.Response(404)


@pytest.fixture
def creds() -> DemoCredentials:
    generated = DemoCredentials.generate()
    users = {
        role: replace(user, user_id=f"id-{user.email}") for role, user in generated.users.items()
    }
    return replace(generated, users=users)


def seeded(creds: DemoCredentials) -> SeedResult:
    return SeedResult(creds, tenant_created=True, users_created=())


def run(gateway: FakeGateway, creds: DemoCredentials, now: datetime) -> CareSeed:
    client = httpx.Client(base_url="http://gateway", transport=httpx.MockTransport(gateway))
    return seed_care("http://gateway", seeded(creds), now=now, client=client)


def test_first_seeding_sets_up_residents_rota_policy_contacts_and_schedules(
    creds: DemoCredentials,
) -> None:
    gateway = FakeGateway(creds)
    care = run(gateway, creds, datetime(2026, 11, 28, 10, 0, 20, tzinfo=LONDON))

    assert gateway.created_users == [creds.residents[key].email for key, _ in DEMO_RESIDENTS]
    oncall, admin = creds.users["oncall"].user_id, creds.users["council_admin"].user_id
    assert gateway.rota is not None
    assert [(layer["name"], layer["users"]) for layer in gateway.rota["layers"]] == [
        ("primary", [oncall]),
        ("backup", [admin]),
        ("duty_manager", [admin]),
    ]
    assert gateway.rota["timezone"] == "Europe/London"
    assert gateway.policy is not None
    assert [(s["delay_seconds"], s["targets"]) for s in gateway.policy["steps"]] == [
        (0, [{"type": "oncall"}]),
        (BACKUP_AFTER_SECONDS, [{"type": "layer", "layer": "backup"}]),
    ]
    assert gateway.contacts == {
        oncall: [{"channel": "console"}],
        admin: [{"channel": "console"}],
    }
    assert care.created == ("rota", "policy", "contacts:oncall", "contacts:council_admin")

    # Rose and the other residents: due 10:02, 10:03, 10:04, one minute of grace each.
    names = ["Rose Resident", *(name for _, name in DEMO_RESIDENTS)]
    assert [s.login.display_name for s in care.residents] == names
    assert [s.due.strftime("%H:%M") for s in care.residents] == ["10:02", "10:03", "10:04"]
    assert [s.deadline.strftime("%H:%M") for s in care.residents] == ["10:03", "10:04", "10:05"]
    assert all(s.login.user_id for s in care.residents)
    schedules = [gateway.schedules[str(s.login.user_id)] for s in care.residents]
    assert [s["times"] for s in schedules] == [
        [{"at": "10:02"}],
        [{"at": "10:03"}],
        [{"at": "10:04"}],
    ]
    assert {s["grace_minutes"] for s in schedules} == {GRACE_MINUTES}
    assert {s["timezone"] for s in schedules} == {"Europe/London"}
    assert (care.oncall, care.backup) == (creds.users["oncall"], creds.users["council_admin"])


def test_seeding_again_keeps_what_is_there_and_rearms_the_schedules(
    creds: DemoCredentials,
) -> None:
    gateway = FakeGateway(creds)
    run(gateway, creds, datetime(2026, 11, 28, 10, 0, 20, tzinfo=LONDON))
    # Someone changed how on-call is reached in the meantime: it stays.
    oncall = str(creds.users["oncall"].user_id)
    gateway.contacts[oncall] = [{"channel": "email", "address": "omar@example.org"}]
    rota, policy = gateway.rota, gateway.policy

    again = run(gateway, creds, datetime(2026, 11, 28, 14, 30, 5, tzinfo=LONDON))
    assert again.created == ()
    assert len(gateway.created_users) == len(DEMO_RESIDENTS)  # no one twice
    assert (gateway.rota, gateway.policy) == (rota, policy)
    assert gateway.contacts[oncall] == [{"channel": "email", "address": "omar@example.org"}]
    assert [s.due.strftime("%H:%M") for s in again.residents] == ["14:32", "14:33", "14:34"]


def test_due_times_are_whole_minutes_after_the_next_one() -> None:
    at = datetime(2026, 11, 28, 23, 59, 0, tzinfo=LONDON)
    assert [d.strftime("%d %H:%M:%S") for d in due_times(at, 2)] == ["29 00:01:00", "29 00:02:00"]
    late = datetime(2026, 11, 28, 9, 59, 59, 999999, tzinfo=LONDON)
    assert [d.strftime("%H:%M") for d in due_times(late, 1)] == ["10:01"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/v1/oncall/rota"), ("GET", "/v1/escalation-policies/default")],
)
def test_a_refused_call_stops_the_seeding_with_the_reason(
    creds: DemoCredentials, method: str, path: str
) -> None:
    gateway = FakeGateway(creds)
    gateway.fail[(method, path)] = httpx.Response(503, json={"detail": "alerts is starting"})
    with pytest.raises(SeedError, match=r"503.*alerts is starting"):
        run(gateway, creds, datetime(2026, 11, 28, 10, 0, tzinfo=LONDON))


def test_a_demo_user_without_an_id_is_reported(creds: DemoCredentials) -> None:
    users = {**creds.users, "oncall": replace(creds.users["oncall"], user_id=None)}
    with pytest.raises(SeedError, match="no user id"):
        run(FakeGateway(creds), replace(creds, users=users), datetime.now(LONDON))


def test_an_older_credentials_file_gains_the_demo_residents(tmp_path: Path) -> None:
    creds = DemoCredentials.load_or_create(tmp_path)
    raw = asdict(creds)
    del raw["residents"]
    (tmp_path / CREDENTIALS_FILE).write_text(json.dumps(raw), encoding="utf-8")

    upgraded = DemoCredentials.load_or_create(tmp_path)
    assert upgraded.users == creds.users
    assert upgraded.platform_admin == creds.platform_admin
    assert sorted(upgraded.residents) == sorted(key for key, _ in DEMO_RESIDENTS)
    assert DemoCredentials.load_or_create(tmp_path) == upgraded  # stored, not made again
