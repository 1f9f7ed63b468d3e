"""Care through the gateway: rotas, escalation policies, contact methods, check-in schedules
and alerts, the way council staff and residents' apps use them; and real local receivers of
what alerts sends (signed webhooks over HTTP, email over SMTP).

The receivers check what a real receiver would: a webhook's signature is the hex
HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret, and its timestamp is
recent (alerts documents both). They are written here from that description, not taken
from the alerts service, so the tests hold the service to its documented contract.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from support.councils import Council, Person

T = TypeVar("T")
TIMEZONE = "Europe/London"
SIGNATURE_TOLERANCE_SECONDS = 300


# ---- waiting ----------------------------------------------------------------------------------
def wait_for(
    probe: Callable[[], T | None], *, within: float, what: str, interval: float = 0.2
) -> T:
    """Call `probe` until it returns something (not None, False or empty); fail naming
    `what` if `within` seconds pass first."""
    deadline = time.monotonic() + within
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        time.sleep(interval)


def sleep_until(moment: float) -> None:
    """Wait until the wall clock reaches `moment` (epoch seconds): used only to let a time
    pass when something must be shown *not* to happen before then."""
    while (left := moment - time.time()) > 0:
        time.sleep(min(left, 0.5))


# ---- real receivers ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Webhook:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    def signed_with(self, secret: str) -> bool:
        """True when the signature is right for this body with `secret` and the timestamp
        is within the tolerance of when it arrived."""
        timestamp = self.headers.get("x-hearth-timestamp", "")
        signature = self.headers.get("x-hearth-signature", "")
        try:
            sent = int(timestamp)
        except ValueError:
            return False
        if abs(self.received_at - sent) > SIGNATURE_TOLERANCE_SECONDS:
            return False
        mac = hmac.new(secret.encode(), timestamp.encode() + b"." + self.body, hashlib.sha256)
        return hmac.compare_digest(mac.hexdigest(), signature)


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 recording every POST; each person gets a path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Webhook] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver._received.append(Webhook(self.path, headers, body, time.time()))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/{name}"

    def received(self, name: str) -> list[Webhook]:
        with self._lock:
            return [w for w in self._received if w.path == f"/hooks/{name}"]


@dataclass(frozen=True)
class Mail:
    recipients: list[str]
    message: EmailMessage
    received_at: float

    @property
    def alert_id(self) -> str:
        return str(self.message["X-Hearth-Alert-Id"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])


class MailServer:
    """A real SMTP server (aiosmtpd, in its own thread) on 127.0.0.1 recording every message."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.port = port
        self._lock = threading.Lock()
        self._messages: list[Mail] = []
        server = self

        class Handler:
            async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
                assert isinstance(parsed, EmailMessage)
                with server._lock:
                    server._messages.append(Mail(list(envelope.rcpt_tos), parsed, time.time()))
                return "250 Message accepted"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def start(self) -> MailServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def received(self, address: str) -> list[Mail]:
        with self._lock:
            return [m for m in self._messages if address.lower() in m.recipients]


# ---- what council staff set up ----------------------------------------------------------------
def put_rota(council: Council, layers: dict[str, Person]) -> None:
    """A rota with one person per layer, in turn from yesterday: the first layer is on call."""
    start = (datetime.now(ZoneInfo(TIMEZONE)).date() - timedelta(days=1)).isoformat()
    response = council.http.put(
        "/v1/oncall/rota",
        json={
            "timezone": TIMEZONE,
            "layers": [
                {
                    "name": name,
                    "users": [person.id],
                    "length_hours": 24,
                    "handoff_time": "00:00",
                    "start_date": start,
                }
                for name, person in layers.items()
            ],
        },
        headers=council.admin.auth,
    )
    assert response.status_code == 200, response.text


def put_policy(
    council: Council, steps: list[tuple[float, list[dict[str, str]]]], name: str = "default"
) -> None:
    """The council's escalation policy `name`: (delay in seconds, targets) per step."""
    response = council.http.put(
        f"/v1/escalation-policies/{name}",
        json={
            "steps": [{"delay_seconds": delay, "targets": targets} for delay, targets in steps],
            "repeat": 0,
        },
        headers=council.admin.auth,
    )
    assert response.status_code == 200, response.text


def put_contacts(
    council: Council, person: Person, methods: list[dict[str, str]], *, by: Person | None = None
) -> dict[str, str]:
    """Replace how `person` is reached; returns each webhook address's signing secret."""
    response = council.http.put(
        f"/v1/users/{person.id}/contact-methods",
        json={"methods": methods},
        headers=(by or council.admin).auth,
    )
    assert response.status_code == 200, response.text
    return {
        m["address"]: m["secret"] for m in response.json()["methods"] if m["channel"] == "webhook"
    }


def email_of(person: Person) -> str:
    return person.email.lower()


# ---- check-in schedules -----------------------------------------------------------------------
@dataclass(frozen=True)
class Deadline:
    """A check-in due at local `at` (HH:MM) on `day` whose one-minute grace ends at `epoch`."""

    day: date
    at: str
    epoch: float

    def occurrence_id(self, resident: Person) -> str:
        return f"{resident.id}:{self.day.isoformat()}T{self.at}"


def next_deadline(*, lead_seconds: float = 20.0) -> Deadline:
    """The soonest deadline a schedule can have (due at a whole local minute, one minute of
    grace, so the deadline is a whole minute too) at least `lead_seconds` from now.

    The due time may already have passed: an occurrence whose deadline is still ahead is
    the one a new schedule expects. So the wait is under a minute plus the lead."""
    zone = ZoneInfo(TIMEZONE)
    now = datetime.now(UTC)
    deadline = (now + timedelta(seconds=lead_seconds + 60)).replace(second=0, microsecond=0)
    due = deadline.astimezone(zone) - timedelta(minutes=1)
    return Deadline(due.date(), due.strftime("%H:%M"), deadline.timestamp())


def put_schedule(council: Council, resident: Person, deadline: Deadline) -> dict[str, Any]:
    response = council.http.put(
        f"/v1/residents/{resident.id}/checkin-schedule",
        json={"timezone": TIMEZONE, "times": [{"at": deadline.at}], "grace_minutes": 1},
        headers=council.admin.auth,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    # The schedule expects exactly this occurrence, with this deadline.
    assert body["next"]["occurrence_id"] == deadline.occurrence_id(resident), body
    expected = datetime.fromtimestamp(deadline.epoch, UTC)
    assert datetime.fromisoformat(body["next"]["deadline_at"]) == expected, body
    return body


def get_schedule(council: Council, resident: Person) -> dict[str, Any]:
    response = council.http.get(
        f"/v1/residents/{resident.id}/checkin-schedule", headers=council.admin.auth
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---- alerts -----------------------------------------------------------------------------------
def list_alerts(council: Council, by: Person) -> list[dict[str, Any]]:
    response = council.http.get("/v1/alerts", params={"limit": 200}, headers=by.auth)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def alert_for(council: Council, by: Person, resident: Person) -> dict[str, Any] | None:
    """The newest alert about `resident`, if there is one."""
    return next((a for a in list_alerts(council, by) if a["resident_id"] == resident.id), None)


def get_alert(council: Council, by: Person, alert_id: str) -> dict[str, Any]:
    response = council.http.get(f"/v1/alerts/{alert_id}", headers=by.auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def timeline_kinds(alert: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in alert["timeline"]]
