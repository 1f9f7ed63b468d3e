"""Safeguarding path latency: a chat message with a dangerous phrase, posted through the
gateway, until its alert is raised by the alerts service, with the broker, identity,
chat, alerts and the gateway running as real processes.

A resident posts `--messages` messages at `--rate` per second (HTTP, through the
gateway) in a direct conversation with on-call staff, every other one holding a phrase of
chat's baseline list (self-harm, critical). A raw Kafka consumer in this process records
when each event arrives: chat's `chat.message.posted` and `chat.message.flagged` (matched
by message id) and alerts' `alerts.alert.raised` (matched by alert id; the alert's refs,
read from `GET /v1/alerts` afterwards, name its message). Figures:
- baseline: the raw Kafka hop (produce -> consume here), and a plain message's
  send -> `chat.message.posted` (what the chat hop alone costs);
- flagged: send -> `chat.message.flagged`, send -> the alert stored (its `raised_at`),
  flagged event -> raised event (the alerts service's part), and send -> `alerts.alert.raised`,
  the end of the path: the aim is p99 <= 1 s.
The demo council has no rota or policy of its own: alerts raises the alert under its
built-in urgent policy (nobody needs to be notified for the alert to exist).

    uv run python bench/bench_flag_alert.py [--quick] [--messages N] [--rate R]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hearth_contracts import topic_for
from hearth_contracts.alerts import AlertRaised
from hearth_contracts.chat import MessageFlagged, MessagePosted

# The benches share helpers beside them; found the same way under `python -m bench.X`.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from chat_stack import MS_TABLE, ChatPair, chat_pair, chat_stack, paced
from common import pct, wait_until

SERVICES = ("identity", "chat", "alerts", "gateway")
POSTED = topic_for(MessagePosted.TYPE)
FLAGGED = topic_for(MessageFlagged.TYPE)
RAISED = topic_for(AlertRaised.TYPE)
RAW_TOPIC = "bench.raw.flag-alert"
DANGER = "some days I just want to end it all"  # baseline self_harm, critical
PLAIN = "the carer came at ten and we had a cup of tea"
AIM_P99 = 1.0
WARM_UP = 6
RAW_HOPS = 200
WAIT = 120.0
POST_ATTEMPTS = 20


class Watch:
    """When each event arrived here (wall clock), by topic and id. Reads from the start of
    each topic and refreshes metadata often, so topics created meanwhile are not missed."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(
            POSTED,
            FLAGGED,
            RAISED,
            RAW_TOPIC,
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=10,
            metadata_max_age_ms=1000,
        )
        self.seen: dict[str, dict[str, float]] = {t: {} for t in (POSTED, FLAGGED, RAISED)}
        self.seen[RAW_TOPIC] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self._task = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()

    async def _read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            now = time.time()
            for tp, records in batches.items():
                for record in records:
                    if record.value is None:
                        continue
                    if tp.topic == RAW_TOPIC:
                        self.seen[RAW_TOPIC].setdefault(record.value.decode(), now)
                        continue
                    data = json.loads(record.value)["data"]
                    key = data["alert_id"] if tp.topic == RAISED else data["message_id"]
                    self.seen[tp.topic].setdefault(key, now)


@dataclass
class Posts:
    """Messages posted through the gateway: when each was sent and answered."""

    sent: dict[str, float] = field(default_factory=dict)  # message id -> sent at
    answered: dict[str, float] = field(default_factory=dict)
    flagged: list[str] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)
    retried: int = 0  # answers 409 concurrent_change, sent again


async def post_all(
    client: httpx.AsyncClient, pair: ChatPair, count: int, rate: float, tag: str
) -> Posts:
    """`count` messages at `rate` per second, every other one flagged (odd numbers)."""
    posts = Posts()
    path = f"/v1/conversations/{pair.conversation_id}/messages"

    async def post(i: int) -> None:
        text = f"{DANGER} ({tag}-{i})" if i % 2 else f"{PLAIN} ({tag}-{i})"
        headers = {**pair.resident.auth, "Idempotency-Key": f"{tag}-{i}"}
        sent = time.time()
        for _ in range(POST_ATTEMPTS):
            response = await client.post(path, json={"text": text}, headers=headers)
            if response.status_code != 409:
                break
            # Concurrent posts in one conversation race for the next seq; the error says
            # retry, and the same Idempotency-Key keeps a retry from storing it twice.
            posts.retried += 1
            await asyncio.sleep(0.05)
        answered = time.time()
        if response.status_code not in (200, 201):
            raise RuntimeError(f"posting a message: HTTP {response.status_code} {response.text}")
        message = response.json()
        posts.sent[message["id"]] = sent
        posts.answered[message["id"]] = answered
        (posts.flagged if i % 2 else posts.plain).append(message["id"])

    tasks: list[asyncio.Task[None]] = []
    await paced(count, rate, lambda i: tasks.append(asyncio.create_task(post(i))))
    await asyncio.gather(*tasks)
    return posts


