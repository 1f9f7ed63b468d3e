"""Check-ins' settings (env prefix CHECKINS_; shared ones via hearth_kit.settings)."""

from __future__ import annotations

from pydantic import Field

from hearth_kit.settings import ServiceSettings, service_config


class CheckinsSettings(ServiceSettings):
    model_config = service_config("CHECKINS_")

    service_name: str = "checkins"
    http_port: int = Field(default=8002, ge=1, le=65535)

    # Where to ask identity about a resident its events have not told us about yet.
    identity_url: str = "http://127.0.0.1:8001"

    # Deadline timer: how long a replica owns a claimed deadline before another retakes
    # it (the worst extra delay if a replica dies mid-firing), how far ahead it keeps
    # deadlines in memory, and how often it polls for deadlines written elsewhere.
    timer_lease_seconds: float = Field(default=15.0, gt=0, le=600)
    timer_lookahead_seconds: float = Field(default=30.0, ge=0, le=600)
    timer_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    timer_batch_size: int = Field(default=200, ge=1, le=5000)
    # The auditor reports deadlines overdue by more than the tolerance and not fired.
    timer_audit_seconds: float = Field(default=10.0, gt=0, le=3600)
    timer_audit_tolerance_seconds: float = Field(default=5.0, ge=0, le=3600)

    # Kafka: off only in tests that need no broker (events then wait in the outbox).
    messaging_enabled: bool = True
