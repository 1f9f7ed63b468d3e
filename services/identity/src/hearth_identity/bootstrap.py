"""Wires identity together on the shared service runtime (store, broker, outbox relay,
tracing, metrics). Nothing connects or reads the environment at import time:
`create_app(settings)` builds the app; at start-up its lifespan opens the store, loads
the signing keys, ensures the platform tenant and administrator, connects to Kafka and
starts relaying the outbox."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from hearth_identity.adapters.crypto import Argon2Hasher, Argon2Params, KeyCipher
from hearth_identity.adapters.keyring import KeyRing
from hearth_identity.adapters.repositories import Repositories, open_repositories
from hearth_identity.domain import (
    CirclePolicy,
    InvalidInput,
    KeyPolicy,
    LockoutPolicy,
    PasswordPolicy,
    SessionPolicy,
)
from hearth_identity.entrypoints import http_auth, http_circles, http_users
from hearth_identity.handlers.context import IdentityDeps
from hearth_identity.handlers.tenants import ensure_platform
from hearth_identity.settings import IdentitySettings
from hearth_kit.auth import StaticJwksSource, TokenVerifier
from hearth_kit.http import create_app as create_kit_app
from hearth_kit.periodic import PeriodicTask
from hearth_kit.service import ServiceRuntime
from hearth_kit.store import Collection, CollectionSpec, Store

logger = logging.getLogger("hearth.identity")
SWEEP_SECONDS = 600.0


def build_deps(
    settings: IdentitySettings,
    repos: Repositories,
    *,
    clock: Callable[[], float] | None = None,
) -> IdentityDeps:
    """Handler dependencies from settings (the key ring still needs `load()`)."""
    now = clock or time.time
    keyring = KeyRing(
        repos.keys,
        KeyCipher(settings.key_encryption_secret.get_secret_value()),
        KeyPolicy(access_token_seconds=settings.access_token_seconds),
        clock=now,
        reload_seconds=settings.key_reload_seconds,
    )
    hasher = Argon2Hasher(
        Argon2Params(
            time_cost=settings.argon2_time_cost,
            memory_cost_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
    )
    return IdentityDeps(
        repos=repos,
        keyring=keyring,
        hasher=hasher,
        issuer=settings.token_issuer,
        access_token_seconds=settings.access_token_seconds,
        passwords=PasswordPolicy(min_length=settings.password_min_length),
        lockout=LockoutPolicy(
            free_attempts=settings.lockout_free_attempts,
            base_seconds=settings.lockout_base_seconds,
            max_seconds=settings.lockout_max_seconds,
        ),
        sessions=SessionPolicy(
            idle_seconds=settings.refresh_idle_seconds,
            lifetime_seconds=settings.refresh_lifetime_seconds,
        ),
        circles=CirclePolicy(invitation_seconds=settings.invitation_seconds),
        clock=now,
    )


class Sweeper:
    """Deletes sign-in throttles and sessions nothing needs any more."""

    def __init__(self, repos: Repositories, clock: Callable[[], float]) -> None:
        self._collections = (repos.throttles.collection, repos.sessions.collection)
        self._clock = clock

    async def sweep(self) -> None:
        for collection in self._collections:
            try:
                await collection.expire(before=self._clock())
            except Exception:
                logger.exception("expiring old %s failed", collection.spec.name)


def create_app(
    settings: IdentitySettings | None = None,
    *,
    store: Store | None = None,
    clock: Callable[[], float] | None = None,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    """The identity app. `store`, `clock` and `registry` are for tests; by default the
    store comes from the settings (MongoDB if MONGODB_URL is set, else SQLite)."""
    settings = settings or IdentitySettings()
    keyrings: list[KeyRing] = []

    async def own_jwks() -> dict[str, Any]:
        # Identity verifies its own tokens without HTTP, straight from its key store.
        return await keyrings[0].reloaded_jwks() if keyrings else {"keys": []}

    verifier = TokenVerifier(StaticJwksSource(own_jwks), issuer=settings.token_issuer)
    runtime = ServiceRuntime(settings, registry=registry, store=store, verifier=verifier)

    async def setup(rt: ServiceRuntime, app: FastAPI) -> None:
        async def opener(spec: CollectionSpec, outbox: bool) -> Collection:
            return await rt.collection(spec, outbox=outbox and settings.relay_enabled)

        repos = await open_repositories(rt.store, opener)
        identity = build_deps(settings, repos, clock=clock)
        await identity.keyring.load()
        keyrings[:] = [identity.keyring]
        identity.on_session_revoked = verifier.revoke_session
        password = settings.bootstrap_admin_password
        try:
            await ensure_platform(
                settings.bootstrap_admin_email,
                password.get_secret_value() if password else None,
                deps=identity,
            )
        except InvalidInput as exc:
            raise RuntimeError(f"IDENTITY_BOOTSTRAP_ADMIN_*: {exc.message}") from exc
        sweeper = Sweeper(repos, identity.clock)
        rt.add_background(
            PeriodicTask("identity-sweeper", sweeper.sweep, interval_seconds=SWEEP_SECONDS)
        )
        app.state.identity = identity
        app.state.store = rt.store

    app = create_kit_app(
        settings=settings,
        title="Hearth identity",
        registry=runtime.registry,
        lifespan=runtime.lifespan(setup),
        readiness=runtime.readiness(),
    )
    app.state.runtime = runtime
    for router in (http_auth.router, http_circles.router, http_users.router):
        app.include_router(router)
    return app
