"""Hop headers: request ids, trace context, forwarding chain, hop-by-hop filtering."""

from __future__ import annotations

import re

import pytest

from hearth_gateway.domain.forwarding import (
    bearer_token,
    child_traceparent,
    downstream_response_headers,
    request_id,
    trace_id_of,
    upstream_request_headers,
)

TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_request_id_kept_when_well_formed_else_replaced() -> None:
    assert request_id("abc-123.x:y_z") == "abc-123.x:y_z"
    for bad in (None, "", "has space", "a" * 129, "new\nline", "<script>"):
        new = request_id(bad)
        assert new != bad
        assert re.fullmatch(r"[0-9a-f]{32}", new)


def test_child_traceparent_keeps_the_trace_and_makes_a_new_span() -> None:
    child = child_traceparent(INCOMING)
    assert TRACEPARENT.fullmatch(child)
    assert trace_id_of(child) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert child.split("-")[2] != "00f067aa0ba902b7"
    assert child.endswith("-01")


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # invalid version
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        INCOMING + "-extra",  # version 00 has exactly four fields
    ],
)
def test_invalid_traceparent_starts_a_new_trace(bad: str | None) -> None:
    child = child_traceparent(bad)
    assert TRACEPARENT.fullmatch(child)
    assert trace_id_of(child) != "4bf92f3577b34da6a3ce929d0e0e4736"


def test_future_version_is_read_by_its_first_fields() -> None:
    child = child_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more")
    assert trace_id_of(child) == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_upstream_headers_drop_hop_by_hop_and_set_the_gateways_own() -> None:
    incoming = [
        (b"host", b"gateway.example"),
        (b"authorization", b"Bearer t"),
        (b"connection", b"keep-alive"),
        (b"transfer-encoding", b"chunked"),
        (b"content-length", b"10"),
        (b"expect", b"100-continue"),
        (b"x-request-id", b"spoofed"),
        (b"traceparent", b"spoofed"),
        (b"x-forwarded-for", b"6.6.6.6"),
        (b"content-type", b"application/json"),
    ]
    out = upstream_request_headers(
        incoming,
        request_id="rid-1",
        traceparent=INCOMING,
        client_ip="10.0.0.7",
        scheme="https",
        trust_forwarded=False,
    )
    names = [name for name, _ in out]
    for dropped in (b"host", b"connection", b"transfer-encoding", b"content-length", b"expect"):
        assert dropped not in names
    got = dict(out)
    assert got[b"authorization"] == b"Bearer t"
    assert got[b"content-type"] == b"application/json"
    assert got[b"x-request-id"] == b"rid-1"
    assert got[b"traceparent"] == INCOMING.encode()
    assert got[b"x-forwarded-for"] == b"10.0.0.7"  # a client's own claim is not trusted
    assert got[b"x-forwarded-proto"] == b"https"
    assert got[b"x-forwarded-host"] == b"gateway.example"
    assert names.count(b"x-request-id") == 1


def test_forwarded_chain_is_extended_behind_a_trusted_proxy() -> None:
    out = dict(
        upstream_request_headers(
            [(b"x-forwarded-for", b"1.2.3.4")],
            request_id="r",
            traceparent=INCOMING,
            client_ip="10.0.0.1",
            scheme="http",
            trust_forwarded=True,
        )
    )
    assert out[b"x-forwarded-for"] == b"1.2.3.4, 10.0.0.1"


def test_response_headers_lose_hop_by_hop_cors_and_ids() -> None:
    out = downstream_response_headers(
        [
            (b"content-type", b"application/json"),
            (b"connection", b"close"),
            (b"access-control-allow-origin", b"*"),
            (b"x-request-id", b"upstream"),
            (b"server", b"uvicorn"),
            (b"etag", b'"v3"'),
        ]
    )
    assert out == [(b"content-type", b"application/json"), (b"etag", b'"v3"')]


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
