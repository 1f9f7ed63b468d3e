"""Hearth on one machine as real processes: the embedded broker, every service, Prometheus.

`Stack` is what `make run`, the end-to-end tests and the benchmarks share:

    with Stack(tmp_path, ["identity", "gateway"]) as stack:   # free ports, temp data
        stack.kill("identity", signal.SIGKILL)                  # a real kill -9
        stack.restart("identity")                               # same port, same store

A process that dies unasked is reported (with its log's tail) and restarted with backoff.
Children run in their own process groups and get SIGTERM if the stack's process dies.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from hearth_devstack import localsecrets
from hearth_devstack import prometheus as prom
from hearth_devstack.broker import broker_binary, free_port
from hearth_devstack.environment import SHARED_ENV, StackEnvironment, broker_command
from hearth_devstack.processes import ManagedProcess
from hearth_devstack.seed import DemoCredentials, SeedResult, seed_demo
from hearth_devstack.services import (
    GATEWAY,
    SERVICES,
    ServiceSpec,
    installed_services,
    spec_for,
    start_levels,
    start_order,
)
from hearth_devstack.supervisor import Member, StackEvent, Supervisor, probe

BROKER = "broker"
PROMETHEUS = "prometheus"

__all__ = ["BROKER", "PROMETHEUS", "SHARED_ENV", "Stack", "StackError", "StackEvent"]


class StackError(RuntimeError):
    """A process of the stack failed to start, become ready or stop; the message has its log."""


class Stack:
    def __init__(
        self,
        data_dir: Path | str,
        services: Sequence[str | ServiceSpec] | None = None,
        *,
        ports: Mapping[str, int] | None = None,
        host: str = "127.0.0.1",
        environment: str = "test",
        kafka_bootstrap_servers: str | None = None,
        kafka_idempotence: bool | None = None,
        mongodb_url: str | None = None,
        prometheus: bool = False,
        credentials: DemoCredentials | None = None,
        env: Mapping[str, str] | None = None,
        service_env: Mapping[str, Mapping[str, str]] | None = None,
        restart_on_crash: bool = True,
        ready_timeout: float = 120.0,
        stop_grace: float = 20.0,
        on_event: Callable[[StackEvent], None] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.log_dir = self.data_dir / "logs"
        self.host = host
        self.environment = environment
        self.mongodb_url = mongodb_url
        self.ready_timeout = ready_timeout
        self.stop_grace = stop_grace
        self.python = python
        self._specs = start_order(self._resolve(services))
        ports = dict(ports or {})
        self._ports = {s.name: ports.get(s.name) or free_port() for s in self._specs}

        self.embedded_broker = kafka_bootstrap_servers is None
        broker_port = ports.get(BROKER) or free_port()
        self.bootstrap_servers = kafka_bootstrap_servers or f"127.0.0.1:{broker_port}"
        self.kafka_idempotence = (
            kafka_idempotence if kafka_idempotence is not None else not self.embedded_broker
        )
        self._prometheus_binary = prom.prometheus_binary() if prometheus else None
        self.prometheus_note = (
            prom.INSTALL_HINT if prometheus and self._prometheus_binary is None else None
        )
        self._prometheus_port = ports.get(PROMETHEUS) or free_port()
        self.credentials = credentials or DemoCredentials.load_or_create(self.data_dir)
        self._environment = StackEnvironment(
            data_dir=self.data_dir,
            host=host,
            environment=environment,
            bootstrap_servers=self.bootstrap_servers,
            kafka_idempotence=self.kafka_idempotence,
            mongodb_url=mongodb_url,
            credentials=self.credentials,
            secrets=localsecrets.load_or_create(
                self.data_dir, [name for spec in self._specs for name in spec.secret_env]
            ),
            env=dict(env or {}),
            service_env={k: dict(v) for k, v in (service_env or {}).items()},
        )
        # Settings of single replicas (start_replica's `env`), kept for their restarts.
        self._replica_env: dict[tuple[str, int], dict[str, str]] = {}

        self._supervisor = Supervisor(restart_on_crash=restart_on_crash, on_event=on_event)
        self._lock = self._supervisor.lock
        self._members = self._supervisor.members
        if self.embedded_broker:
            self._add_broker(broker_port)
        self._started = False
        self._stopped = False

    # ----------------------------------------------------------------- what runs where
    @property
    def services(self) -> tuple[str, ...]:
        """Names of the services of this stack, in start order."""
        return tuple(spec.name for spec in self._specs)

    def url(self, name: str, replica: int = 0) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port(name, replica)}"

    @property
    def gateway_url(self) -> str:
        return self.url(GATEWAY)

    @property
    def prometheus_url(self) -> str | None:
        """The local Prometheus, or None when it was not asked for or is not installed."""
        if PROMETHEUS not in self._members:
            return None
        return f"http://127.0.0.1:{self._prometheus_port}"

    def port(self, name: str, replica: int = 0) -> int:
        if replica == 0 and name in self._ports:
            return self._ports[name]
        return self._member(name, replica).port

    def replicas(self, name: str) -> list[int]:
        """Replica numbers of `name` that the stack keeps running."""
        return [m.replica for m in self._members.get(name, []) if m.wanted]

    def pid(self, name: str, replica: int = 0) -> int | None:
        return self._member(name, replica).process.pid

    def is_running(self, name: str, replica: int = 0) -> bool:
        return self._member(name, replica).process.running

    def log_path(self, name: str, replica: int = 0) -> Path:
        return self._log_path(name, replica)

    def log_tail(self, name: str, replica: int = 0, lines: int = 60) -> str:
        return self._member(name, replica).process.tail(lines)

    @property
    def events(self) -> list[StackEvent]:
        """What the supervisor saw: crashes (with log tails) and restarts, oldest first."""
        return self._supervisor.events

    @property
    def crashes(self) -> list[StackEvent]:
        return [e for e in self.events if e.kind == "crashed"]

    def env_for(self, name: str, replica: int = 0) -> dict[str, str]:
        """The environment a replica of a service runs (or would run) with."""
        return self._service_env_for(spec_for(name, self._specs), replica, self.port(name, replica))

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> Stack:
        """Start the broker, every service (dependencies first) and Prometheus; wait ready."""
        if self._started:
            raise StackError("this stack was already started")
        self._started = True
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self.embedded_broker:
                self._launch(self._member(BROKER))
                self.wait_ready(BROKER)
            for level in start_levels(self._specs):
                members = [
                    self._add_service_member(spec, 0, self._ports[spec.name]) for spec in level
                ]
                for member in members:
                    self._launch(member)
                for member in members:
                    self.wait_ready(member.name, member.replica)
            if self._prometheus_binary is not None:
                self._start_prometheus(self._prometheus_binary)
        except BaseException:
            self.stop()
            raise
        self._supervisor.start_watching()
        return self

    def stop(self) -> None:
        """Stop everything: services (SIGTERM, SIGKILL after the grace period), then the rest."""
        if self._stopped:
            return
        self._stopped = True
        supervisor = self._supervisor
        supervisor.stop_watching()
        services = [m for s in self._specs for m in self._members.get(s.name, [])]
        supervisor.stop_together(services, self.stop_grace)
        supervisor.stop_together(self._members.get(PROMETHEUS, []), self.stop_grace)
        supervisor.stop_together(self._members.get(BROKER, []), self.stop_grace)
        supervisor.shutdown()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ready(self, name: str, replica: int = 0, timeout: float | None = None) -> None:
        """Block until the replica answers /readyz with 200 (the broker: accepts connections).

        Raises StackError with the tail of the replica's log when it exits (and will not
        be restarted) or the timeout passes.
        """
        member = self._member(name, replica)
        timeout = self.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while True:
            if not member.process.running and not self._supervisor.will_restart(member):
                code = member.process.returncode
                raise self._error(
                    member, f"{member.label} exited with code {code} before it was ready"
                )
            if member.process.running:
                ok, last = probe(member)
                if ok:
                    return
            if time.monotonic() > deadline:
                raise self._error(member, f"{member.label} not ready after {timeout:.0f}s ({last})")
            time.sleep(0.1)

    # ----------------------------------------------------------------- chaos and scaling
    def kill(
        self,
        name: str,
        sig: int = signal.SIGKILL,
        replica: int = 0,
        *,
        restart: bool = False,
        wait: bool = True,
    ) -> int | None:
        """Send `sig` to a replica (broker and prometheus too); returns its exit code.

        The stack leaves it down (call `restart`) unless `restart=True`, in which case it
        is treated like a crash: reported and started again with backoff.
        """
        member = self._member(name, replica)
        with self._lock:
            if not restart:
                self._supervisor.release(member)
            member.process.send(sig)
        if not wait:
            return None
        code = member.process.wait(self.stop_grace)
        if code is None:
            raise self._error(
                member, f"{member.label} still running {self.stop_grace}s after {sig!r}"
            )
        return code

    def restart(self, name: str, replica: int = 0, *, wait: bool = True) -> None:
        """Stop a replica gracefully if it runs, start it again (same port, same store)."""
        member = self._member(name, replica)
        self._supervisor.release(member)
        member.process.stop(self.stop_grace)
        self._launch(member)
        if wait:
            self.wait_ready(name, replica)

    def start_replica(
        self, name: str, *, env: Mapping[str, str] | None = None, wait: bool = True
    ) -> int:
        """Start one more replica of a service on a free port; returns its replica number.

        `env` overrides settings of this replica only (a second gateway whose chat is
        `stack.url("chat", 1)`); `restart` keeps them.
        """
        spec = spec_for(name, self._specs)
        with self._lock:
            replica = len(self._members[name])
            if env:
                self._replica_env[(name, replica)] = dict(env)
            member = self._add_service_member(spec, replica, free_port())
        self._launch(member)
        self._write_targets()
        if wait:
            self.wait_ready(name, replica)
        return replica

    def stop_replica(self, name: str, replica: int) -> int | None:
        """Stop one replica gracefully (SIGTERM, then SIGKILL); the stack leaves it down."""
        member = self._member(name, replica)
        self._supervisor.release(member)
        code = member.process.stop(self.stop_grace)
        self._write_targets()
        return code

    def seed_demo(self) -> SeedResult:
        """Create or reuse the demo council through this stack's gateway."""
        return seed_demo(self.gateway_url, self.credentials)

    # ----------------------------------------------------------------- internals
    def _resolve(self, services: Sequence[str | ServiceSpec] | None) -> list[ServiceSpec]:
        if services is None:
            return list(installed_services())
        specs: list[ServiceSpec] = []
        for item in services:
            if isinstance(item, ServiceSpec):
                specs.append(item)
                continue
            spec = spec_for(item, SERVICES)
            if not spec.is_installed():
                raise StackError(
                    f"service {item!r} is not installed: no module {spec.module}.__main__ "
                    "(run `uv sync` at the repository root)"
                )
            specs.append(spec)
        return specs

    def _log_path(self, name: str, replica: int) -> Path:
        return self.log_dir / (f"{name}.log" if replica == 0 else f"{name}.{replica}.log")

    def _member(self, name: str, replica: int = 0) -> Member:
        members = self._members.get(name)
        if members is None:
            known = ", ".join([*self._members])
            raise KeyError(f"{name!r} is not running in this stack (running: {known})")
        if not 0 <= replica < len(members):
            raise KeyError(f"{name} has no replica {replica} (replicas: {len(members)})")
        return members[replica]

    def _add_broker(self, port: int) -> None:
        argv, env = broker_command(broker_binary(), port)
        process = ManagedProcess(BROKER, argv, env, self._log_path(BROKER, 0))
        self._members[BROKER] = [Member(BROKER, 0, port, process, ready_path=None)]

    def _add_service_member(self, spec: ServiceSpec, replica: int, port: int) -> Member:
        env = self._service_env_for(spec, replica, port)
        argv = [self.python, "-m", spec.module]
        process = ManagedProcess(
            spec.name, argv, env, self._log_path(spec.name, replica), cwd=self.data_dir
        )
        member = Member(spec.name, replica, port, process, ready_path="/readyz")
        self._members.setdefault(spec.name, []).append(member)
        return member

    def _service_env_for(self, spec: ServiceSpec, replica: int, port: int) -> dict[str, str]:
        urls = {other.name: self.url(other.name) for other in self._specs}
        return self._environment.for_service(
            spec, replica, port, urls=urls, replica_env=self._replica_env.get((spec.name, replica))
        )

    def _start_prometheus(self, binary: Path) -> None:
        address = f"127.0.0.1:{self._prometheus_port}"
        self._members[PROMETHEUS] = []  # so _write_targets knows Prometheus is on
        self._write_targets()
        argv = prom.prepare(self.data_dir / "prometheus", binary, address)
        process = ManagedProcess(PROMETHEUS, argv, dict(os.environ), self._log_path(PROMETHEUS, 0))
        member = Member(PROMETHEUS, 0, self._prometheus_port, process, ready_path="/-/ready")
        self._members[PROMETHEUS] = [member]
        self._launch(member)
        self.wait_ready(PROMETHEUS)

    def _write_targets(self) -> None:
        if PROMETHEUS not in self._members:
            return
        targets = [
            prom.ScrapeTarget(m.name, m.replica, f"127.0.0.1:{m.port}")
            for spec in self._specs
            for m in self._members.get(spec.name, [])
            if m.wanted
        ]
        prom.write_targets(self.data_dir / "prometheus" / prom.TARGETS_FILE, targets)

    def _launch(self, member: Member) -> None:
        self._supervisor.launch(member)

    def _error(self, member: Member, message: str) -> StackError:
        return StackError(
            f"{message}\n--- last lines of {member.process.log_path} ---\n{member.process.tail(60)}"
        )
