"""`python -m hearth_devstack run`: Hearth on this machine, until Ctrl-C.

Environment (all optional): HEARTH_DATA_DIR (default `.data/` in the repository),
KAFKA_BOOTSTRAP_SERVERS (use that Kafka instead of the embedded broker), KAFKA_IDEMPOTENCE,
MONGODB_URL (use MongoDB instead of SQLite), HEARTH_ENV (default development),
<SERVICE>_HTTP_PORT (e.g. GATEWAY_HTTP_PORT, default from the service list),
HEARTH_BROKER_PORT (default 9092), HEARTH_PROMETHEUS_PORT (default 9090).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import textwrap
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

from hearth_devstack.broker import free_port
from hearth_devstack.paths import default_data_dir
from hearth_devstack.seed import DEMO_ROLES, SeedError, SeedResult
from hearth_devstack.seed_care import CareSeed, seed_care
from hearth_devstack.services import GATEWAY, SERVICES, installed_services, spec_for
from hearth_devstack.stack import BROKER, PROMETHEUS, Stack, StackError, StackEvent

DEFAULT_BROKER_PORT = 9092
DEFAULT_PROMETHEUS_PORT = 9090


class ConfigError(ValueError):
    """A setting of `run` is unusable; the message says which and what to do."""


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_setting(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name}={port} is not between 1 and 65535")
    return port


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not true or false")


def choose_ports(
    env: Mapping[str, str], services: Sequence[str], *, embedded_broker: bool
) -> dict[str, int]:
    """Ports for `run`: fixed and well known, each overridable; a busy one is an error."""
    ports: dict[str, int] = {}
    for name in services:
        spec = spec_for(name)
        ports[name] = _port_setting(env, f"{spec.env_prefix}HTTP_PORT", spec.default_port)
    if embedded_broker:
        ports[BROKER] = _port_setting(env, "HEARTH_BROKER_PORT", DEFAULT_BROKER_PORT)
    for name, port in ports.items():
        if not _port_is_free(port):
            setting = "HEARTH_BROKER_PORT" if name == BROKER else f"{name.upper()}_HTTP_PORT"
            raise ConfigError(
                f"port {port} for {name} is in use: stop what uses it (another `make run`?) "
                f"or choose another port with {setting}=..."
            )
    wanted = _port_setting(env, "HEARTH_PROMETHEUS_PORT", DEFAULT_PROMETHEUS_PORT)
    ports[PROMETHEUS] = wanted if _port_is_free(wanted) else free_port()
    return ports


def redact(url: str) -> str:
    """A URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:g} minute{'' if minutes == 1 else 's'}"


