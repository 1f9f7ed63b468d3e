"""Prometheus metrics of the proxy path (the kit's middleware counts /healthz and the rest)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "hearth_gateway_requests",
            "Requests through the gateway by owning service, route and status",
            ["service", "route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "hearth_gateway_request_duration_seconds",
            "Time from request to the end of the response, by owning service",
            ["service"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
        )
        self.refusals = Counter(
            "hearth_gateway_refusals",
            "Requests the gateway answered itself, by reason code",
            ["code"],
            registry=registry,
        )
        self._children: dict[tuple[str, str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, service: str, route: str, method: str, status: int, seconds: float) -> None:
        key = (service, route, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(service, route, method, str(status)),
                self.duration.labels(service),
            )
            if len(self._children) < 10_000:
                self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def refused(self, code: str) -> None:
        self.refusals.labels(code).inc()
