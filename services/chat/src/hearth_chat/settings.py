"""Chat's settings (env prefix CHAT_; shared ones such as KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

from __future__ import annotations

from pydantic import Field

from hearth_kit.settings import ServiceSettings, service_config


class ChatSettings(ServiceSettings):
    model_config = service_config("CHAT_")

    service_name: str = "chat"
    http_port: int = Field(default=8004, ge=1, le=65535)

    # Where to ask identity about people and circles its events have not told chat yet.
    identity_url: str = "http://127.0.0.1:8001"

    # Messages: longest text (characters), and how long an author may edit or delete one.
    max_message_chars: int = Field(default=4000, ge=1, le=20000)
    edit_window_seconds: float = Field(default=900.0, ge=0, le=7 * 24 * 3600)

    # Live support: seconds a request may wait unclaimed before on-call is called
    # (a council may set its own target; this is the default).
    support_target_seconds: float = Field(default=60.0, ge=5, le=24 * 3600)

    # Safeguarding: how often a replica checks whether a council's phrase list changed
    # (changes made through this replica apply at once).
    phrases_refresh_seconds: float = Field(default=2.0, ge=0, le=300)

    # WebSocket limits per connection: largest client frame (bytes), a token bucket of
    # frames (sustained rate per second, burst), the queue of frames waiting to be sent
    # (a client that falls further behind is disconnected and resumes), subscriptions,
    # and malformed frames tolerated before the connection is closed.
    ws_max_frame_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    ws_frames_per_second: float = Field(default=5.0, gt=0, le=1000)
    ws_frame_burst: int = Field(default=30, ge=1, le=10_000)
    ws_send_queue: int = Field(default=1000, ge=10, le=100_000)
    ws_max_subscriptions: int = Field(default=200, ge=1, le=10_000)
    ws_max_bad_frames: int = Field(default=10, ge=1, le=1000)
    # The replica feed: how soon topics created after start are noticed.
    feed_metadata_max_age_ms: int = Field(default=3000, ge=100, le=600_000)
    # How long a replica remembers that someone's access changed (deactivated, role
    # changed) to refuse their older tokens: at least the longest access-token lifetime.
    access_revocation_seconds: float = Field(default=960.0, ge=60, le=24 * 3600)

    # Durable timer of unanswered support requests.
    timer_lease_seconds: float = Field(default=15.0, gt=0, le=600)
    timer_lookahead_seconds: float = Field(default=30.0, ge=0, le=600)
    timer_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    timer_audit_seconds: float = Field(default=10.0, gt=0, le=3600)
    timer_audit_tolerance_seconds: float = Field(default=5.0, ge=0, le=3600)

    # Kafka: off only in tests that need no broker (events then wait in the outbox and
    # sockets are served by this process alone).
    messaging_enabled: bool = True
