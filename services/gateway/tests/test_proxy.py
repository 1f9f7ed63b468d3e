"""The gateway in front of real local services: proxying, streaming, CORS, its own endpoints."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import GatewayFactory, ServerThread, auth, error

from hearth_devstack.broker import free_port
from hearth_kit.testing import TokenSigner


def test_proxies_method_path_query_body_and_headers(gateway: ServerThread, token: str) -> None:
    body = b'{"text": "hello"}'
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = httpx.post(
        gateway.url + "/v1/conversations/c-1/messages?x=1&y=a%20b",
        content=body,
        headers={
            **auth(token),
            "Content-Type": "application/json",
            "X-Request-ID": "req-42",
            "traceparent": traceparent,
            "X-Forwarded-For": "6.6.6.6",
        },
    )
    assert response.status_code == 200
    echo = response.json()
    assert echo["service"] == "chat"
    assert echo["method"] == "POST"
    assert echo["raw_path"] == "/v1/conversations/c-1/messages"
    assert echo["query"] == "x=1&y=a%20b"
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()
    headers = dict(echo["headers"])
    assert headers["authorization"] == f"Bearer {token}"
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"] == "req-42"
    assert headers["traceparent"].split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert headers["traceparent"] != traceparent  # the gateway's hop has its own span id
    assert headers["x-forwarded-for"] == "127.0.0.1"  # the client's own claim is ignored
    assert response.headers["x-request-id"] == "req-42"
    assert response.headers["x-upstream"] == "chat"
    assert "access-control-allow-origin" not in response.headers  # only the gateway decides


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/v1/me", "identity"),
        ("/v1/users/u-1", "identity"),
        ("/v1/users/u-1/contact-methods", "alerts"),
        ("/v1/residents/r-1/checkins", "checkins"),
        ("/v1/residents/r-1/circle", "identity"),
        ("/v1/alerts/a-1", "alerts"),
        ("/v1/support/queue", "chat"),
    ],
)
def test_routes_reach_the_owning_service(
    gateway: ServerThread, token: str, path: str, service: str
) -> None:
    response = httpx.get(gateway.url + path, headers=auth(token))
    assert response.status_code == 200
    assert response.json()["service"] == service


def test_upstream_status_and_errors_pass_through(gateway: ServerThread, token: str) -> None:
    response = httpx.delete(gateway.url + "/v1/alerts/a-1?status=409", headers=auth(token))
    assert response.status_code == 409
    assert response.json()["method"] == "DELETE"


def test_generated_request_id_when_missing_or_malformed(gateway: ServerThread, token: str) -> None:
    for sent in (None, "bad id with spaces"):
        headers = auth(token) | ({"X-Request-ID": sent} if sent else {})
        response = httpx.get(gateway.url + "/v1/me", headers=headers)
        rid = response.headers["x-request-id"]
        assert rid != sent and len(rid) == 32
        assert dict(response.json()["headers"])["x-request-id"] == rid


def test_streams_large_request_bodies_without_content_length(
    gateway: ServerThread, token: str
) -> None:
    chunks = [os.urandom(64 * 1024) for _ in range(8)]

    def upload() -> Iterator[bytes]:
        yield from chunks

    response = httpx.put(gateway.url + "/v1/oncall/rota", content=upload(), headers=auth(token))
    assert response.status_code == 200
    assert response.json()["body_len"] == 8 * 64 * 1024
    assert response.json()["body_sha256"] == hashlib.sha256(b"".join(chunks)).hexdigest()


def test_streams_responses(gateway: ServerThread, token: str) -> None:
    with httpx.stream(
        "GET", gateway.url + "/v1/alerts/stream?count=4", headers=auth(token)
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "content-length" not in response.headers
        events = [line for line in response.iter_lines() if line]
    assert events == ["data: 0", "data: 1", "data: 2", "data: 3"]
    big = httpx.get(gateway.url + "/v1/conversations/big?size=500000", headers=auth(token))
    assert big.status_code == 200
    assert big.content == b"x" * 500000


def test_caller_hanging_up_stops_the_upstream_stream(
    gateway: ServerThread, upstreams: dict[str, ServerThread], token: str
) -> None:
    def closed() -> int:
        return int(httpx.get(upstreams["alerts"].url + "/_seen").json()["streams_closed"])

    before = closed()
    with httpx.stream(
        "GET", gateway.url + "/v1/alerts/stream?count=100000", headers=auth(token)
    ) as response:
        lines = response.iter_lines()
        assert next(lines) == "data: 0"
    deadline = time.monotonic() + 10
    while closed() == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert closed() == before + 1  # the gateway let go of the service's stream
    assert httpx.get(gateway.url + "/v1/me", headers=auth(token)).status_code == 200


def test_head_requests(gateway: ServerThread, token: str) -> None:
    response = httpx.head(gateway.url + "/v1/me", headers=auth(token))
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0
    assert httpx.get(gateway.url + "/v1/me", headers=auth(token)).status_code == 200


def test_public_routes_need_no_token(
    gateway: ServerThread, upstreams: dict[str, ServerThread]
) -> None:
    response = httpx.post(gateway.url + "/v1/auth/token", json={"email": "a@b.c"})
    assert response.status_code == 200
    assert response.json()["path"] == "/v1/auth/token"
    assert "authorization" not in dict(response.json()["headers"])
    jwks = httpx.get(gateway.url + "/v1/auth/jwks")
    assert jwks.status_code == 200 and jwks.json()["keys"]


def test_cors_preflight_and_responses(
    gateway: ServerThread, token: str, signer: TokenSigner
) -> None:
    preflight = httpx.options(
        gateway.url + "/v1/me",
        headers={
            "Origin": "https://a.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, x-hearth-tenant",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://a.example"
    assert preflight.headers["access-control-allow-headers"] == "authorization, x-hearth-tenant"
    refused = httpx.options(
        gateway.url + "/v1/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert refused.status_code == 403
    assert "origin not allowed" in error(refused)["message"]

    own = httpx.get(gateway.url + "/v1/me", headers=auth(token) | {"Origin": "https://a.example"})
    assert own.headers["access-control-allow-origin"] == "https://a.example"
    other_council = signer.token(user_id="user-b", tenant_slug="council-b")
    other = httpx.get(
        gateway.url + "/v1/me", headers=auth(other_council) | {"Origin": "https://a.example"}
    )
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers
    anonymous_error = httpx.get(
        gateway.url + "/v1/me", headers={"Origin": "https://app.hearth.example"}
    )
    assert anonymous_error.status_code == 401
    assert anonymous_error.headers["access-control-allow-origin"] == "https://app.hearth.example"


def test_gateway_own_endpoints(gateway: ServerThread, token: str) -> None:
    assert httpx.get(gateway.url + "/healthz").json()["service"] == "gateway"
    assert httpx.get(gateway.url + "/readyz").status_code == 200
    httpx.get(gateway.url + "/v1/me", headers=auth(token))
    metrics = httpx.get(gateway.url + "/metrics").text
    assert (
        'hearth_gateway_requests_total{method="GET",route="/v1/me",service="identity",status="200"}'
        in metrics
    )
    docs = httpx.get(gateway.url + "/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_merged_openapi_document(start_gateway: GatewayFactory) -> None:
    gw = start_gateway(chat_url=f"http://127.0.0.1:{free_port()}")
    document = httpx.get(gw.url + "/openapi.json", timeout=10).json()
    assert set(document["paths"]) == {
        "/v1/users/{user_id}",
        "/v1/residents/{resident_id}/checkins",
        "/v1/alerts",
    }
    assert document["x-hearth-services"]["chat"] == "unavailable"
    schemas = document["components"]["schemas"]
    assert {"Thing", "Shared", "GatewayError"} <= set(schemas)
    assert sum(1 for name in schemas if name.endswith("Thing")) == 3  # prefixed on clash
