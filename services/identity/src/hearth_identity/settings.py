"""Identity's settings (env prefix IDENTITY_; shared ones via hearth_kit.settings)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from hearth_kit.settings import ServiceSettings, service_config


class IdentitySettings(ServiceSettings):
    model_config = service_config("IDENTITY_")

    service_name: str = "identity"
    http_port: int = Field(default=8001, ge=1, le=65535)

    # Platform administrator created at start when none exists (tenant `platform`).
    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: SecretStr | None = None

    # Private signing keys are stored encrypted under a key derived from this secret.
    key_encryption_secret: SecretStr = SecretStr("dev-insecure-identity-key-encryption-secret")
    # Replicas re-read signing keys this often (a rotation reaches them within it).
    key_reload_seconds: float = Field(default=30.0, gt=0, le=3600)

    access_token_seconds: int = Field(default=600, ge=30, le=900)
    refresh_idle_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    refresh_lifetime_seconds: int = Field(default=30 * 24 * 3600, ge=60)

    invitation_seconds: int = Field(default=7 * 24 * 3600, ge=60, le=30 * 24 * 3600)

    password_min_length: int = Field(default=10, ge=8, le=64)
    lockout_free_attempts: int = Field(default=5, ge=1, le=100)
    lockout_base_seconds: float = Field(default=30.0, gt=0)
    lockout_max_seconds: float = Field(default=900.0, gt=0)

    # argon2id cost (RFC 9106 second recommended option by default).
    argon2_time_cost: int = Field(default=3, ge=1, le=10)
    argon2_memory_kib: int = Field(default=65536, ge=8, le=1048576)
    argon2_parallelism: int = Field(default=1, ge=1, le=8)

    # Relay the outbox to Kafka. Off only for tests and tools that inspect the outbox.
    relay_enabled: bool = True