def _wrap(text: str) -> list[str]:
    """Indented lines of at most 92 characters; URLs and ids are never split."""
    return textwrap.wrap(
        text,
        width=92,
        initial_indent="  ",
        subsequent_indent="  ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def render_care(gateway: str, seed: SeedResult, care: CareSeed) -> list[str]:
    """What the demo council's care does by itself, and how to act as on-call (curl)."""
    lines = [
        "What happens next (nobody needs to do anything):",
        f"  Check-ins expected ({care.timezone}); each is missed if not made by its deadline:",
    ]
    for scheduled in care.residents:
        due = scheduled.due.strftime("%H:%M")
        deadline = scheduled.deadline.strftime("%H:%M")
        lines.append(f"    {scheduled.login.display_name:<16}due {due}, missed at {deadline}")
    repeats = (
        f" The staff steps repeat {care.repeat} more times, "
        f"{_minutes(care.repeat_after_seconds)} apart, until someone acknowledges."
        if care.repeat
        else ""
    )
    story = (
        f"A missed check-in raises an alert: {care.oncall.display_name} (on call) is told at "
        "once on the live staff console; unacknowledged after "
        f"{_minutes(care.backup_after_seconds)}, it escalates to {care.backup.display_name} "
        f"(backup).{repeats} The check-ins repeat daily at those times, and every start of "
        "Hearth re-arms them a few minutes ahead. The rota, escalation policy and contact "
        "methods are at /v1/oncall/rota, /v1/escalation-policies/default and "
        "/v1/users/<id>/contact-methods."
    )
    lines += _wrap(story)
    oncall = care.oncall
    sign_in = {"tenant": oncall.tenant, "email": oncall.email, "password": oncall.password}
    credentials = json.dumps(sign_in, separators=(",", ":"))
    outcome = json.dumps({"outcome": "visited", "note": "All well"}, separators=(",", ":"))
    read_token = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    auth = '-H "Authorization: Bearer $TOKEN"'
    as_json = "-H 'Content-Type: application/json'"
    lines += [
        "",
        f"Act as the on-call responder ({oncall.email}), in a shell:",
        f"  TOKEN=$(curl -s -X POST {gateway}/v1/auth/token {as_json} \\",
        f"    -d '{credentials}' | {read_token})",
        f"  curl -sN {gateway}/v1/alerts/stream {auth}        # the live console",
        f"  curl -s '{gateway}/v1/alerts?status=open' {auth}  # open alerts",
        f"  curl -s {gateway}/v1/alerts/ALERT_ID {auth}       # one, with its timeline",
        f"  curl -s -X POST {gateway}/v1/alerts/ALERT_ID/acknowledge {auth}",
        f"  curl -s -X POST {gateway}/v1/alerts/ALERT_ID/resolve {auth} {as_json} \\",
        f"    -d '{outcome}'",
    ]
    resident = seed.logins["resident"]
    late = (
        "A late check-in resolves its alert by itself and tells everyone who was told: log in "
        f"as {resident.display_name} (the resident above) and POST "
        f'{gateway}/v1/residents/{resident.user_id}/checkins {{"status":"ok"}}. '
        "A help request (POST /v1/residents/<id>/help) reaches on-call at once."
    )
    lines += _wrap(late)
    return lines


def render_summary(
    stack: Stack,
    seed: SeedResult | None,
    seed_error: str | None = None,
    *,
    care: CareSeed | None = None,
    care_error: str | None = None,
) -> str:
    lines = ["", "Hearth is running.", ""]
    if GATEWAY in stack.services:
        lines += [
            f"  Gateway     {stack.gateway_url}",
            f"  API docs    {stack.gateway_url}/docs  (OpenAPI: {stack.gateway_url}/openapi.json)",
        ]
    lines.append("  Services    " + ", ".join(f"{n} {stack.url(n)}" for n in stack.services))
    idle = [s for s in SERVICES if s.name not in stack.services]
    not_started = [s.name for s in idle if s.is_installed()]
    not_there = [s.name for s in idle if s.name not in not_started]
    if not_started:
        lines.append(f"              (not started: {', '.join(not_started)})")
    if not_there:
        lines.append(f"              (not in this workspace yet: {', '.join(not_there)})")
    if stack.embedded_broker:
        lines += [
            f"  Broker      embedded Tansu (Kafka protocol) at {stack.bootstrap_servers}.",
            "              Messages live in memory only: a restart loses messages not yet",
            "              consumed; the services' stores are durable.",
            "              Real Kafka instead: KAFKA_BOOTSTRAP_SERVERS=host:9092 make run",
        ]
    else:
        lines.append(f"  Broker      Kafka at {stack.bootstrap_servers} (KAFKA_BOOTSTRAP_SERVERS)")
    if stack.mongodb_url:
        lines.append(f"  Stores      MongoDB at {redact(stack.mongodb_url)} (MONGODB_URL)")
    else:
        files = ", ".join(sorted(p.name for p in stack.data_dir.glob("*.sqlite3")))
        lines += [
            f"  Stores      SQLite, one file per service in {stack.data_dir}",
            f"              ({files or 'created as services start'}); kept across restarts.",
            "              MongoDB instead: MONGODB_URL=mongodb://host:27017 make run",
        ]
    lines.append("  Metrics     every service at <its URL>/metrics")
    if stack.prometheus_url:
        config = stack.data_dir / "prometheus"
        lines.append(f"              Prometheus {stack.prometheus_url} (config in {config})")
    elif stack.prometheus_note:
        lines += textwrap.wrap(
            stack.prometheus_note, width=92, initial_indent=" " * 14, subsequent_indent=" " * 14
        )
    lines += [f"  Logs        {stack.log_dir}", ""]
    if seed is not None:
        creds = seed.credentials
        lines.append(f'Demo council "{creds.tenant_name}" (tenant slug: {creds.tenant_slug})')
        lines.append(f"  {'role':<15}{'email':<38}password")
        for role, _ in DEMO_ROLES:
            user = creds.users[role]
            lines.append(f"  {role:<15}{user.email:<38}{user.password}")
        admin = creds.platform_admin
        lines.append(f"  {'platform_admin':<15}{admin.email:<38}{admin.password}")
        lines.append(
            f"                 (the platform admin logs in with tenant slug {admin.tenant!r})"
        )
        lines.append(
            f"  Log in: POST {stack.gateway_url}/v1/auth/token {{tenant, email, password}}"
        )
        lines.append(f"  (kept in {stack.data_dir}/demo-credentials.json)")
        if care is not None:
            lines += ["", *render_care(stack.gateway_url, seed, care)]
        elif care_error:
            lines += ["", f"The demo council's care could not be set up: {care_error}"]
    elif seed_error:
        lines.append(f"The demo council could not be created: {seed_error}")
    lines += ["", "Ctrl-C stops everything.", ""]
    return "\n".join(lines)


def _report(event: StackEvent) -> None:
    if event.kind == "restarted":
        print(f"[hearth] {event.message}", file=sys.stderr, flush=True)
        return
    tail = "\n".join("    " + line for line in event.log_tail.splitlines())
    print(
        f"[hearth] {event.message}\n  last lines of its log:\n{tail}", file=sys.stderr, flush=True
    )


def select_services(only: str | None) -> list[str]:
    """The installed services to run: all, or those named in `only` (comma-separated)."""
    installed = [spec.name for spec in installed_services()]
    if not only:
        return installed
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in installed]
    if unknown:
        raise ConfigError(
            f"not installed services: {', '.join(unknown)} (installed: {', '.join(installed)})"
        )
    return wanted


