"""The check-ins domain: pure rules, no frameworks, no I/O."""

from hearth_checkins.domain.access import Action, Actor, Relation, authorize, relation_to
from hearth_checkins.domain.checkin import (
    CHANNELS,
    STATUSES,
    Channel,
    CheckIn,
    CheckInInput,
    CheckInStatus,
    check_input,
)
from hearth_checkins.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFoundError,
    Unavailable,
)
from hearth_checkins.domain.occurrences import Occurrence, local_instant, next_occurrence
from hearth_checkins.domain.pauses import Pause, PauseReason
from hearth_checkins.domain.schedule import (
    WEEKDAYS,
    CheckInTime,
    Schedule,
    load_zone,
    make_schedule,
)
from hearth_checkins.domain.state import (
    Effect,
    HelpNeeded,
    LastOutcome,
    Missed,
    Recorded,
    Recovered,
    ReminderDue,
    ResidentCheckIns,
)

__all__ = [
    "CHANNELS",
    "STATUSES",
    "WEEKDAYS",
    "Action",
    "Actor",
    "Channel",
    "CheckIn",
    "CheckInInput",
    "CheckInStatus",
    "CheckInTime",
    "Conflict",
    "Effect",
    "Forbidden",
    "HelpNeeded",
    "InvalidInput",
    "LastOutcome",
    "Missed",
    "NotFoundError",
    "Occurrence",
    "Pause",
    "PauseReason",
    "Recorded",
    "Recovered",
    "Relation",
    "ReminderDue",
    "ResidentCheckIns",
    "Schedule",
    "Unavailable",
    "authorize",
    "check_input",
    "load_zone",
    "local_instant",
    "make_schedule",
    "next_occurrence",
    "relation_to",
]
