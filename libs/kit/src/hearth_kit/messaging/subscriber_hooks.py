"""The parser and decoder of the consumer's FastStream subscriber.

Both exist so that a bad record reaches the consumer, which dead-letters it, instead of
failing inside FastStream and stalling the batch it came in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiokafka import ConsumerRecord
from faststream.message import StreamMessage


async def lenient_parser(
    records: tuple[ConsumerRecord[Any, Any], ...],
    original: Callable[[Any], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's parser, except that headers which are not UTF-8 do not poison a batch."""
    try:
        return await original(records)
    except UnicodeDecodeError:
        cleaned = tuple(
            replace(
                record,
                headers=[
                    (name, (value or b"").decode("utf-8", errors="replace").encode())
                    for name, value in record.headers
                ],
            )
            for record in records
        )
        return await original(cleaned)


async def raw_bodies(message: StreamMessage[Any]) -> Any:
    """Leave bodies as bytes: the consumer parses envelopes itself (bad JSON included)."""
    return message.body
