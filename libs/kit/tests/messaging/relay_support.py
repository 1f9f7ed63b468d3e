"""Outbox entries, collections and relays shared by the outbox and relay tests.

The `things` and `test_broker` fixtures are in conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from hearth_contracts import Envelope
from hearth_kit.messaging import OutboxRelay, outbox_entry
from hearth_kit.store.port import Collection, CollectionSpec

from .support import Pinged

THINGS = CollectionSpec("things")
NO_BROKER: Any = object()  # for relays that never publish


@dataclass
class Received:
    envelope: Envelope
    key: bytes
    headers: dict[str, str]
    topic: str


def ping(resident: str, note: str = "", **kw: Any) -> dict[str, Any]:
    return outbox_entry(
        Pinged(resident_id=resident, note=note),
        tenant_id="council-a",
        subject=resident,
        producer="checkins",
        **kw,
    )


async def save_with_events(things: Collection, doc_id: str, *events: dict[str, Any]) -> None:
    await things.insert({"id": doc_id, "tenant_id": "council-a"}, events=list(events))


async def pending(things: Collection, doc_id: str) -> list[dict[str, Any]]:
    doc = await things.get("council-a", doc_id)
    assert doc is not None
    return list(doc["outbox"])


def relay_for(
    things: Collection, broker: Any, registry: CollectorRegistry, **kw: Any
) -> OutboxRelay:
    kw.setdefault("owner", "relay-1")
    return OutboxRelay([things], broker, registry=registry, **kw)


class FailingBroker:
    """Publishes nothing: the broker is unreachable."""

    def __init__(self) -> None:
        self.attempts = 0

    async def publish(self, *args: Any, **kwargs: Any) -> None:
        self.attempts += 1
        raise ConnectionError("broker unreachable")
