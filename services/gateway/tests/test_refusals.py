"""Requests the gateway refuses itself, each with a clear status and reason."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from conftest import GatewayFactory, ServerThread, auth, error, seen

from hearth_devstack.broker import free_port
from hearth_kit.testing import TokenSigner


def test_not_ready_until_signing_keys_load(start_gateway: GatewayFactory) -> None:
    gw = start_gateway(jwks_url=f"http://127.0.0.1:{free_port()}/v1/auth/jwks")
    ready = httpx.get(gw.url + "/readyz")
    assert ready.status_code == 503
    assert "signing_keys" in ready.json()["error"]["message"]
    assert httpx.get(gw.url + "/healthz").status_code == 200


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    return ".".join(
        [header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature]
    )


@pytest.fixture(scope="module")
def bad_tokens(signer: TokenSigner) -> dict[str, str]:
    impostor_same_kid = TokenSigner(kid=signer.kid)
    unknown_kid = TokenSigner(kid="someone-elses-key")
    return {
        "expired": signer.token(ttl=-30),
        "invalid signature": impostor_same_kid.token(),
        "unknown signing key": unknown_kid.token(),
        "wrong audience": signer.token(audience="not-hearth"),
        "malformed": "not.a.jwt",
        "tampered": _tampered(signer.token()),
    }


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("expired", "expired"),
        ("invalid signature", "invalid signature"),
        ("unknown signing key", "unknown signing key"),
        ("wrong audience", "wrong audience"),
        ("malformed", "malformed"),
        ("tampered", ""),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(
    gateway: ServerThread,
    upstreams: dict[str, ServerThread],
    bad_tokens: dict[str, str],
    kind: str,
    reason: str,
) -> None:
    before = seen(upstreams["identity"])
    response = httpx.get(gateway.url + "/v1/me", headers=auth(bad_tokens[kind]))
    assert response.status_code == 401
    err = error(response)
    assert err["code"] == "invalid_token"
    assert err["message"].startswith("access token refused: ")
    assert reason in err["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert seen(upstreams["identity"]) == before  # never reached the service


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing access token"),
        ("Basic dXNlcjpwYXNz", "authorization must be 'Bearer <access token>'"),
        ("Bearer", "authorization must be 'Bearer <access token>'"),
    ],
)
def test_missing_or_malformed_authorization(
    gateway: ServerThread, header: str | None, message: str
) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.get(gateway.url + "/v1/residents/r-1/checkins", headers=headers)
    assert response.status_code == 401
    assert error(response) == {"code": "unauthenticated", "message": message, "details": []}


def test_tenant_header_must_match_the_token(gateway: ServerThread, token: str) -> None:
    wrong = httpx.get(
        gateway.url + "/v1/me", headers=auth(token) | {"X-Hearth-Tenant": "council-b"}
    )
    assert wrong.status_code == 403
    assert error(wrong)["message"] == "token belongs to another council"
    right = httpx.get(
        gateway.url + "/v1/me", headers=auth(token) | {"X-Hearth-Tenant": "council-a"}
    )
    assert right.status_code == 200


def test_unknown_paths_and_bad_paths(gateway: ServerThread, token: str) -> None:
    missing = httpx.get(gateway.url + "/v1/no-such-thing", headers=auth(token))
    assert missing.status_code == 404
    assert error(missing)["message"] == "no Hearth API route matches this path"
    dots = httpx.get(gateway.url + "/v1/alerts/%2e%2e/me", headers=auth(token))
    assert dots.status_code == 400
    assert error(dots)["code"] == "bad_path"
    ws_only = httpx.get(gateway.url + "/v1/chat/ws", headers=auth(token))
    assert ws_only.status_code == 426


def test_oversized_bodies_are_refused(
    start_gateway: GatewayFactory, upstreams: dict[str, ServerThread], token: str
) -> None:
    gw = start_gateway(max_body_bytes=1000)
    before = seen(upstreams["alerts"])
    declared = httpx.post(gw.url + "/v1/alerts", content=b"x" * 1001, headers=auth(token))
    assert declared.status_code == 413
    assert error(declared)["message"] == "request body exceeds 1000 bytes"

    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"y" * 300

    streamed = httpx.post(gw.url + "/v1/alerts", content=chunks(), headers=auth(token))
    assert streamed.status_code == 413
    assert seen(upstreams["alerts"]) == before
    fits = httpx.post(gw.url + "/v1/alerts", content=b"z" * 1000, headers=auth(token))
    assert fits.status_code == 200 and fits.json()["body_len"] == 1000


def test_rate_limit_per_ip(start_gateway: GatewayFactory, token: str) -> None:
    gw = start_gateway(ip_rate=0.01, ip_burst=3)
    statuses = [httpx.get(gw.url + "/v1/me", headers=auth(token)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = httpx.get(gw.url + "/v1/me", headers=auth(token))
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert error(refused)["message"] == "too many requests from this address"
    # Every request counts against the address, even one without a token.
    assert httpx.get(gw.url + "/v1/me").status_code == 429


def test_rate_limit_per_user(start_gateway: GatewayFactory, signer: TokenSigner) -> None:
    gw = start_gateway(user_rate=0.01, user_burst=2)
    alice, bob = signer.token(user_id="alice"), signer.token(user_id="bob")
    assert [httpx.get(gw.url + "/v1/me", headers=auth(alice)).status_code for _ in range(2)] == [
        200,
        200,
    ]
    refused = httpx.get(gw.url + "/v1/me", headers=auth(alice))
    assert refused.status_code == 429
    assert error(refused)["message"] == "too many requests for this user"
    assert "retry-after" in refused.headers
    assert httpx.get(gw.url + "/v1/me", headers=auth(bob)).status_code == 200


def test_stricter_limit_on_sign_in(start_gateway: GatewayFactory, token: str) -> None:
    gw = start_gateway(login_rate=0.01, login_burst=2)
    logins = [httpx.post(gw.url + "/v1/auth/token", json={}).status_code for _ in range(3)]
    assert logins == [200, 200, 429]
    # Other routes from the same address are unaffected.
    assert httpx.get(gw.url + "/v1/me", headers=auth(token)).status_code == 200


def test_service_down_or_absent_is_503_not_a_hang(
    start_gateway: GatewayFactory, token: str
) -> None:
    gw = start_gateway(checkins_url=f"http://127.0.0.1:{free_port()}", chat_url="")
    down = httpx.get(gw.url + "/v1/residents/r-1/checkins", headers=auth(token), timeout=5)
    assert down.status_code == 503
    assert error(down)["message"].startswith("checkins service unavailable")
    absent = httpx.get(gw.url + "/v1/conversations", headers=auth(token), timeout=5)
    assert absent.status_code == 503
    assert error(absent)["message"] == "chat service unavailable"
    # The other services still answer.
    assert httpx.get(gw.url + "/v1/me", headers=auth(token)).status_code == 200


def test_slow_service_is_504(start_gateway: GatewayFactory, token: str) -> None:
    gw = start_gateway(read_timeout=0.3)
    slow = httpx.get(
        gw.url + "/v1/residents/r-1/checkins/slow?seconds=3", headers=auth(token), timeout=5
    )
    assert slow.status_code == 504
    assert error(slow)["message"] == "checkins service did not answer in time"
