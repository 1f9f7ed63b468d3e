"""Alert path latency: missed check-in -> first notification handed to its channel, and
how late escalation steps fire, with the alerts service running on the embedded broker.

The service runs in this process (its full runtime: consumer group, SQLite store, outbox
relay, deadline schedulers, webhook channel); a local HTTP receiver records when each
signed webhook arrives. Three councils each have an on-call responder and a backup, and a
policy: on-call at once, the backup `--delay` seconds later if nobody acknowledges.

1. Baseline: the same CheckInMissed envelopes produced with raw aiokafka to a scratch
   topic and read back by a raw consumer (one broker hop, what Kafka alone costs).
2. Alert path: N CheckInMissed events published at `--rate` per second; for each, the
   time from publishing until the on-call webhook arrives.
3. Escalation: for each alert, how late its second step fired against its planned time
   (recorded by the service), and when that step's webhook arrived.
4. Burst: `--burst` misses published at once (deadlines cluster on the hour), to show
   how fast one replica on this machine works through a backlog.

    uv run python -m bench.bench_alert_path [--quick] [--events N] [--rate R] [--delay S]
                                            [--burst B]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hearth_alerts.bootstrap import create_app
from hearth_alerts.settings import AlertsSettings
from hearth_alerts.testing import HttpReceiver
from hearth_contracts import new_envelope, topic_for
from hearth_contracts.checkins import CheckInMissed
from hearth_devstack.broker import start_embedded_broker
from hearth_kit.people import Person
from hearth_kit.store import Query
from hearth_kit.testing import FakeIdentity, TokenSigner

# The benches share helpers beside them; found the same way under `python -m bench.X`.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Table, pct

COUNCILS = ("council-a", "council-b", "council-c")
ONCALL, BACKUP = "oncall-1", "backup-1"
RAW_TOPIC = "bench.raw.checkin.missed"
TABLE = Table("seconds", width=44, n_width=7)


def missed(i: int, run: str) -> tuple[str, bytes, bytes]:
    council = COUNCILS[i % len(COUNCILS)]
    resident = f"{run}-res-{i}"
    now = datetime.now(UTC)
    envelope = new_envelope(
        CheckInMissed(
            resident_id=resident, occurrence_id=f"{run}-occ-{i}", due_at=now, deadline_at=now
        ),
        tenant_id=council,
        subject=resident,
        producer="checkins",
    )
    return resident, envelope.partition_key, envelope.model_dump_json().encode()


async def publish_paced(
    producer: AIOKafkaProducer, topic: str, items: list[tuple[str, bytes, bytes]], rate: float
) -> dict[str, float]:
    """Publish at `rate` per second; returns when each was handed to the producer."""
    sent: dict[str, float] = {}
    start = time.perf_counter()
    for i, (resident, key, value) in enumerate(items):
        wait = start + i / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        sent[resident] = time.time()
        await producer.send_and_wait(topic, value, key=key)
    return sent


async def publish_burst(
    producer: AIOKafkaProducer, topic: str, items: list[tuple[str, bytes, bytes]]
) -> dict[str, float]:
    """Hand every event to the producer at once (it batches), then wait for the acks."""
    sent: dict[str, float] = {}
    pending = []
    for resident, key, value in items:
        sent[resident] = time.time()
        pending.append(await producer.send(topic, value, key=key))
    await asyncio.gather(*pending)
    return sent


async def baseline(bootstrap: str, producer: AIOKafkaProducer, n: int, rate: float) -> list[float]:
    consumer = AIOKafkaConsumer(
        RAW_TOPIC,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await producer.send_and_wait(RAW_TOPIC, b"warm-up")
    await consumer.start()
    arrived: dict[str, float] = {}
    run = uuid.uuid4().hex[:6]
    items = [missed(i, run) for i in range(n)]
    wanted = {resident for resident, _, _ in items}

    async def read() -> None:
        while not wanted <= arrived.keys():
            batches = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for records in batches.values():
                for record in records:
                    if record.value and record.value.startswith(b"{"):
                        resident = record.key.decode().split(":", 1)[1] if record.key else ""
                        arrived.setdefault(resident, now)

    reader = asyncio.create_task(read())
    try:
        sent = await publish_paced(producer, RAW_TOPIC, items, rate)
        await asyncio.wait_for(reader, 60)
    finally:
        reader.cancel()
        await consumer.stop()
    return [arrived[r] - sent[r] for r in wanted]


async def configure(
    client: httpx.AsyncClient, signer: TokenSigner, hook: str, delay: float
) -> None:
    for council in COUNCILS:
        token = signer.token(user_id="admin", tenant_id=council, roles=["council_admin"])
        headers = {"Authorization": f"Bearer {token}"}
        layer = {"length_hours": 24, "handoff_time": "09:00", "start_date": "2026-01-01"}
        calls: list[tuple[str, dict[str, Any]]] = [
            (
                "/v1/oncall/rota",
                {
                    "timezone": "Europe/London",
                    "layers": [
                        {"name": "primary", "users": [ONCALL], **layer},
                        {"name": "backup", "users": [BACKUP], **layer},
                    ],
                },
            ),
            (
                "/v1/escalation-policies/bench",
                {
                    "steps": [
                        {"delay_seconds": 0, "targets": [{"type": "oncall"}]},
                        {"delay_seconds": delay, "targets": [{"type": "layer", "layer": "backup"}]},
                    ]
                },
            ),
            ("/v1/alerts/settings", {"policies": {"checkin_missed": "bench"}}),
            (
                f"/v1/users/{ONCALL}/contact-methods",
                {"methods": [{"channel": "webhook", "address": f"{hook}/{council}/oncall"}]},
            ),
            (
                f"/v1/users/{BACKUP}/contact-methods",
                {"methods": [{"channel": "webhook", "address": f"{hook}/{council}/backup"}]},
            ),
        ]
        for path, body in calls:
            response = await client.put(path, json=body, headers=headers)
            response.raise_for_status()


async def run(events: int, rate: float, delay: float, burst: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    with start_embedded_broker() as broker, tempfile.TemporaryDirectory() as folder:
        signer = TokenSigner()
        settings = AlertsSettings(
            environment="test",
            data_dir=Path(folder),
            kafka_bootstrap_servers=broker.bootstrap_servers,
            log_level="WARNING",
        )
        # Alerts checks with identity that whoever a rota names is council staff; identity
        # is not running here, so a stand-in knows the responders (as on-call staff).
        staff = {user: Person(user, "oncall", active=True) for user in (ONCALL, BACKUP)}
        app = create_app(settings, verifier=signer.verifier(), identity=FakeIdentity(staff))
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
        await producer.start()
        try:
            print(f"baseline: {events} raw envelopes at {rate:.0f}/s, one broker hop")
            hops = await baseline(broker.bootstrap_servers, producer, events, rate)
            print("starting the alerts service (joins its consumer group)")
            started = time.perf_counter()
            async with app.router.lifespan_context(app), HttpReceiver() as hook:
                print(f"  started in {time.perf_counter() - started:.1f}s")
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://alerts") as c:
                    await configure(c, signer, hook.url, delay)
                await measure(app, producer, hook, events, rate, delay, hops)
                if burst:
                    await measure_burst(producer, hook, burst)
        finally:
            await producer.stop()


async def measure(
    app: Any,
    producer: AIOKafkaProducer,
    hook: HttpReceiver,
    events: int,
    rate: float,
    delay: float,
    hops: list[float],
) -> None:
    topic = topic_for(CheckInMissed.TYPE)
    warm = uuid.uuid4().hex[:6]
    await publish_paced(producer, topic, [missed(i, warm) for i in range(6)], 50)
    await hook.wait_for(lambda r: r.path.endswith("/oncall"), count=6, within=30)
    run = uuid.uuid4().hex[:6]
    items = [missed(i, run) for i in range(events)]
    print(f"alert path: {events} missed check-ins at {rate:.0f}/s over {len(COUNCILS)} councils")
    sent = await publish_paced(producer, topic, items, rate)

    def ours(path: str):  # type: ignore[no-untyped-def]
        return lambda r: r.path.endswith(path) and r.json()["resident_id"].startswith(run)

    first = await hook.wait_for(ours("/oncall"), count=events, within=120)
    print(f"waiting for the escalation steps ({delay:.0f}s after each first step)")
    second = await hook.wait_for(ours("/backup"), count=events, within=120 + delay)
    to_first = [r.at - sent[r.json()["resident_id"]] for r in first]

    repos = app.state.repos
    lateness: list[float] = []
    step_to_webhook: list[float] = []
    arrival = {r.json()["alert_id"]: r.at for r in second}
    for council in COUNCILS:
        cursor = None
        while True:
            alerts, cursor = await repos.alerts.find(council, Query(limit=500, cursor=cursor))
            for alert in alerts:
                if alert.resident_id and alert.resident_id.startswith(run) and len(alert.steps) > 1:
                    step = alert.steps[1]
                    lateness.append(step.fired_at - step.planned_at)
                    step_to_webhook.append(arrival[alert.id] - step.planned_at)
            if cursor is None:
                break

    print()
    print(TABLE.header())
    print(TABLE.row("baseline: raw broker hop", hops))
    print(TABLE.row("missed check-in -> on-call webhook arrived", to_first))
    print(TABLE.row("escalation step fired after its time", lateness))
    print(TABLE.row("escalation step time -> webhook arrived", step_to_webhook))
    added = pct(to_first, 50) - pct(hops, 50)
    print(f"\nthe alerts service adds {added * 1000:.0f} ms at p50 over the raw broker hop")
    p99_first, p99_late = pct(to_first, 99), pct(lateness, 99)
    print(
        f"aim first notification p99 <= 2 s: {'met' if p99_first <= 2 else 'NOT met'} "
        f"({p99_first:.3f} s)"
    )
    print(
        f"aim escalation lateness p99 <= 1 s: {'met' if p99_late <= 1 else 'NOT met'} "
        f"({p99_late:.3f} s)"
    )


async def measure_burst(producer: AIOKafkaProducer, hook: HttpReceiver, burst: int) -> None:
    run = uuid.uuid4().hex[:6]
    items = [missed(i, run) for i in range(burst)]
    print(f"\nburst: {burst} missed check-ins published at once")
    started = time.time()
    sent = await publish_burst(producer, topic_for(CheckInMissed.TYPE), items)
    arrived = await hook.wait_for(
        lambda r: r.path.endswith("/oncall") and r.json()["resident_id"].startswith(run),
        count=burst,
        within=300,
    )
    latency = [r.at - sent[r.json()["resident_id"]] for r in arrived]
    took = max(r.at for r in arrived) - started
    print(TABLE.header())
    print(TABLE.row("burst: missed check-in -> on-call webhook", latency))
    print(f"one replica worked through the burst at {burst / took:.0f} alerts/s ({took:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="150 events at 30/s, burst 200")
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--rate", type=float, default=None, help="events per second")
    parser.add_argument("--delay", type=float, default=None, help="seconds to the 2nd step")
    parser.add_argument("--burst", type=int, default=None, help="events published at once")
    args = parser.parse_args()
    events = args.events or (150 if args.quick else 1200)
    rate = args.rate or (30.0 if args.quick else 40.0)
    delay = args.delay if args.delay is not None else (3.0 if args.quick else 10.0)
    burst = args.burst if args.burst is not None else (200 if args.quick else 600)
    if events < 1 or rate <= 0 or delay < 0 or burst < 0:
        parser.error("events must be >= 1, rate > 0, delay >= 0, burst >= 0")
    asyncio.run(run(events, rate, delay, burst))


if __name__ == "__main__":
    main()
