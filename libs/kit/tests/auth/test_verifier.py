import dataclasses
import logging
import time

import pytest

from hearth_kit.auth import StaticJwksSource, TokenError, TokenVerifier
from hearth_kit.testing import TokenSigner


async def test_valid_token_gives_principal() -> None:
    signer = TokenSigner()
    verifier = signer.verifier()
    token = signer.token(user_id="u1", tenant_id="t1", tenant_slug="leeds", roles=["oncall"])
    principal = await verifier.verify(token)
    assert principal.user_id == "u1"
    assert principal.tenant_id == "t1"
    assert principal.tenant_slug == "leeds"
    assert principal.roles == frozenset({"oncall"})
    assert principal.is_staff


async def test_the_principal_says_when_its_token_was_issued() -> None:
    signer = TokenSigner()
    verifier = signer.verifier()
    issued = time.time() - 30
    principal = await verifier.verify(signer.token(issued_at=issued, ttl=600))
    assert principal.issued_at == float(int(issued))
    assert principal.expires_at == float(int(issued + 600))


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda s, t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"), "invalid signature"),
        (lambda s, t: "not-a-token", "malformed"),
        (lambda s, t: s.token(ttl=-10), "expired"),
        (lambda s, t: s.token(audience="someone-else"), "wrong audience"),
        (lambda s, t: TokenSigner(kid=s.kid).token(), "invalid signature"),
        (lambda s, t: TokenSigner().token(), "unknown signing key"),
        (lambda s, t: s.token(roles=["emperor"]), "malformed claims"),
        (lambda s, t: s.token(roles=[]), "malformed claims"),
    ],
)
async def test_untrusted_tokens_are_refused_with_reason(mutate, reason) -> None:  # type: ignore[no-untyped-def]
    signer = TokenSigner()
    verifier = signer.verifier()
    bad = mutate(signer, signer.token())
    with pytest.raises(TokenError) as caught:
        await verifier.verify(bad)
    assert caught.value.reason == reason


async def test_wrong_issuer_refused() -> None:
    signer = TokenSigner(issuer="evil")
    verifier = TokenVerifier(StaticJwksSource(signer.jwks), issuer="hearth-identity")
    with pytest.raises(TokenError, match="wrong issuer"):
        await verifier.verify(signer.token())


async def test_cached_token_still_expires() -> None:
    now = [time.time()]
    signer = TokenSigner()
    verifier = signer.verifier(clock=lambda: now[0])
    token = signer.token(ttl=60, issued_at=now[0])
    await verifier.verify(token)
    now[0] += 120
    with pytest.raises(TokenError, match="expired"):
        await verifier.verify(token)


async def test_unknown_key_refreshes_jwks_once_for_rotation() -> None:
    old, new = TokenSigner(kid="old"), TokenSigner(kid="new")
    published = {"keys": old.jwks()["keys"]}
    fetches = []

    def provider() -> dict:  # type: ignore[type-arg]
        fetches.append(1)
        return published

    verifier = TokenVerifier(StaticJwksSource(provider), issuer="hearth-identity")
    await verifier.verify(old.token())
    published = {"keys": old.jwks()["keys"] + new.jwks()["keys"]}
    # Rotation: the new key id is unknown, so the verifier fetches the JWKS again.
    await verifier.verify(new.token())
    assert len(fetches) == 2
    # Old tokens keep working after rotation.
    await verifier.verify(old.token())
    assert len(fetches) == 2


async def test_revoked_session_refused_even_when_cached() -> None:
    signer = TokenSigner()
    verifier = signer.verifier()
    token = signer.token(session_id="s1")
    await verifier.verify(token)
    verifier.revoke_session("s1", until=time.time() + 600)
    with pytest.raises(TokenError, match="revoked"):
        await verifier.verify(token)


async def test_cache_off_verifies_every_time() -> None:
    signer = TokenSigner()
    verifier = signer.verifier(use_cache=False)
    token = signer.token()
    first = await verifier.verify(token)
    second = await verifier.verify(token)
    assert first == second


async def test_a_revocation_lasts_until_its_end_only() -> None:
    now = [time.time()]
    signer = TokenSigner()
    verifier = signer.verifier(clock=lambda: now[0])
    token = signer.token(session_id="s1", issued_at=now[0], ttl=900)
    principal = await verifier.verify(token)
    assert not verifier.is_revoked(principal)
    verifier.revoke_session("s1", until=now[0] + 60)
    assert verifier.is_revoked(principal)
    # A shorter revocation of the same session does not cut the longer one short.
    verifier.revoke_session("s1", until=now[0] + 10)
    now[0] += 30
    assert verifier.is_revoked(principal)
    now[0] += 31
    assert not verifier.is_revoked(principal)
    assert (await verifier.verify(token)).session_id == "s1"


async def test_tokens_without_a_session_are_never_revoked() -> None:
    signer = TokenSigner()
    verifier = signer.verifier()
    principal = await verifier.verify(signer.token())
    unsessioned = dataclasses.replace(principal, session_id=None)
    verifier.revoke_session("", until=time.time() + 600)
    assert not verifier.is_revoked(unsessioned)


def test_expired_revocations_are_forgotten() -> None:
    now = [1000.0]
    verifier = TokenSigner().verifier(clock=lambda: now[0])
    for n in range(50):
        verifier.revoke_session(f"old-{n}", until=now[0] + 60)
    verifier.revoke_session("already-over", until=now[0] - 1)
    assert len(verifier._revoked_sessions) == 50
    now[0] += 61
    verifier.revoke_session("new", until=now[0] + 60)
    assert list(verifier._revoked_sessions) == ["new"]


def test_revocations_are_capped_oldest_first(caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    verifier = TokenSigner().verifier(clock=lambda: now[0], revoked_sessions_size=3)
    with caplog.at_level(logging.WARNING, logger="hearth.auth"):
        for n in range(5):
            verifier.revoke_session(f"s{n}", until=now[0] + 600)
    assert list(verifier._revoked_sessions) == ["s2", "s3", "s4"]
    assert sum("revoked at once" in r.message for r in caplog.records) == 1
    # Revoking a session again makes it the newest.
    verifier.revoke_session("s2", until=now[0] + 600)
    verifier.revoke_session("s5", until=now[0] + 600)
    assert list(verifier._revoked_sessions) == ["s4", "s2", "s5"]


def test_a_revocation_that_outlives_an_older_one_is_still_pruned() -> None:
    now = [1000.0]
    verifier = TokenSigner().verifier(clock=lambda: now[0], revoked_sessions_size=10)
    verifier.revoke_session("long", until=now[0] + 900)
    verifier.revoke_session("short", until=now[0] + 60)
    now[0] += 120
    verifier.revoke_session("next", until=now[0] + 900)
    # "short" waits behind "long" but no longer counts as revoked.
    assert not verifier._session_revoked("short", now[0])
    now[0] += 900
    verifier.revoke_session("last", until=now[0] + 900)
    assert list(verifier._revoked_sessions) == ["last"]
