"""Settings every Hearth service shares; each service subclasses with its own env prefix.

Shared infrastructure settings have fixed, unprefixed names (`KAFKA_BOOTSTRAP_SERVERS`,
`MONGODB_URL`, `HEARTH_DATA_DIR`, `HEARTH_ENV`) so one environment configures a whole
stack; service-specific ones use the service's prefix (`IDENTITY_HTTP_PORT`).
Nothing here is read at import time: call `Settings()` in the service's bootstrap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# Values that are fine on a laptop and must never reach a council's cluster.
INSECURE_SECRET_PREFIX = "dev-insecure-"


def _shared(name: str) -> AliasChoices:
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    """Base settings. Subclasses set `model_config = service_config("IDENTITY_")`."""

    model_config = SettingsConfigDict(env_prefix="HEARTH_", extra="ignore", populate_by_name=True)

    service_name: str = "hearth"
    environment: Environment = Field(
        default="development", validation_alias=AliasChoices("HEARTH_ENV", "environment")
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"),
    )
    # Idempotent producers: on against Apache Kafka; the embedded broker refuses them.
    kafka_idempotence: bool = Field(
        default=False, validation_alias=AliasChoices("KAFKA_IDEMPOTENCE", "kafka_idempotence")
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=20,
        ge=1,
        le=1000,
        validation_alias=AliasChoices("KAFKA_FETCH_MAX_WAIT_MS", "kafka_fetch_max_wait_ms"),
    )
    mongodb_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("MONGODB_URL", "mongodb_url")
    )
    data_dir: Path = Field(
        default=Path(".data"), validation_alias=AliasChoices("HEARTH_DATA_DIR", "data_dir")
    )
    # Where services fetch the identity service's public keys to verify access tokens.
    jwks_url: str = Field(
        default="http://127.0.0.1:8001/v1/auth/jwks",
        validation_alias=AliasChoices("HEARTH_JWKS_URL", "jwks_url"),
    )
    token_issuer: str = Field(
        default="hearth-identity",
        validation_alias=AliasChoices("HEARTH_TOKEN_ISSUER", "token_issuer"),
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
    )
    # How long an ended sign-in's access tokens are refused after identity says so: at
    # least the longest access-token lifetime (identity allows up to 900 s).
    session_revocation_seconds: float = Field(default=960.0, ge=60, le=24 * 3600)
    # Outbox relay: how long a relay owns a claimed batch before another may retake it.
    outbox_lease_seconds: float = Field(default=10.0, gt=0)
    outbox_poll_seconds: float = Field(default=0.2, gt=0)

    @model_validator(mode="after")
    def _refuse_insecure_secrets(self) -> ServiceSettings:
        if self.environment == "development":
            return self
        for name, value in self:
            if isinstance(value, SecretStr) and value.get_secret_value().startswith(
                INSECURE_SECRET_PREFIX
            ):
                raise ValueError(
                    f"{name} uses the development default; set a real secret for {self.environment}"
                )
        return self

    @property
    def store_description(self) -> str:
        if self.mongodb_url is not None:
            return "MongoDB (MONGODB_URL)"
        return f"SQLite {self.sqlite_path}"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / f"{self.service_name}.sqlite3"


def service_config(prefix: str) -> SettingsConfigDict:
    """Settings config for one service: its own env prefix, unknown variables ignored."""
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", populate_by_name=True)
