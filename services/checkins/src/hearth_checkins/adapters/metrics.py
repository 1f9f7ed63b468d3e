"""Business metrics of check-ins. Labels are councils and outcomes, never people."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter


@dataclass(frozen=True)
class CheckinsMetrics:
    recorded: Counter
    missed: Counter
    recovered: Counter
    help_requested: Counter
    reminders: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> CheckinsMetrics:
        return cls(
            recorded=Counter(
                "hearth_checkins_recorded",
                "Check-ins recorded, by council, status, channel and what they answered "
                "(on_time, late, none)",
                ["tenant", "status", "channel", "answered"],
                registry=registry,
            ),
            missed=Counter(
                "hearth_checkins_missed",
                "Check-in occurrences missed (deadline passed unanswered), by council",
                ["tenant"],
                registry=registry,
            ),
            recovered=Counter(
                "hearth_checkins_recovered",
                "Missed occurrences recovered by a later check-in, by council",
                ["tenant"],
                registry=registry,
            ),
            help_requested=Counter(
                "hearth_checkins_help_requested",
                "Help requests (dedicated, or a 'need help' check-in), by council",
                ["tenant"],
                registry=registry,
            ),
            reminders=Counter(
                "hearth_checkins_reminders_due",
                "Check-in reminders that came due, by council",
                ["tenant"],
                registry=registry,
            ),
        )
