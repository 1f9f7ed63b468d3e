"""Gateway settings (env prefix GATEWAY_; shared ones such as HEARTH_JWKS_URL unprefixed)."""

from __future__ import annotations

from pydantic import Field, field_validator

from hearth_kit.settings import ServiceSettings, service_config


class GatewaySettings(ServiceSettings):
    model_config = service_config("GATEWAY_")

    service_name: str = "gateway"
    http_port: int = Field(default=8000, ge=1, le=65535)

    # Upstreams; an empty value means "not deployed": routes to it answer 503.
    identity_url: str = "http://127.0.0.1:8001"
    checkins_url: str = "http://127.0.0.1:8002"
    alerts_url: str = "http://127.0.0.1:8003"
    chat_url: str = "http://127.0.0.1:8004"

    # Upstream connections and timeouts (seconds).
    connect_timeout: float = Field(default=1.0, gt=0)
    read_timeout: float = Field(default=15.0, gt=0)
    write_timeout: float = Field(default=15.0, gt=0)
    pool_timeout: float = Field(default=2.0, gt=0)
    # Read timeout on streaming routes (server-sent events): services send a heartbeat
    # more often than this.
    stream_read_timeout: float = Field(default=75.0, gt=0)
    max_connections: int = Field(default=200, ge=1)
    max_keepalive_connections: int = Field(default=100, ge=0)
    # Below the services' own idle keep-alive (uvicorn: 5 s) so a pooled connection is
    # never reused just as the service closes it.
    keepalive_expiry: float = Field(default=4.0, gt=0)

    # Request size limit, enforced while the body streams.
    max_body_bytes: int = Field(default=1024 * 1024, ge=0)

    # Token buckets: rate in requests per second, burst = bucket size.
    ip_rate: float = Field(default=50.0, gt=0)
    ip_burst: int = Field(default=200, ge=1)
    user_rate: float = Field(default=20.0, gt=0)
    user_burst: int = Field(default=100, ge=1)
    login_rate: float = Field(default=0.2, gt=0)
    login_burst: int = Field(default=10, ge=1)
    rate_limit_max_keys: int = Field(default=100_000, ge=1)

    # Client addresses: trust X-Forwarded-For only from these proxies (uvicorn's
    # forwarded_allow_ips syntax); empty means the socket peer is the client.
    trusted_proxies: str = ""

    # CORS: {"*": [origins for all councils], "<tenant slug>": [origins]}.
    cors_origins: dict[str, list[str]] = Field(default_factory=dict)
    cors_max_age: int = Field(default=600, ge=0)
    cors_allow_credentials: bool = False

    # Merged OpenAPI document: how long upstream documents are reused.
    openapi_cache_seconds: float = Field(default=30.0, ge=0)
    openapi_fetch_timeout: float = Field(default=2.0, gt=0)

    # One OpenTelemetry span per proxied request (the parent of the service's spans).
    trace_requests: bool = True

    # WebSocket proxy.
    ws_open_timeout: float = Field(default=5.0, gt=0)
    ws_max_message_bytes: int = Field(default=1024 * 1024, ge=1)

    @field_validator("identity_url", "checkins_url", "alerts_url", "chat_url")
    @classmethod
    def _strip_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("upstream URL must start with http:// or https://")
        return value

    def upstream_urls(self) -> dict[str, str]:
        return {
            "identity": self.identity_url,
            "checkins": self.checkins_url,
            "alerts": self.alerts_url,
            "chat": self.chat_url,
        }
