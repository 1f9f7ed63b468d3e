"""Hearth durable timers: deadlines stored with their due time, fired once, on time.

Used for check-in deadlines and reminders, escalation steps and unanswered support chats.
"""

from hearth_timers.auditor import OverdueReport, TimerAuditor
from hearth_timers.clock import Clock, FakeClock, SystemClock, utc_datetime
from hearth_timers.metrics import TimerMetrics, timer_metrics
from hearth_timers.scheduler import DeadlineScheduler, FireCallback

__all__ = [
    "Clock",
    "DeadlineScheduler",
    "FakeClock",
    "FireCallback",
    "OverdueReport",
    "SystemClock",
    "TimerAuditor",
    "TimerMetrics",
    "timer_metrics",
    "utc_datetime",
]
