"""Hearth's event contracts: the envelope, payloads per domain, topics and keys."""

from hearth_contracts.envelope import Envelope, EventData, new_envelope, partition_key
from hearth_contracts.registry import EVENT_TYPES, dead_letter_topic, parse_data, topic_for

__all__ = [
    "EVENT_TYPES",
    "Envelope",
    "EventData",
    "dead_letter_topic",
    "new_envelope",
    "parse_data",
    "partition_key",
    "topic_for",
]
