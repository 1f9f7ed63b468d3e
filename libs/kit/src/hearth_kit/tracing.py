"""OpenTelemetry tracing: one provider per service, context carried across HTTP and Kafka.

Spans are exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the collector
in docker compose and Kubernetes); on one machine without a collector, spans still exist
(trace ids appear in logs and cross Kafka in headers) but are not exported.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from hearth_kit.settings import ServiceSettings


def make_tracer_provider(settings: ServiceSettings) -> TracerProvider:
    """A provider for this service; also installed as the process-wide one."""
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": f"hearth-{settings.service_name}", "service.namespace": "hearth"}
        )
    )
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    return provider


def current_trace_headers() -> dict[str, str]:
    """W3C trace context of the current span, to store in an event or send upstream."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, str]) -> Context:
    return propagate.extract(dict(headers))
