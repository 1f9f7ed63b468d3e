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
