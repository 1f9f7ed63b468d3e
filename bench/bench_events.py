"""Event path throughput: the service kit against raw aiokafka, on one embedded broker.

Kit path: N aggregates saved with one event each into a SQLite outbox -> OutboxRelay ->
broker -> EventConsumer (inbox, retries, dead letters) -> a handler that counts.
Raw path: the same N envelopes produced with aiokafka `send` (batched by the client) and
read back with a raw AIOKafkaConsumer that only counts.

Group joins (~3-5 s each) happen before timing starts, both at once.

    uv run python -m bench.bench_events [--quick] [--events N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
import uuid
from functools import partial
from operator import contains
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import CollectorRegistry

from hearth_contracts import Envelope, topic_for
from hearth_contracts.checkins import CheckInRecorded
from hearth_devstack.broker import start_embedded_broker
from hearth_kit.messaging import (
    EventConsumer,
    OutboxRelay,
    inbox_spec,
    make_broker,
    outbox_entry,
)
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.port import CollectionSpec
from hearth_kit.store.sqlite import SqliteStore

# The benches share helpers beside them; found the same way under `python -m bench.X`.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import wait_until

TENANTS = ("council-a", "council-b", "council-c")
RAW_TOPIC = "bench.raw.checkin.recorded"
# Throughput and the group joins are timed until a wait returns: look often, so waiting
# adds little.
POLL = 0.002


def make_entry(i: int, run: str) -> dict[str, object]:
    resident = f"res-{i % 500}"
    return outbox_entry(
        CheckInRecorded(
            resident_id=resident,
            checkin_id=f"{run}-{i}",
            status="ok",
            channel="app",
            recorded_by=resident,
            mood=4,
        ),
        tenant_id=TENANTS[i % len(TENANTS)],
        subject=resident,
        producer="checkins",
    )


class KitPath:
    def __init__(self, bootstrap: str, folder: Path) -> None:
        producer_settings = ServiceSettings(
            service_name="bench-checkins", kafka_bootstrap_servers=bootstrap
        )
        consumer_settings = ServiceSettings(
            service_name="bench-alerts", kafka_bootstrap_servers=bootstrap
        )
        self.producer_store = SqliteStore(folder / "checkins.sqlite3")
        self.consumer_store = SqliteStore(folder / "alerts.sqlite3")
        self.producer_broker = make_broker(producer_settings, registry=CollectorRegistry())
        self.consumer_broker = make_broker(consumer_settings, registry=CollectorRegistry())
        self.settings = consumer_settings
        self.handled = 0
        self.handled_at: dict[str, float] = {}

    async def setup(self) -> None:
        self.things = await self.producer_store.collection(CollectionSpec("checkins"))
        inbox = await self.consumer_store.collection(inbox_spec("bench-alerts"))
        self.consumer = EventConsumer(
            "bench-alerts",
            self.consumer_broker,
            inbox,
            registry=CollectorRegistry(),
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
        )

        @self.consumer.handle(CheckInRecorded)
        async def on_recorded(data: CheckInRecorded, envelope: Envelope) -> None:
            self.handled += 1
            self.handled_at[str(envelope.event_id)] = time.perf_counter()

        subscriber = self.consumer.subscribe()
        await self.producer_broker.start()
        await self.consumer_broker.start()
        await wait_until(
            lambda: bool(subscriber.consumer and subscriber.consumer.assignment()),
            30,
            "kit consumer group join",
            poll=POLL,
        )
        self.relay = OutboxRelay(
            [self.things],
            self.producer_broker,
            owner="bench-relay",
            registry=CollectorRegistry(),
            store=self.producer_store,
            batch_size=200,
        )

    async def save(self, start: int, count: int, run: str) -> None:
        for i in range(start, start + count):
            await self.things.insert(
                {"id": f"{run}-{i}", "tenant_id": TENANTS[i % len(TENANTS)], "status": "ok"},
                events=[make_entry(i, run)],
            )

    async def end_to_end(self, n: int, run: str = "e2e") -> tuple[float, float]:
        """Relay running while aggregates are saved: (events/s, save-only seconds)."""
        self.handled = 0
        await self.relay.start()
        t0 = time.perf_counter()
        await self.save(0, n, run)
        saved = time.perf_counter() - t0
        await wait_until(lambda: self.handled >= n, 120, "kit end-to-end", poll=POLL)
        elapsed = time.perf_counter() - t0
        await self.relay.stop()
        return n / elapsed, saved

    async def backlog(self, n: int, run: str = "backlog") -> float:
        """Aggregates already saved; relay started afterwards: events/s to drain them."""
        self.handled = 0
        await self.save(0, n, run)
        t0 = time.perf_counter()
        await self.relay.start()
        await wait_until(lambda: self.handled >= n, 120, "kit backlog", poll=POLL)
        elapsed = time.perf_counter() - t0
        await self.relay.stop()
        return n / elapsed

    async def latency(self, samples: int) -> list[float]:
        """One event at a time: from the save call to the handler, in milliseconds."""
        await self.relay.start()
        result = []
        for i in range(samples):
            entry = make_entry(i, "latency")
            t0 = time.perf_counter()
            await self.things.insert(
                {"id": f"latency-{i}", "tenant_id": entry["tenant_id"]}, events=[entry]
            )
            event_id = str(entry["event_id"])
            probe = partial(contains, self.handled_at, event_id)
            await wait_until(probe, 10, "latency probe", poll=POLL)
            result.append((self.handled_at[event_id] - t0) * 1000)
        await self.relay.stop()
        return result

    async def close(self) -> None:
        await self.consumer.stop()
        await self.consumer_broker.stop()
        await self.producer_broker.stop()
        await self.producer_store.close()
        await self.consumer_store.close()


class RawPath:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    async def setup(self) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await self.producer.start()
        await self.producer.partitions_for(RAW_TOPIC)  # create the topic
        self.consumer = AIOKafkaConsumer(
            RAW_TOPIC,
            bootstrap_servers=self.bootstrap,
            group_id=f"bench-raw-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
            fetch_max_wait_ms=20,
        )
        await self.consumer.start()
        await wait_until(
            lambda: bool(self.consumer.assignment()), 30, "raw consumer join", poll=POLL
        )
        # The first fetch positions the consumer; do it before timing.
        await self.consumer.getmany(timeout_ms=100)

    async def run(self, n: int) -> float:
        payloads = [
            (
                Envelope.model_validate(e).partition_key,
                Envelope.model_validate(e).model_dump_json().encode(),
            )
            for e in (make_entry(i, "raw") for i in range(n))
        ]
        received = 0

        async def consume() -> None:
            nonlocal received
            while received < n:
                batches = await self.consumer.getmany(timeout_ms=200, max_records=5000)
                received += sum(len(records) for records in batches.values())

        t0 = time.perf_counter()
        reader = asyncio.create_task(consume())
        futures = [await self.producer.send(RAW_TOPIC, value, key=key) for key, value in payloads]
        await asyncio.gather(*futures)
        await asyncio.wait_for(reader, 120)
        return n / (time.perf_counter() - t0)

    async def close(self) -> None:
        await self.consumer.stop()
        await self.producer.stop()


async def main(n: int, latency_samples: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    with start_embedded_broker() as broker, tempfile.TemporaryDirectory() as folder:
        kit = KitPath(broker.bootstrap_servers, Path(folder))
        raw = RawPath(broker.bootstrap_servers)
        t0 = time.perf_counter()
        await asyncio.gather(kit.setup(), raw.setup())
        joins = time.perf_counter() - t0
        try:
            raw_rate = await raw.run(n)
            kit_e2e, saved = await kit.end_to_end(n)
            kit_backlog = await kit.backlog(n)
            latencies = await kit.latency(latency_samples)
        finally:
            await kit.close()
            await raw.close()
    print(
        f"event path, {n} events of {topic_for(CheckInRecorded.TYPE)} "
        f"(~{len(Envelope.model_validate(make_entry(0, 'x')).model_dump_json())} bytes), "
        "one embedded broker"
    )
    print(f"  group joins (both at once, untimed)      {joins:8.1f} s")
    print(f"  raw aiokafka produce+consume             {raw_rate:8.0f} events/s")
    print(
        f"  kit save->outbox->relay->consumer->handler {kit_e2e:6.0f} events/s "
        f"(saves alone: {n / saved:.0f}/s)"
    )
    print(f"  kit relay+consumer draining a backlog    {kit_backlog:8.0f} events/s")
    print(
        f"  kit/raw ratio                            {kit_e2e / raw_rate:8.3f} (end to end), "
        f"{kit_backlog / raw_rate:.3f} (backlog)"
    )
    print(
        f"  kit latency save->handler, one at a time  p50 {statistics.median(latencies):.1f} ms, "
        f"max {max(latencies):.1f} ms over {len(latencies)}"
    )
    print(f"  total run time                           {time.perf_counter() - started:8.1f} s")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 events instead of 5,000")
    parser.add_argument("--events", type=int, default=None, help="number of events")
    args = parser.parse_args()
    n = args.events or (1000 if args.quick else 5000)
    asyncio.run(main(n, 20 if args.quick else 50))


if __name__ == "__main__":
    cli()
