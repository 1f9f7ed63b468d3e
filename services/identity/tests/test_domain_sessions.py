"""Unit tests of refresh-token families and signing-key publication."""

from __future__ import annotations

import pytest

from hearth_identity.domain import (
    AuthenticationFailed,
    KeyPolicy,
    RefreshFamily,
    RefreshToken,
    RefreshTokenReused,
    SessionPolicy,
    SigningKeyInfo,
)
from hearth_identity.domain.sessions import Presented, hash_secret

POLICY = SessionPolicy(idle_seconds=100, lifetime_seconds=1000, history=3)


def start(now: float = 0.0) -> tuple[RefreshFamily, RefreshToken]:
    return RefreshFamily.start(
        family_id="fam-1", tenant_id="t-1", user_id="u-1", now=now, policy=POLICY
    )


def test_tokens_round_trip_and_only_hashes_are_kept() -> None:
    family, token = start()
    assert RefreshToken.parse(token.encode()) == token
    assert token.secret not in repr(family)
    assert family.current_hash == hash_secret(token.secret)


@pytest.mark.parametrize(
    "raw", ["", "hrt.a.b", "xyz.t.f.s", "hrt.t.f.s.extra", "hrt.t!.f.s", "hrt..f.s"]
)
def test_malformed_tokens_fail_alike(raw: str) -> None:
    with pytest.raises(AuthenticationFailed):
        RefreshToken.parse(raw)


def test_rotation_replaces_the_token() -> None:
    family, first = start()
    second = family.rotate(first, now=10, policy=POLICY)
    assert second.secret != first.secret
    assert family.classify(first.secret) is Presented.ROTATED
    assert family.classify(second.secret) is Presented.CURRENT
    assert family.generation == 2
    third = family.rotate(second, now=20, policy=POLICY)
    assert family.classify(third.secret) is Presented.CURRENT


def test_reusing_a_rotated_token_revokes_the_family() -> None:
    family, first = start()
    second = family.rotate(first, now=10, policy=POLICY)
    with pytest.raises(RefreshTokenReused):
        family.rotate(first, now=11, policy=POLICY)
    assert family.revoked and family.revoked_reason == "reuse_detected"
    # The legitimate holder's current token is dead too.
    with pytest.raises(AuthenticationFailed):
        family.rotate(second, now=12, policy=POLICY)


def test_unknown_secret_fails_without_revoking() -> None:
    family, _ = start()
    forged = RefreshToken("t-1", "fam-1", "not-the-secret")
    with pytest.raises(AuthenticationFailed) as err:
        family.rotate(forged, now=1, policy=POLICY)
    assert not isinstance(err.value, RefreshTokenReused)
    assert not family.revoked


def test_tokens_of_another_family_or_tenant_are_refused() -> None:
    family, token = start()
    for other in (
        RefreshToken("t-2", "fam-1", token.secret),
        RefreshToken("t-1", "fam-2", token.secret),
    ):
        with pytest.raises(AuthenticationFailed):
            family.rotate(other, now=1, policy=POLICY)


def test_idle_and_absolute_expiry() -> None:
    family, token = start()
    with pytest.raises(AuthenticationFailed):
        family.rotate(token, now=100, policy=POLICY)  # idle limit reached
    family, token = start()
    now = 0.0
    while now + 90 < 1000:
        now += 90
        token = family.rotate(token, now=now, policy=POLICY)
    assert family.current_expires_at == 1000  # capped by the family's lifetime
    with pytest.raises(AuthenticationFailed):
        family.rotate(token, now=1000, policy=POLICY)


def test_history_is_bounded() -> None:
    family, token = start()
    for i in range(10):
        token = family.rotate(token, now=float(i), policy=POLICY)
    assert len(family.rotated_hashes) == 3


def test_revoke_is_idempotent() -> None:
    family, _ = start()
    assert family.revoke(5, "logout") is True
    assert family.revoke(6, "logout") is False
    assert family.revoked_at == 5


def key(kid: str, at: float) -> SigningKeyInfo:
    return SigningKeyInfo(kid=kid, created_at=at, public_jwk={"kid": kid})


def test_newest_key_signs_and_old_keys_stay_while_their_tokens_live() -> None:
    policy = KeyPolicy(access_token_seconds=600, leeway_seconds=60)
    keys = [key("a", 0), key("b", 1000), key("c", 5000)]
    assert policy.signing_key(keys) == keys[2]
    assert policy.signing_key([]) is None
    # b retired at 5000: needed until 5660; a retired at 1000: needed until 1660.
    assert [k.kid for k in policy.published(keys, 5001)] == ["c", "b"]
    assert [k.kid for k in policy.published(keys, 1500)] == ["c", "b", "a"]
    assert [k.kid for k in policy.published(keys, 5660)] == ["c"]
    assert [k.kid for k in policy.prunable(keys, 5660)] == ["a", "b"]


def test_keys_created_at_the_same_moment_agree_on_the_signer() -> None:
    policy = KeyPolicy(access_token_seconds=600)
    keys = [key("x", 10), key("y", 10)]
    assert policy.signing_key(keys) == policy.signing_key(list(reversed(keys)))