def run(
    data_dir: Path | None,
    *,
    prometheus: bool,
    seed: bool,
    env: Mapping[str, str],
    only: str | None = None,
) -> int:
    kafka = env.get("KAFKA_BOOTSTRAP_SERVERS") or None
    try:
        idempotence = _flag(env, "KAFKA_IDEMPOTENCE")
        services = select_services(only)
        ports = choose_ports(env, services, embedded_broker=kafka is None)
    except ConfigError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    if not services:
        print("hearth: no service is installed; run `make install` first", file=sys.stderr)
        return 2
    folder = data_dir or default_data_dir()
    print(f"Starting Hearth (data in {folder}) ...", flush=True)
    stack = Stack(
        folder,
        services,
        ports=ports,
        environment=env.get("HEARTH_ENV") or "development",
        kafka_bootstrap_servers=kafka,
        kafka_idempotence=idempotence,
        mongodb_url=env.get("MONGODB_URL") or None,
        prometheus=prometheus,
        on_event=_report,
    )
    stop = threading.Event()
    started = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not started.is_set():
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
    except StackError as exc:
        print(f"hearth: could not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Stopped before Hearth was ready.", file=sys.stderr)
        return 130
    started.set()
    result: SeedResult | None = None
    error: str | None = None
    care: CareSeed | None = None
    care_error: str | None = None
    if seed and GATEWAY in stack.services and "identity" in stack.services:
        try:
            result = stack.seed_demo()
        except SeedError as exc:
            error = str(exc)
    if result is not None and {"checkins", "alerts"} <= set(stack.services):
        try:
            care = seed_care(stack.gateway_url, result)
        except SeedError as exc:
            care_error = str(exc)
    print(render_summary(stack, result, error, care=care, care_error=care_error), flush=True)
    stop.wait()
    print("Stopping Hearth ...", flush=True)
    stack.stop()
    print("Stopped.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hearth_devstack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="start Hearth on this machine until Ctrl-C")
    run_cmd.add_argument(
        "--data-dir", type=Path, help="data folder (default: HEARTH_DATA_DIR or .data/)"
    )
    run_cmd.add_argument("--no-prometheus", action="store_true", help="do not start Prometheus")
    run_cmd.add_argument("--no-seed", action="store_true", help="do not create the demo council")
    run_cmd.add_argument(
        "--only",
        metavar="NAMES",
        help="run only these services (comma-separated, e.g. identity,gateway)",
    )
    commands.add_parser("services", help="list the services and whether each is installed")
    args = parser.parse_args(argv)
    if args.command == "services":
        for spec in SERVICES:
            state = "installed" if spec.is_installed() else "not installed"
            print(f"{spec.name:<10} {spec.module:<18} port {spec.default_port}  {state}")
        return 0
    data_dir = args.data_dir.resolve() if args.data_dir else None
    return run(
        data_dir,
        prometheus=not args.no_prometheus,
        seed=not args.no_seed,
        env=os.environ,
        only=args.only,
    )
