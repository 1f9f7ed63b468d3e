"""Business metrics of the alerts service, per council (tenant id as a label, never a person).

The share of alerts acknowledged within 60 s and 180 s (the telecare answering standard)
comes from the acknowledgement histogram, whose buckets include 60 and 180:

    sum by (tenant) (rate(hearth_alerts_time_to_acknowledge_seconds_bucket{le="60"}[1d]))
      / sum by (tenant) (rate(hearth_alerts_raised_total[1d]))

and directly from `hearth_alerts_acknowledged_within_total{window="60s"|"180s"}` divided
by `hearth_alerts_raised_total`.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

ACK_BUCKETS = (5, 10, 15, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600, 7200)
RESOLVE_BUCKETS = (60, 180, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
WINDOWS = (("60s", 60.0), ("180s", 180.0))


@dataclass(frozen=True)
class AlertMetrics:
    raised: Counter
    acknowledged_within: Counter
    time_to_acknowledge: Histogram
    time_to_resolve: Histogram
    resolved: Counter
    escalations: Counter
    notifications: Counter
    first_notification: Histogram
    step_lateness: Histogram

    def observe_acknowledged(self, tenant_id: str, source: str, seconds: float) -> None:
        self.time_to_acknowledge.labels(tenant=tenant_id, source=source).observe(seconds)
        for window, limit in WINDOWS:
            if seconds <= limit:
                self.acknowledged_within.labels(tenant=tenant_id, window=window).inc()


def alert_metrics(registry: CollectorRegistry) -> AlertMetrics:
    return AlertMetrics(
        raised=Counter(
            "hearth_alerts_raised",
            "Alerts raised, by council, source and severity",
            ["tenant", "source", "severity"],
            registry=registry,
        ),
        acknowledged_within=Counter(
            "hearth_alerts_acknowledged_within",
            "Alerts acknowledged within a window of the incident (60s, 180s), by council",
            ["tenant", "window"],
            registry=registry,
        ),
        time_to_acknowledge=Histogram(
            "hearth_alerts_time_to_acknowledge_seconds",
            "From the incident to the first acknowledgement, by council and source",
            ["tenant", "source"],
            buckets=ACK_BUCKETS,
            registry=registry,
        ),
        time_to_resolve=Histogram(
            "hearth_alerts_time_to_resolve_seconds",
            "From the incident to resolution, by council and outcome",
            ["tenant", "outcome"],
            buckets=RESOLVE_BUCKETS,
            registry=registry,
        ),
        resolved=Counter(
            "hearth_alerts_resolved",
            "Alerts resolved, by council and outcome",
            ["tenant", "outcome"],
            registry=registry,
        ),
        escalations=Counter(
            "hearth_alerts_escalation_steps",
            "Escalation steps fired, by council and outcome (notified, nobody_reachable)",
            ["tenant", "outcome"],
            registry=registry,
        ),
        notifications=Counter(
            "hearth_alerts_notifications",
            "Notification attempts, by council, channel and outcome "
            "(delivered, retry, failed, cancelled)",
            ["tenant", "channel", "outcome"],
            registry=registry,
        ),
        first_notification=Histogram(
            "hearth_alerts_first_notification_seconds",
            "From the incident until its first notification was handed to a channel",
            ["tenant"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        step_lateness=Histogram(
            "hearth_alerts_escalation_step_lateness_seconds",
            "How late escalation steps fired against their planned time",
            ["tenant"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
    )
