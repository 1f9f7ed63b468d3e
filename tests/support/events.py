"""Read what really reached the broker: every record of some topics, from the start."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer


async def read_topics(
    bootstrap: str, topics: list[str], *, idle_seconds: float = 2.0, limit_seconds: float = 30.0
) -> list[dict[str, Any]]:
    """All envelopes on `topics` (a fresh group, earliest offsets), once the topics are idle."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=f"probe-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_seconds
        idle_since = loop.time()
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            records = [r for rs in batch.values() for r in rs]
            if records:
                idle_since = loop.time()
                found.extend(json.loads(r.value) for r in records)
            elif found and loop.time() - idle_since > idle_seconds:
                break
    finally:
        await consumer.stop()
    return found
