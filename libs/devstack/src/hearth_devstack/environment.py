"""The environment (and, for the broker, the command line) each process of the stack
runs with.

Shared settings (broker, store, data folder, where identity's keys are) are set by the
stack and never inherited from the shell; each service gets its port and its secrets;
the gateway learns every upstream's URL. Explicit settings win, most specific last:
the stack's `env`, then the service's, then the replica's own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hearth_devstack.seed import DemoCredentials
from hearth_devstack.services import GATEWAY, SERVICES, ServiceSpec

# Shared settings every service reads; the stack sets them, they are never inherited.
SHARED_ENV = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_IDEMPOTENCE",
    "MONGODB_URL",
    "HEARTH_DATA_DIR",
    "HEARTH_ENV",
    "HEARTH_JWKS_URL",
)

__all__ = ["SHARED_ENV", "StackEnvironment", "broker_command"]


def broker_command(binary: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The embedded broker's command line and environment, listening on 127.0.0.1:`port`."""
    url = f"tcp://127.0.0.1:{port}"
    argv = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url]
    return argv, {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}


@dataclass(frozen=True)
class StackEnvironment:
    """What a stack knows that its processes' environments are made of."""

    data_dir: Path
    host: str
    environment: str
    bootstrap_servers: str
    kafka_idempotence: bool
    mongodb_url: str | None
    credentials: DemoCredentials
    secrets: Mapping[str, str]
    env: Mapping[str, str] = field(default_factory=dict)
    service_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def for_service(
        self,
        spec: ServiceSpec,
        replica: int,
        port: int,
        *,
        urls: Mapping[str, str],
        replica_env: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The environment of one replica of `spec` listening on `port`; `urls` holds
        the URL of every service of the stack (their first replica)."""
        env = {k: v for k, v in os.environ.items() if k not in SHARED_ENV}
        prefix = spec.env_prefix
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "HEARTH_ENV": self.environment,
                "HEARTH_DATA_DIR": str(self.data_dir),
                "HEARTH_INSTANCE_ID": f"{spec.name}-{replica}",
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
                "KAFKA_IDEMPOTENCE": "true" if self.kafka_idempotence else "false",
                f"{prefix}HTTP_HOST": self.host,
                f"{prefix}HTTP_PORT": str(port),
            }
        )
        if self.mongodb_url:
            env["MONGODB_URL"] = self.mongodb_url
        env.update({name: self.secrets[name] for name in spec.secret_env})
        if "identity" in urls:
            env["HEARTH_JWKS_URL"] = f"{urls['identity']}/v1/auth/jwks"
            if spec.name != "identity":
                # Services that ask identity directly (check-ins about a resident its
                # events have not told it about yet) find this stack's identity, not
                # whatever listens on identity's default port.
                env[f"{prefix}IDENTITY_URL"] = urls["identity"]
        if spec.name == "identity":
            admin = self.credentials.platform_admin
            env["IDENTITY_BOOTSTRAP_ADMIN_EMAIL"] = admin.email
            env["IDENTITY_BOOTSTRAP_ADMIN_PASSWORD"] = admin.password
        if spec.name == GATEWAY:
            # Every known service: its URL when it runs here, empty ("not deployed") if not.
            for other in SERVICES:
                if other.name != GATEWAY:
                    env[f"GATEWAY_{other.name.upper()}_URL"] = urls.get(other.name, "")
        env.update(self.env)
        env.update(self.service_env.get(spec.name, {}))
        env.update(replica_env or {})
        return env
