"""Business metrics of chat. Labels are councils, kinds and categories, never people."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

WAIT_BUCKETS = (5, 10, 15, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600)


@dataclass(frozen=True)
class ChatMetrics:
    messages: Counter
    flagged: Counter
    support_requests: Counter
    support_unanswered: Counter
    support_wait: Histogram
    sockets: Gauge
    frames_refused: Counter
    delivered: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> ChatMetrics:
        return cls(
            messages=Counter(
                "hearth_chat_messages_posted",
                "Messages posted, by council, conversation kind and message kind",
                ["tenant", "conversation_kind", "kind"],
                registry=registry,
            ),
            flagged=Counter(
                "hearth_chat_messages_flagged",
                "Messages flagged by the safeguarding scan, by council, category, severity",
                ["tenant", "category", "severity"],
                registry=registry,
            ),
            support_requests=Counter(
                "hearth_chat_support_requests",
                "Live support requests opened, by council and urgency",
                ["tenant", "urgency"],
                registry=registry,
            ),
            support_unanswered=Counter(
                "hearth_chat_support_unanswered",
                "Support requests unclaimed past the council's target (on-call called)",
                ["tenant", "urgency"],
                registry=registry,
            ),
            support_wait=Histogram(
                "hearth_chat_support_wait_seconds",
                "From a support request to its claim by staff, by council and urgency",
                ["tenant", "urgency"],
                buckets=WAIT_BUCKETS,
                registry=registry,
            ),
            sockets=Gauge(
                "hearth_chat_sockets_connected",
                "Chat WebSocket connections open on this replica",
                registry=registry,
            ),
            frames_refused=Counter(
                "hearth_chat_ws_frames_refused",
                "WebSocket client frames refused, by reason",
                ["reason"],
                registry=registry,
            ),
            delivered=Counter(
                "hearth_chat_ws_messages_delivered",
                "Messages pushed to sockets of this replica",
                registry=registry,
            ),
        )
