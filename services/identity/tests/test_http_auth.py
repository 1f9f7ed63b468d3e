"""HTTP tests of sign-in, refresh, logout, JWKS and key rotation (in-process, no Kafka)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from identity_testkit import PASSWORD, Api, World

from hearth_kit.testing import TokenSigner


def decode(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(jwt.PyJWK.from_dict(k) for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["EdDSA"], audience="hearth", issuer="hearth-identity"
    )
    return claims


async def test_sign_in_issues_short_lived_signed_tokens(api: Api, world: World) -> None:
    response = await api.client.post(
        "/v1/auth/token",
        json={"tenant": "north", "email": "RITA@north.example ", "password": PASSWORD},
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 600
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA" and header["kid"]
    jwks = (await api.client.get("/v1/auth/jwks")).json()
    claims = decode(body["access_token"], jwks)
    assert claims["sub"] == world.ids["north_resident"]
    assert claims["tid"] == world.north["id"] and claims["tslug"] == "north"
    assert claims["roles"] == ["resident"]
    assert claims["exp"] - claims["iat"] == 600
    assert claims["sid"] == body["refresh_token"].split(".")[2]
    assert claims["jti"]


async def test_jwks_publishes_public_keys_only(api: Api) -> None:
    response = await api.client.get("/v1/auth/jwks")
    keys = response.json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "OKP" and keys[0]["crv"] == "Ed25519"
    assert keys[0]["alg"] == "EdDSA" and keys[0]["use"] == "sig" and keys[0]["kid"]
    assert "d" not in keys[0]


@pytest.mark.parametrize(
    ("tenant", "email", "password"),
    [
        ("nowhere", "rita@north.example", PASSWORD),
        ("north", "nobody@north.example", PASSWORD),
        ("north", "rita@north.example", "wrong-password-123"),
        ("south", "rita@north.example", PASSWORD),
        ("north", "not-an-email", PASSWORD),
    ],
)
async def test_wrong_credentials_all_fail_alike(
    api: Api, world: World, tenant: str, email: str, password: str
) -> None:
    response = await api.client.post(
        "/v1/auth/token", json={"tenant": tenant, "email": email, "password": password}
    )
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_credentials",
        "message": "wrong council, email or password",
        "details": [],
    }


async def test_lockout_backs_off_and_hides_which_accounts_exist(api: Api, world: World) -> None:
    for email in ("rita@north.example", "ghost@north.example"):
        bad = {"tenant": "north", "email": email, "password": "wrong-password-123"}
        for _ in range(5):
            assert (await api.client.post("/v1/auth/token", json=bad)).status_code == 401
        locked = await api.client.post("/v1/auth/token", json=bad)
        assert locked.status_code == 429
        assert locked.headers["retry-after"] == "30"
        assert locked.json()["error"]["code"] == "locked"
    # Even the right password waits for the lock to pass.
    good = {"tenant": "north", "email": "rita@north.example", "password": PASSWORD}
    assert (await api.client.post("/v1/auth/token", json=good)).status_code == 429
    api.clock.advance(31)
    # One more failure now doubles the wait.
    bad = {**good, "password": "wrong-password-123"}
    assert (await api.client.post("/v1/auth/token", json=bad)).status_code == 401
    locked = await api.client.post("/v1/auth/token", json=good)
    assert locked.status_code == 429 and locked.headers["retry-after"] == "60"
    api.clock.advance(61)
    assert (await api.client.post("/v1/auth/token", json=good)).status_code == 200
    # Success clears the count: one failure does not lock again.
    assert (await api.client.post("/v1/auth/token", json=bad)).status_code == 401
    assert (await api.client.post("/v1/auth/token", json=good)).status_code == 200


async def test_refresh_rotates_and_reuse_revokes_the_family(api: Api, world: World) -> None:
    first = await api.login("north", "rita@north.example")
    response = await api.client.post(
        "/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    me = await api.client.get(
        "/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert me.status_code == 200
    reused = await api.client.post(
        "/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "refresh_token_reused"
    # The whole family is gone: the newest refresh token and its access tokens too.
    latest = await api.client.post(
        "/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert latest.status_code == 401
    me = await api.client.get(
        "/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert me.status_code == 401
    # Other sign-ins of the same person are untouched.
    other = await api.login("north", "rita@north.example")
    assert (
        await api.client.post("/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    ).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["garbage", "hrt.a.b.c", "hrt." + "x" * 600, "hrt.00000000-0000-0000-0000-000000000000.f.s"],
)
async def test_bad_refresh_tokens_are_refused(api: Api, token: str) -> None:
    response = await api.client.post("/v1/auth/refresh", json={"refresh_token": token})
    assert response.status_code in (401, 422)
    assert "error" in response.json()


async def test_forged_secret_for_a_real_family_does_not_revoke_it(api: Api, world: World) -> None:
    pair = await api.login("north", "rita@north.example")
    prefix = pair["refresh_token"].rsplit(".", 1)[0]
    forged = await api.client.post(
        "/v1/auth/refresh", json={"refresh_token": prefix + ".forgedforgedforgedforged"}
    )
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "invalid_credentials"
    ok = await api.client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert ok.status_code == 200


def _session_of(pair: dict[str, str]) -> str:
    """The session id (`sid`) an access token carries."""
    return str(jwt.decode(pair["access_token"], options={"verify_signature": False})["sid"])


async def test_logout_and_logout_everywhere(api: Api, world: World) -> None:
    phone = await api.login("north", "rita@north.example")
    tablet = await api.login("north", "rita@north.example")
    laptop = await api.login("north", "rita@north.example")
    out = await api.client.post("/v1/auth/logout", json={"refresh_token": phone["refresh_token"]})
    assert out.status_code == 204
    again = await api.client.post("/v1/auth/logout", json={"refresh_token": phone["refresh_token"]})
    assert again.status_code == 204  # idempotent
    assert (
        await api.client.post("/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    ).status_code == 401
    assert (
        await api.client.get("/v1/me", headers={"Authorization": f"Bearer {phone['access_token']}"})
    ).status_code == 401
    everywhere = await api.client.post(
        "/v1/auth/logout", json={"refresh_token": tablet["refresh_token"], "everywhere": True}
    )
    assert everywhere.status_code == 204
    for pair in (tablet, laptop):
        refreshed = await api.client.post(
            "/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        assert refreshed.status_code == 401
    # Each ended sign-in is announced once, with the session id its access tokens carry,
    # so live connections of that session close (repeating the logout announces nothing).
    revoked = [e for e in await api.outbox("sessions") if e["type"] == "identity.session.revoked"]
    reasons = {e["data"]["session_id"]: e["data"]["reason"] for e in revoked}
    assert len(reasons) == len(revoked)
    assert reasons[_session_of(phone)] == "logout"
    assert reasons[_session_of(tablet)] == "logout"
    assert reasons[_session_of(laptop)] == "logout_everywhere"
    assert {e["data"]["user_id"] for e in revoked} == {world.ids["north_resident"]}
    # Other people's sessions are untouched.
    other = await api.login("north", "pro@north.example")
    assert (
        await api.client.post("/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    ).status_code == 200


async def test_logout_with_a_rotated_token_is_reuse(api: Api, world: World) -> None:
    first = await api.login("north", "rita@north.example")
    second = (
        await api.client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    out = await api.client.post("/v1/auth/logout", json={"refresh_token": first["refresh_token"]})
    assert out.status_code == 401
    assert (
        await api.client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    ).status_code == 401


async def test_deactivated_accounts_cannot_sign_in_or_refresh(api: Api, world: World) -> None:
    pair = await api.login("north", "oncall@north.example")
    response = await api.client.post(
        f"/v1/users/{world.ids['north_oncall']}/deactivate", headers=world.headers["north_admin"]
    )
    assert response.status_code == 200 and response.json()["status"] == "deactivated"
    assert (
        await api.client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 401
    login = await api.client.post(
        "/v1/auth/token",
        json={"tenant": "north", "email": "oncall@north.example", "password": PASSWORD},
    )
    assert login.status_code == 401
    assert login.json()["error"]["message"] == "wrong council, email or password"
    assert (
        await api.client.get("/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    ).status_code == 401


async def test_key_rotation_keeps_everyone_signed_in(api: Api, world: World) -> None:
    old_kid = jwt.get_unverified_header(world.headers["north_pro"]["Authorization"][7:])["kid"]
    refused = await api.client.post("/v1/auth/keys/rotate", headers=world.headers["north_admin"])
    assert refused.status_code == 403
    rotated = await api.client.post("/v1/auth/keys/rotate", headers=world.root)
    assert rotated.status_code == 201
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid
    kids = [k["kid"] for k in (await api.client.get("/v1/auth/jwks")).json()["keys"]]
    assert kids == [new_kid, old_kid]
    # Tokens signed by the old key still work; new tokens use the new key.
    assert (await api.client.get("/v1/me", headers=world.headers["north_pro"])).status_code == 200
    fresh = await api.login("north", "pro@north.example")
    assert jwt.get_unverified_header(fresh["access_token"])["kid"] == new_kid
    me = await api.client.get(
        "/v1/me", headers={"Authorization": f"Bearer {fresh['access_token']}"}
    )
    assert me.status_code == 200
    # Once no token signed by the old key can be live, the next rotation drops it.
    api.clock.advance(600 + 121)
    # (The fake clock moved; tokens issued before it still verify on real time.)
    third = (await api.client.post("/v1/auth/keys/rotate", headers=world.root)).json()["kid"]
    kids = [k["kid"] for k in (await api.client.get("/v1/auth/jwks")).json()["keys"]]
    assert kids == [third, new_kid]


def _claims(api: Api, world: World, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "hearth-identity",
        "aud": "hearth",
        "sub": world.ids["north_admin"],
        "tid": world.north["id"],
        "tslug": "north",
        "roles": ["council_admin"],
        "sid": "s",
        "jti": "j",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return claims


async def test_expired_tampered_and_foreign_tokens_are_refused(api: Api, world: World) -> None:
    sign = api.deps.keyring.sign
    now = int(time.time())
    good = sign(_claims(api, world))
    assert (
        await api.client.get("/v1/me", headers={"Authorization": f"Bearer {good}"})
    ).status_code == 200
    head, payload, signature = good.split(".")
    tampered = f"{head}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
    cases = {
        "expired": sign(_claims(api, world, iat=now - 700, exp=now - 100)),
        "wrong audience": sign(_claims(api, world, aud="elsewhere")),
        "wrong issuer": sign(_claims(api, world, iss="someone-else")),
        "tampered": tampered,
        "foreign key": TokenSigner().token(
            user_id=world.ids["north_admin"],
            tenant_id=world.north["id"],
            tenant_slug="north",
            roles=["council_admin"],
        ),
        "not a jwt": "not-a-token",
    }
    for name, token in cases.items():
        response = await api.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "invalid_token", name
    for header in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        response = await api.client.get("/v1/me", headers=header)
        assert response.status_code == 401


async def test_bad_bodies_are_refused_with_reasons(api: Api, world: World) -> None:
    before = await api.snapshot(include_throttles=True)
    cases = [
        (b"{not json", 400, "malformed_json"),
        (
            b'{"tenant": "north", "email": "a@b.example", "password": "x", "extra": 1}',
            422,
            "validation_error",
        ),
        (b'{"tenant": "north", "email": 5, "password": "x"}', 422, "validation_error"),
        (b'{"tenant": "north", "email": "a@b.example"}', 422, "validation_error"),
        (
            b'{"tenant": "' + b"x" * 100 + b'", "email": "a@b.example", "password": "x"}',
            422,
            "validation_error",
        ),
        (b"[]", 422, "validation_error"),
    ]
    for raw, status, code in cases:
        response = await api.client.post(
            "/v1/auth/token", content=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == status, raw
        assert response.json()["error"]["code"] == code
    huge = b'{"refresh_token": "' + b"x" * 70_000 + b'"}'
    response = await api.client.post(
        "/v1/auth/refresh", content=huge, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    wrong_type = await api.client.post(
        "/v1/auth/logout", json={"refresh_token": "hrt.a.b.c", "everywhere": "yes"}
    )
    assert wrong_type.status_code == 422
    assert await api.snapshot(include_throttles=True) == before
