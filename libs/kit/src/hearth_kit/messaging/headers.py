"""Kafka header names Hearth puts on events and on dead letters."""

from __future__ import annotations

from collections.abc import Iterable

CONTENT_TYPE = "content-type"
JSON = "application/json"

EVENT_ID = "x-event-id"
EVENT_TYPE = "x-event-type"
TENANT_ID = "x-tenant-id"

# Dead letters keep the original headers and add these.
ERROR = "x-error"
ERROR_TYPE = "x-error-type"
ATTEMPTS = "x-attempts"
ORIGINAL_TOPIC = "x-original-topic"
ORIGINAL_PARTITION = "x-original-partition"
ORIGINAL_OFFSET = "x-original-offset"
DEAD_LETTERED_BY = "x-dead-lettered-by"
REASON = "x-dead-letter-reason"

ERROR_MAX_CHARS = 2000


def decode_headers(raw: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """Kafka record headers as text; undecodable bytes are replaced, never fatal."""
    return {name: (value or b"").decode("utf-8", errors="replace") for name, value in (raw or ())}
