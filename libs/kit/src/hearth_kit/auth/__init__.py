"""Access-token verification shared by the gateway and every service."""

from hearth_kit.auth.principal import ROLES, STAFF_ROLES, Principal
from hearth_kit.auth.verifier import (
    ACCESS_TOKEN_AUDIENCE,
    HttpJwksSource,
    JwksSource,
    StaticJwksSource,
    TokenError,
    TokenVerifier,
)

__all__ = [
    "ACCESS_TOKEN_AUDIENCE",
    "ROLES",
    "STAFF_ROLES",
    "HttpJwksSource",
    "JwksSource",
    "Principal",
    "StaticJwksSource",
    "TokenError",
    "TokenVerifier",
]