async def alerts_of(
    client: httpx.AsyncClient, pair: ChatPair, messages: list[str]
) -> dict[str, tuple[str, float]]:
    """message id -> (alert id, raised_at) for the flagged messages, once all are raised."""
    wanted = set(messages)
    found: dict[str, tuple[str, float]] = {}
    deadline = time.monotonic() + WAIT
    while not wanted <= found.keys():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(wanted - found.keys())} flagged messages raised no alert")
        cursor = None
        while True:
            params: dict[str, str | int] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            response = await client.get("/v1/alerts", params=params, headers=pair.staff.auth)
            response.raise_for_status()
            body = response.json()
            for alert in body["items"]:
                message = alert["refs"].get("message_id")
                if alert["source"] == "message_flagged" and message in wanted:
                    raised = datetime.fromisoformat(alert["raised_at"].replace("Z", "+00:00"))
                    found[message] = (alert["id"], raised.timestamp())
            cursor = body["next_cursor"]
            if cursor is None:
                break
        await asyncio.sleep(0.5)
    return found


async def raw_hop(producer: AIOKafkaProducer, watch: Watch, count: int, rate: float) -> list[float]:
    sent: dict[str, float] = {}

    async def send(i: int) -> None:
        key = f"raw-{uuid.uuid4().hex[:8]}-{i}"
        sent[key] = time.time()
        await producer.send_and_wait(RAW_TOPIC, key.encode())

    tasks: list[asyncio.Task[None]] = []
    await paced(count, rate, lambda i: tasks.append(asyncio.create_task(send(i))))
    await asyncio.gather(*tasks)
    seen = watch.seen[RAW_TOPIC]
    await wait_until(lambda: sent.keys() <= seen.keys(), WAIT, "the raw Kafka records")
    return [seen[k] - sent[k] for k in sent]


async def measure(gateway: str, bootstrap: str, pair: ChatPair, messages: int, rate: float) -> None:
    watch = Watch(bootstrap)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    await watch.start()
    try:
        async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
            tag = uuid.uuid4().hex[:8]
            # Untimed: connections, topics created, the watcher positioned on every topic.
            warm = await post_all(client, pair, WARM_UP, rate, f"w{tag}")
            warm_alerts = await alerts_of(client, pair, warm.flagged)
            raised = watch.seen[RAISED]
            await wait_until(
                lambda: all(a in raised for a, _ in warm_alerts.values()), WAIT, "warm-up alerts"
            )
            raw_count = min(RAW_HOPS, messages)
            print(f"raw Kafka hop: {raw_count} records at {rate:g}/s", flush=True)
            hops = await raw_hop(producer, watch, raw_count, rate)
            print(
                f"posting {messages} messages at {rate:g}/s through the gateway, "
                f"{messages // 2} with a baseline phrase",
                flush=True,
            )
            posts = await post_all(client, pair, messages, rate, tag)
            alerts = await alerts_of(client, pair, posts.flagged)
        posted, flagged = watch.seen[POSTED], watch.seen[FLAGGED]
        await wait_until(
            lambda: (
                set(posts.sent) <= posted.keys()
                and set(posts.flagged) <= flagged.keys()
                and all(a in raised for a, _ in alerts.values())
            ),
            WAIT,
            "chat's and alerts' events",
        )
    finally:
        await watch.stop()
        await producer.stop()
    report(posts, alerts, watch, hops)


def report(
    posts: Posts, alerts: dict[str, tuple[str, float]], watch: Watch, hops: list[float]
) -> None:
    posted, flagged, raised = watch.seen[POSTED], watch.seen[FLAGGED], watch.seen[RAISED]
    sent, bad = posts.sent, posts.flagged
    chat_hop = [posted[m] - sent[m] for m in posts.plain]
    to_raised = [raised[alerts[m][0]] - sent[m] for m in bad]
    rows = {
        "baseline: raw Kafka hop, produce -> consume": hops,
        "baseline: plain message, send -> message.posted": chat_hop,
        "HTTP POST through the gateway -> 201": [posts.answered[m] - sent[m] for m in sent],
        "flagged: send -> chat.message.flagged": [flagged[m] - sent[m] for m in bad],
        "flagged: send -> alert stored (raised_at)": [alerts[m][1] - sent[m] for m in bad],
        "flagged: message.flagged -> alert.raised": [
            raised[alerts[m][0]] - flagged[m] for m in bad
        ],
        "flagged: send -> alerts.alert.raised": to_raised,
    }
    print()
    print(MS_TABLE.header())
    for name, values in rows.items():
        print(MS_TABLE.row(name, values))
    print(
        f"\nat p50 the alert is raised {(pct(to_raised, 50) - pct(chat_hop, 50)) * 1000:.0f} ms "
        f"after a plain message's chat hop ({pct(to_raised, 50) / pct(chat_hop, 50):.1f}x)"
    )
    if posts.retried:
        print(
            f"{posts.retried} posts were answered 409 concurrent_change (chat's race for the "
            "next seq) and sent again; their latency counts from the first attempt"
        )
    p99 = pct(to_raised, 99)
    verdict = "met" if p99 <= AIM_P99 else "NOT met"
    print(f"aim flagged -> alert raised p99 <= {AIM_P99:g} s: {verdict} ({p99:.3f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="120 messages (60 flagged)")
    parser.add_argument("--messages", type=int, default=None, help="default 800, half flagged")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    args = parser.parse_args()
    messages = args.messages or (120 if args.quick else 800)
    if messages < 2 or args.rate <= 0:
        parser.error("messages must be >= 2 and rate > 0")
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="hearth-bench-flag-") as folder:
        print(f"starting broker, {', '.join(SERVICES)} ...", flush=True)
        with chat_stack(Path(folder), SERVICES) as stack:
            pair = chat_pair(stack)
            asyncio.run(
                measure(stack.gateway_url, stack.bootstrap_servers, pair, messages, args.rate)
            )


if __name__ == "__main__":
    main()
