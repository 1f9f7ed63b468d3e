"""Trace context across the gateway: its own span is the parent of the service's work."""

from __future__ import annotations

import httpx
from conftest import GatewayFactory
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def test_upstream_hop_is_a_child_of_the_gateway_span(
    start_gateway: GatewayFactory, token: str
) -> None:
    gw = start_gateway()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    gw.server.config.app.http_proxy.tracer = provider.get_tracer("test")

    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = httpx.get(
        gw.url + "/v1/users/u-1",
        headers={"Authorization": f"Bearer {token}", "traceparent": incoming},
    )
    assert response.status_code == 200
    forwarded = dict(response.json()["headers"])["traceparent"]
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET /v1/users/{id}"
    assert span.parent is not None and span.parent.span_id == 0x00F067AA0BA902B7
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 200
    assert forwarded == f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-01"
    assert forwarded.split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
