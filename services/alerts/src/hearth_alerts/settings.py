"""Alerts settings (env prefix ALERTS_; shared ones such as KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from hearth_kit.settings import ServiceSettings, service_config


class AlertsSettings(ServiceSettings):
    model_config = service_config("ALERTS_")

    # Also names the service's one Kafka consumer group and its inbox (the kit's
    # runtime takes both from it).
    service_name: str = "alerts"
    http_port: int = Field(default=8003, ge=1, le=65535)

    # Where to ask identity about people its events have not told alerts about yet
    # (someone named in a rota a moment after identity registered them).
    identity_url: str = "http://127.0.0.1:8001"

    # Email over SMTP.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "alerts@hearth.invalid"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout: float = Field(default=10.0, gt=0)

    # SMS through an HTTP provider: POST JSON {to, message, reference} with an API key header.
    sms_provider_url: str | None = None
    sms_api_key: SecretStr | None = None
    sms_api_key_header: str = "X-Api-Key"
    sms_timeout: float = Field(default=10.0, gt=0)

    # Signed webhooks.
    webhook_timeout: float = Field(default=5.0, gt=0)
    # Webhooks to loopback or private addresses are refused unless allowed (on by default
    # outside production, so a laptop stack can post to local receivers).
    webhook_allow_private: bool | None = None

    # Delivery retries: attempts per notification, backoff base/cap (seconds).
    notification_max_attempts: int = Field(default=5, ge=1, le=20)
    notification_backoff_seconds: float = Field(default=2.0, gt=0)
    notification_backoff_max_seconds: float = Field(default=120.0, gt=0)
    # How long one attempt may hold a notification before another replica retries it.
    notification_attempt_lease_seconds: float = Field(default=30.0, gt=0)
    # How long an immediate escalation step may take before the timer fires it instead.
    escalation_lease_seconds: float = Field(default=10.0, gt=0)

    # Live stream (server-sent events): heartbeat interval and per-client queue size.
    stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    stream_queue_size: int = Field(default=1000, ge=10)

    def private_webhooks_allowed(self) -> bool:
        if self.webhook_allow_private is not None:
            return self.webhook_allow_private
        return self.environment != "production"
