"""The public API as a client sees it: which routes a service owns (from the gateway's merged
OpenAPI document), Hearth's error shape, waiting with a deadline, the live alert stream
(server-sent events) and a live view of a topic.

Used by the tenancy and bad-input suites and the exactly-once test of check-ins and alerts.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer

from hearth_gateway.domain.routes import match_route

T = TypeVar("T")
METHODS = ("get", "put", "post", "delete", "patch")


# ---- routes -----------------------------------------------------------------------------------
def owned_operations(http: httpx.Client, service: str) -> set[tuple[str, str]]:
    """(METHOD, OpenAPI path) of every operation the gateway routes to `service`, read from
    the gateway's merged document; fails if the service is not in it (a check against an
    empty list would prove nothing)."""
    response = http.get("/openapi.json")
    assert response.status_code == 200, response.text
    doc = response.json()
    status = doc.get("x-hearth-services", {}).get(service)
    assert status == "available", f"{service} is {status!r} in the gateway's OpenAPI document"
    found: set[tuple[str, str]] = set()
    for path, item in doc["paths"].items():
        owner = match_route(path)
        if owner is None or owner.service != service:
            continue
        found.update((m.upper(), path) for m in item if m in METHODS)
    assert found, f"the gateway's OpenAPI document lists no operation of {service}"
    return found


def missing_rows(
    documented: Iterable[tuple[str, str]], table: Iterable[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(documented operations without a row, rows no longer documented), sorted."""
    documented, table = set(documented), set(table)
    return sorted(documented - table), sorted(table - documented)


# ---- answers ----------------------------------------------------------------------------------
def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error of a refusal in Hearth's one shape: {"error": {"code", "message", "details"}}
    with a machine code and a human reason; fails with the answer if it is not that."""
    try:
        body = response.json()
    except ValueError as exc:
        raise AssertionError(
            f"{response.status_code} answer is not JSON: {response.text[:300]!r}"
        ) from exc
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"not Hearth's error shape: {body!r}"
    assert isinstance(error.get("code"), str) and error["code"], body
    assert isinstance(error.get("message"), str) and error["message"].strip(), body
    assert isinstance(error.get("details", []), list), body
    return error


def fields_of(error: dict[str, Any]) -> set[str]:
    """The fields a validation error names (`body.` / `query.` prefixes removed)."""
    named = set()
    for detail in error.get("details", []):
        name = str(detail.get("field", ""))
        for prefix in ("body.", "query.", "path.", "header."):
            name = name.removeprefix(prefix)
        named.add(name)
    return named


# ---- waiting ----------------------------------------------------------------------------------
def wait_for(
    probe: Callable[[], T | None], *, within: float, what: str, interval: float = 0.1
) -> T:
    """Call `probe` until it returns something truthy; fail naming `what` after `within`
    seconds."""
    deadline = time.monotonic() + within
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        time.sleep(interval)


def sleep_until(moment: float) -> None:
    """Let the wall clock reach `moment` (epoch seconds): only to give something the time
    to happen when the test must show it does *not* (a double), never as an assertion."""
    while (left := moment - time.time()) > 0:
        time.sleep(min(left, 0.5))


# ---- the live alert stream --------------------------------------------------------------------
@dataclass
class StreamReader:
    """Reads the server-sent events of `/v1/alerts/stream` in a thread, as a staff console
    does; `events` are the parsed `data:` payloads, `lines` every line received."""

    base_url: str
    headers: dict[str, str]
    path: str = "/v1/alerts/stream"
    status: int | None = None
    lines: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    _connected: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _client: httpx.Client | None = None

    def start(self, within: float = 15.0) -> StreamReader:
        self._thread = threading.Thread(target=self._run, name="sse-reader", daemon=True)
        self._thread.start()
        assert self._connected.wait(within), "the alert stream did not answer"
        return self

    def _run(self) -> None:
        timeout = httpx.Timeout(10.0, read=60.0)
        with httpx.Client(base_url=self.base_url, timeout=timeout) as client:
            self._client = client
            try:
                with client.stream("GET", self.path, headers=self.headers) as response:
                    self.status = response.status_code
                    self._connected.set()
                    if response.status_code != 200:
                        response.read()
                        self.lines.append(response.text)
                        return
                    for line in response.iter_lines():
                        self.lines.append(line)
                        if line.startswith("data:"):
                            self.events.append(json.loads(line[5:].strip() or "{}"))
                        if self._stop.is_set():
                            return
            except httpx.HTTPError:
                if not self._stop.is_set():
                    raise
            finally:
                self._connected.set()

    def stop(self) -> None:
        self._stop.set()
        if self._client is not None:
            self._client.close()
        if self._thread is not None:
            self._thread.join(timeout=5)


# ---- a live view of topics --------------------------------------------------------------------
class TopicWatcher:
    """Every record of some topics (from the start, in a fresh consumer group), collected in
    a thread as they arrive, with the time each arrived, so a test can act the moment
    something shows up."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.records: list[tuple[float, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._assigned = threading.Event()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="topic-watcher", daemon=True)

    def start(self, within: float = 60.0) -> TopicWatcher:
        self._thread.start()
        deadline = time.monotonic() + within
        while not self._assigned.wait(0.2):
            if self._error is not None:
                raise AssertionError(f"topic watcher failed: {self._error!r}")
            assert time.monotonic() < deadline, f"no partitions of {self.topics} after {within}s"
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def matching(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self._lock:
            return [envelope for _, envelope in self.records if predicate(envelope)]

    def first(
        self, predicate: Callable[[dict[str, Any]], bool], *, within: float, what: str
    ) -> dict[str, Any]:
        return wait_for(
            lambda: next(iter(self.matching(predicate)), None),
            within=within,
            what=what,
            interval=0.005,
        )

    def _main(self) -> None:
        try:
            asyncio.run(self._consume())
        except BaseException as exc:  # reported by start() / the test's assertions
            self._error = exc

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=f"probe-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
        )
        await consumer.start()
        try:
            while not self._stop.is_set():
                batch = await consumer.getmany(timeout_ms=50)
                if consumer.assignment():
                    self._assigned.set()
                arrived = time.time()
                with self._lock:
                    for records in batch.values():
                        self.records.extend((arrived, json.loads(r.value)) for r in records)
        finally:
            await consumer.stop()
