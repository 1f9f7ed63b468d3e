"""The consumer harness shared by the consumer tests: what it captured, and helpers.

The `harness` fixture itself is in conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from hearth_contracts import Envelope, new_envelope
from hearth_kit.messaging import EventConsumer
from hearth_kit.store.port import Collection


@dataclass
class Captured:
    body: bytes
    headers: dict[str, str]
    key: bytes | None


@dataclass
class Harness:
    broker: KafkaBroker
    consumer: EventConsumer
    inbox: Collection
    registry: CollectorRegistry
    calls: list[tuple[str, Any, Envelope]] = field(default_factory=list)
    dlq: list[Captured] = field(default_factory=list)
    fails: dict[str, int] = field(default_factory=dict)


def envelope_of(data: Any, subject: str = "res-1", tenant: str = "council-a") -> Envelope:
    return new_envelope(data, tenant_id=tenant, subject=subject, producer="test")


def handled(h: Harness, kind: str) -> list[Any]:
    return [c for c in h.calls if c[0] == kind]
