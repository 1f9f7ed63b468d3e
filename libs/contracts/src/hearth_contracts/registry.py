"""Every event type Hearth publishes: the catalogue consumers and schema tests read."""

from __future__ import annotations

from typing import Any

from hearth_contracts import alerts, chat, checkins, identity
from hearth_contracts.envelope import Envelope, EventData

EVENT_TYPES: dict[str, type[EventData]] = {
    cls.TYPE: cls
    for module in (identity, checkins, alerts, chat)
    for cls in vars(module).values()
    if isinstance(cls, type) and issubclass(cls, EventData) and cls is not EventData
}


def topic_for(event_type: str) -> str:
    """Topic per event type; a breaking change gets a version suffix (`.v2`)."""
    model = EVENT_TYPES[event_type]
    return event_type if model.VERSION == 1 else f"{event_type}.v{model.VERSION}"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


def parse_data(envelope: Envelope) -> EventData:
    """Validate an envelope's payload against its declared type."""
    model = EVENT_TYPES.get(envelope.type)
    if model is None:
        raise ValueError(f"unknown event type {envelope.type!r}")
    return model.model_validate(envelope.data)


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of the envelope and of every payload, keyed by `type@version`."""
    schemas: dict[str, dict[str, Any]] = {"envelope@1": Envelope.model_json_schema()}
    for event_type, model in sorted(EVENT_TYPES.items()):
        schemas[f"{event_type}@{model.VERSION}"] = model.model_json_schema()
    return schemas
