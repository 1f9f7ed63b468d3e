"""The one envelope every Hearth event travels in, and the base class of event payloads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator


class EventData(BaseModel):
    """Payload of one event type. Subclasses name their type and schema version.

    Additive changes only within a version: new optional fields. Anything else is a new
    version (and, if consumers cannot cope, a new topic with a version suffix).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1


class Envelope(BaseModel):
    """Transport form of every event: ids and routing facts around a typed payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str = Field(min_length=3, max_length=120)
    schema_version: int = Field(ge=1)
    tenant_id: str = Field(min_length=1, max_length=64)
    subject: str = Field(min_length=1, max_length=128)
    occurred_at: datetime
    producer: str = Field(min_length=1, max_length=64)
    trace: dict[str, str] = Field(default_factory=dict)
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware (UTC)")
        return value.astimezone(UTC)

    @property
    def partition_key(self) -> bytes:
        return partition_key(self.tenant_id, self.subject)


def partition_key(tenant_id: str, subject: str) -> bytes:
    """Key = tenant + subject, so one resident's events stay in order on one partition."""
    return f"{tenant_id}:{subject}".encode()


def new_envelope(
    data: EventData,
    *,
    tenant_id: str,
    subject: str,
    producer: str,
    occurred_at: datetime | None = None,
    trace: dict[str, str] | None = None,
) -> Envelope:
    return Envelope(
        type=data.TYPE,
        schema_version=data.VERSION,
        tenant_id=tenant_id,
        subject=subject,
        occurred_at=occurred_at or datetime.now(UTC),
        producer=producer,
        trace=trace or {},
        data=data.model_dump(mode="json"),
    )
