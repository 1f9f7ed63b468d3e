"""Keeping the stack's processes running: crash reports, restarts with backoff, stopping.

A process that exits without being asked to is reported (with the tail of its log) and
started again after a delay that doubles with each quick crash, up to 30 seconds, and
starts over once it has stayed up for 30 seconds.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from hearth_devstack.broker import wait_for_port
from hearth_devstack.processes import ManagedProcess

MAX_BACKOFF = 30.0
STABLE_AFTER = 30.0  # seconds up before a process's restart backoff starts over
WATCH_INTERVAL = 0.2


@dataclass(frozen=True)
class StackEvent:
    at: float  # time.time()
    name: str
    replica: int
    kind: str  # "crashed" | "restarted" | "gave_up"
    message: str
    log_tail: str = ""


@dataclass
class Member:
    """One replica of one process of the stack."""

    name: str
    replica: int
    port: int
    process: ManagedProcess
    ready_path: str | None  # HTTP readiness path; None: ready once the port accepts
    wanted: bool = False  # the supervisor keeps it running
    backoff: float = 1.0
    restart_at: float | None = None

    @property
    def label(self) -> str:
        return self.name if self.replica == 0 else f"{self.name}[{self.replica}]"


class Supervisor:
    def __init__(
        self,
        *,
        restart_on_crash: bool = True,
        on_event: Callable[[StackEvent], None] | None = None,
    ) -> None:
        self.restart_on_crash = restart_on_crash
        self.lock = threading.RLock()
        self.members: dict[str, list[Member]] = {}
        self._on_event = on_event
        self._events: list[StackEvent] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # Every child is started from this one long-lived thread: a child's parent-death
        # signal fires when the thread that started it ends.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-spawn")

    @property
    def events(self) -> list[StackEvent]:
        with self.lock:
            return list(self._events)

    def launch(self, member: Member) -> None:
        """Start a member's process and keep it running from now on."""
        self._spawner.submit(member.process.start).result()
        with self.lock:
            member.wanted = True
            member.restart_at = None

    def release(self, member: Member) -> None:
        """Stop keeping a member running (before stopping or killing it on purpose)."""
        with self.lock:
            member.wanted = False
            member.restart_at = None

    def will_restart(self, member: Member) -> bool:
        return (
            member.wanted
            and self.restart_on_crash
            and self._thread is not None
            and not self._stopping.is_set()
        )

    def start_watching(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="hearth-monitor", daemon=True)
        self._thread.start()

    def stop_watching(self) -> None:
        """Stop restarting anything; every member is released."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.lock:
            for members in self.members.values():
                for member in members:
                    member.wanted = False

    def stop_together(self, members: list[Member], grace: float) -> None:
        """SIGTERM to all at once, SIGKILL to what is left after `grace` seconds."""
        running = [m for m in members if m.process.running]
        for member in running:
            member.process.send(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for member in running:
            member.process.wait(max(0.0, deadline - time.monotonic()))
        for member in running:
            if member.process.running:
                member.process.stop(0)  # SIGKILL what is left, with its group
            else:
                member.process.reap_group()

    def shutdown(self) -> None:
        self._spawner.shutdown(wait=True)

    def _emit(self, member: Member, kind: str, message: str, tail: str = "") -> None:
        event = StackEvent(time.time(), member.name, member.replica, kind, message, tail)
        with self.lock:
            self._events.append(event)
        if self._on_event is not None:
            self._on_event(event)

    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_INTERVAL):
            with self.lock:
                for members in list(self.members.values()):
                    for member in members:
                        self._check(member)

    def _check(self, member: Member) -> None:
        now = time.monotonic()
        process = member.process
        if not member.wanted:
            return
        if process.running:
            if now - process.started_at > STABLE_AFTER:
                member.backoff = 1.0
            return
        if member.restart_at is None:
            code = process.returncode
            process.reap_group()
            tail = process.tail(30)
            if not self.restart_on_crash:
                member.wanted = False
                self._emit(member, "gave_up", f"{member.label} exited with code {code}", tail)
                return
            delay = member.backoff
            member.backoff = min(member.backoff * 2, MAX_BACKOFF)
            member.restart_at = now + delay
            message = (
                f"{member.label} exited unexpectedly (code {code}); restarting in {delay:.0f}s"
            )
            self._emit(member, "crashed", message, tail)
        elif now >= member.restart_at:
            member.restart_at = None
            try:
                self._spawner.submit(process.start).result()
            except OSError as exc:
                member.restart_at = now + member.backoff
                self._emit(member, "crashed", f"{member.label} could not be restarted: {exc}")
                return
            self._emit(member, "restarted", f"{member.label} restarted (pid {process.pid})")


def probe(member: Member) -> tuple[bool, str]:
    """Whether a member is ready now, and what it answered."""
    if member.ready_path is None:
        try:
            wait_for_port("127.0.0.1", member.port, timeout=0.2)
        except TimeoutError:
            return False, "port not open"
        return True, "port open"
    url = f"http://127.0.0.1:{member.port}{member.ready_path}"
    try:
        response = httpx.get(url, timeout=2.0)
    except httpx.HTTPError as exc:
        return False, f"GET {member.ready_path}: {exc!r}"
    body = response.text.strip().replace("\n", " ")[:200]
    return (
        response.status_code == 200,
        f"GET {member.ready_path}: HTTP {response.status_code} {body}",
    )
