"""A lean pooled HTTP/1.1 client for the proxy's hot path."""

from hearth_gateway.upstream.connection import (
    ConnectFailed,
    ConnectionDropped,
    ConnectTimedOut,
    PoolTimedOut,
    ReadTimedOut,
    Timeouts,
    UpstreamError,
    WriteTimedOut,
)
from hearth_gateway.upstream.pool import UpstreamPool, UpstreamResponse

__all__ = [
    "ConnectFailed",
    "ConnectTimedOut",
    "ConnectionDropped",
    "PoolTimedOut",
    "ReadTimedOut",
    "Timeouts",
    "UpstreamError",
    "UpstreamPool",
    "UpstreamResponse",
    "WriteTimedOut",
]
