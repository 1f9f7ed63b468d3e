"""Handler tests on a real SQLite store in a temporary folder: races, interrupted writes,
key storage and the outbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from identity_testkit import PASSWORD, FakeClock, make_settings

from hearth_contracts import Envelope, parse_data
from hearth_identity.adapters.crypto import KeyDecryptionError
from hearth_identity.adapters.repositories import Loaded, open_repositories
from hearth_identity.bootstrap import build_deps
from hearth_identity.commands import CreateInvitation, CreateTenant, JoinCircle, Refresh, SignIn
from hearth_identity.domain import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    RefreshTokenReused,
    User,
)
from hearth_identity.handlers import auth, circles, tenants
from hearth_identity.handlers.context import IdentityDeps
from hearth_kit.auth import Principal, StaticJwksSource, TokenVerifier
from hearth_kit.store import SqliteStore

ROOT = "root@hearth.example"


async def make_deps(path: Path, clock: FakeClock, **overrides: object) -> IdentityDeps:
    store = SqliteStore(path / "identity.sqlite3")
    deps = build_deps(make_settings(path, **overrides), await open_repositories(store), clock=clock)
    await deps.keyring.load()
    return deps


@pytest.fixture
async def deps(tmp_path: Path, clock: FakeClock) -> AsyncIterator[IdentityDeps]:
    d = await make_deps(tmp_path, clock)
    await tenants.ensure_platform(ROOT, PASSWORD, deps=d)
    yield d


async def principal(deps: IdentityDeps, tenant_slug: str, email: str) -> Principal:
    tenant = await deps.repos.tenants.by_slug(tenant_slug)
    assert tenant is not None
    found = await deps.repos.users.by_email(tenant.id, email)
    assert found is not None
    return Principal(found.item.id, tenant.id, tenant.slug, frozenset({found.item.role}))


def council(slug: str, email: str = "admin@north.example") -> CreateTenant:
    return CreateTenant.model_validate(
        {
            "slug": slug,
            "name": "North",
            "timezone": "Europe/London",
            "admin": {"email": email, "password": PASSWORD, "display_name": "Admin"},
        }
    )


async def test_platform_bootstrap_is_idempotent_and_checks_the_password(
    deps: IdentityDeps, tmp_path: Path, clock: FakeClock
) -> None:
    await tenants.ensure_platform(ROOT, PASSWORD, deps=deps)
    await tenants.ensure_platform("other@hearth.example", PASSWORD, deps=deps)
    platform = await deps.repos.tenants.by_slug("platform")
    assert platform is not None
    admins, _ = await deps.repos.users.page(
        platform.id, role="platform_admin", limit=10, cursor=None
    )
    assert [u.email for u in admins] == [ROOT]
    fresh = await make_deps(tmp_path / "other", clock)
    with pytest.raises(InvalidInput):
        await tenants.ensure_platform(ROOT, "password1234", deps=fresh)


async def test_concurrent_councils_with_one_slug_leave_one_admin(deps: IdentityDeps) -> None:
    root = await principal(deps, "platform", ROOT)
    results = await asyncio.gather(
        tenants.create_tenant(council("north", "a@north.example"), principal=root, deps=deps),
        tenants.create_tenant(council("north", "b@north.example"), principal=root, deps=deps),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "tuple"]
    store = deps.repos.users.collection._store  # type: ignore[attr-defined]
    rows = await store.run(
        lambda c: c.execute(
            "SELECT count(*) FROM users WHERE json_extract(doc, '$.role') = 'council_admin'"
        ).fetchone()[0]
    )
    assert rows == 1


async def test_racing_refreshes_with_one_token_revoke_the_family(deps: IdentityDeps) -> None:
    pair = await auth.sign_in(SignIn(tenant="platform", email=ROOT, password=PASSWORD), deps=deps)
    results = await asyncio.gather(
        auth.refresh(Refresh(refresh_token=pair.refresh_token), deps=deps),
        auth.refresh(Refresh(refresh_token=pair.refresh_token), deps=deps),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, auth.TokenPair)]
    losers = [r for r in results if isinstance(r, AuthenticationFailed)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], RefreshTokenReused)
    with pytest.raises(AuthenticationFailed):
        await auth.refresh(Refresh(refresh_token=winners[0].refresh_token), deps=deps)


async def test_concurrent_failures_are_all_counted(deps: IdentityDeps) -> None:
    wrong = SignIn(tenant="platform", email=ROOT, password="not-the-password")
    results = await asyncio.gather(
        *(auth.sign_in(wrong, deps=deps) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, AuthenticationFailed) for r in results)
    from hearth_identity.domain import LockedOut

    with pytest.raises(LockedOut):
        await auth.sign_in(SignIn(tenant="platform", email=ROOT, password=PASSWORD), deps=deps)


async def _north_with_resident(deps: IdentityDeps) -> tuple[Principal, str]:
    root = await principal(deps, "platform", ROOT)
    await tenants.create_tenant(council("north"), principal=root, deps=deps)
    tenant = await deps.repos.tenants.by_slug("north")
    assert tenant is not None
    resident, registered = User.register(
        user_id="rita",
        tenant_id=tenant.id,
        email="rita@north.example",
        display_name="Rita",
        role="resident",
        password_hash=deps.hasher.hash(PASSWORD),
        now=deps.clock(),
        created_by=None,
    )
    await deps.repos.users.insert(resident, [(registered, resident.id)])
    rita = await principal(deps, "north", "rita@north.example")
    _, code = await circles.invite(
        "rita", CreateInvitation(relationship="family"), principal=rita, deps=deps
    )
    return rita, code.encode()


def join_body(code: str) -> JoinCircle:
    return JoinCircle(
        code=code,
        tenant="north",
        email="dana@family.example",
        password=PASSWORD,
        display_name="Dana",
    )


async def test_join_interrupted_before_the_circle_write_can_be_retried(
    deps: IdentityDeps,
) -> None:
    _, code = await _north_with_resident(deps)
    real_save = deps.repos.circles.save

    async def crash(*args: object, **kwargs: object) -> Loaded[object]:
        raise RuntimeError("process died")

    deps.repos.circles.save = crash  # type: ignore[assignment,method-assign]
    # The compensation cannot run either when the process dies: keep the delete away.
    real_delete = deps.repos.users.delete

    async def no_delete(*args: object) -> bool:
        return False

    deps.repos.users.delete = no_delete  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await circles.join(join_body(code), principal=None, deps=deps)
    deps.repos.circles.save = real_save  # type: ignore[method-assign]
    deps.repos.users.delete = real_delete  # type: ignore[method-assign]
    # Half-created: the account exists but cannot be used...
    with pytest.raises(AuthenticationFailed):
        await auth.sign_in(
            SignIn(tenant="north", email="dana@family.example", password=PASSWORD), deps=deps
        )
    # ...and joining again with the same code and email finishes the job.
    user, relationship = await circles.join(join_body(code), principal=None, deps=deps)
    assert relationship == "family" and user.active
    await auth.sign_in(
        SignIn(tenant="north", email="dana@family.example", password=PASSWORD), deps=deps
    )


async def test_join_interrupted_after_the_circle_write_heals_at_sign_in(
    deps: IdentityDeps,
) -> None:
    _, code = await _north_with_resident(deps)
    real_save = deps.repos.users.save
    calls = 0

    async def crash_on_activation(loaded: Loaded[User], events: object = ()) -> Loaded[User]:
        nonlocal calls
        calls += 1
        raise RuntimeError("process died")

    deps.repos.users.save = crash_on_activation  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await circles.join(join_body(code), principal=None, deps=deps)
    deps.repos.users.save = real_save  # type: ignore[method-assign]
    assert calls == 1
    tenant = await deps.repos.tenants.by_slug("north")
    assert tenant is not None
    stored = await deps.repos.users.by_email(tenant.id, "dana@family.example")
    assert stored is not None and stored.item.status == "joining"
    await auth.sign_in(
        SignIn(tenant="north", email="dana@family.example", password=PASSWORD), deps=deps
    )
    healed = await deps.repos.users.by_email(tenant.id, "dana@family.example")
    assert healed is not None and healed.item.status == "active"


async def test_outbox_entries_are_valid_envelopes(deps: IdentityDeps) -> None:
    _, code = await _north_with_resident(deps)
    await circles.join(join_body(code), principal=None, deps=deps)
    store = deps.repos.users.collection._store  # type: ignore[attr-defined]
    for table in ("tenants", "users", "circles"):
        rows = await store.run(lambda c, t=table: c.execute(f"SELECT outbox FROM {t}").fetchall())
        entries = [e for (raw,) in rows for e in json.loads(raw)]
        assert entries, table
        for entry in entries:
            envelope = Envelope.model_validate(entry)
            parse_data(envelope)
            assert envelope.producer == "identity"
            assert "@" not in json.dumps(envelope.data)  # ids, not personal details


async def test_signing_keys_are_encrypted_and_shared_by_replicas(
    tmp_path: Path, clock: FakeClock
) -> None:
    first = await make_deps(tmp_path, clock)
    await tenants.ensure_platform(ROOT, PASSWORD, deps=first)
    store = first.repos.keys.collection._store  # type: ignore[attr-defined]
    raw = await store.run(lambda c: c.execute("SELECT doc FROM signing_keys").fetchone()[0])
    assert '"d"' not in raw and "private_encrypted" in raw
    # A second replica on the same store signs and verifies with the same keys.
    second = await make_deps(tmp_path, clock)
    assert second.keyring.signing_kid == first.keyring.signing_kid
    rotated = await first.keyring.rotate()
    verifier = TokenVerifier(
        StaticJwksSource(second.keyring.reloaded_jwks), issuer="hearth-identity"
    )
    pair = await auth.sign_in(SignIn(tenant="platform", email=ROOT, password=PASSWORD), deps=first)
    verified = await verifier.verify(pair.access_token)
    assert verified.roles == frozenset({"platform_admin"})
    assert rotated.kid in {k["kid"] for k in second.keyring.jwks()["keys"]}
    # The wrong secret cannot open the keys: refuse to start rather than sign with garbage.
    with pytest.raises(KeyDecryptionError):
        await make_deps(tmp_path, clock, key_encryption_secret="another-secret-entirely-1")


async def test_conflicting_email_in_join_is_refused_without_writes(deps: IdentityDeps) -> None:
    _, code = await _north_with_resident(deps)
    with pytest.raises(Conflict):
        await circles.join(
            JoinCircle(
                code=code,
                tenant="north",
                email="rita@north.example",
                password=PASSWORD,
                display_name="Someone",
            ),
            principal=None,
            deps=deps,
        )


async def test_old_throttles_and_sessions_expire(deps: IdentityDeps, clock: FakeClock) -> None:
    with pytest.raises(AuthenticationFailed):
        await auth.sign_in(
            SignIn(tenant="platform", email=ROOT, password="not-it-at-all"), deps=deps
        )
    pair = await auth.sign_in(SignIn(tenant="platform", email=ROOT, password=PASSWORD), deps=deps)
    throttles, sessions = deps.repos.throttles.collection, deps.repos.sessions.collection
    # (The successful sign-in cleared the throttle; fail again to leave one behind.)
    with pytest.raises(AuthenticationFailed):
        await auth.sign_in(
            SignIn(tenant="platform", email=ROOT, password="not-it-at-all"), deps=deps
        )
    assert await throttles.expire(before=clock() + 60) == 0
    assert await throttles.expire(before=clock() + 3601) == 1
    assert await sessions.expire(before=clock() + 30 * 24 * 3600) == 0
    assert await sessions.expire(before=clock() + 32 * 24 * 3600) == 1
    with pytest.raises(AuthenticationFailed):
        await auth.refresh(Refresh(refresh_token=pair.refresh_token), deps=deps)
