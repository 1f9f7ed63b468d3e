"""Small values alerts validates everywhere: ids, names, severities, sources, roles."""

from __future__ import annotations

import re
from typing import Final

from hearth_alerts.domain.errors import InvalidInput
from hearth_contracts.alerts import AlertSource, Outcome, Severity
from hearth_kit.people import ADMIN_ROLE, STAFF_ROLES

__all__ = [
    "ADMIN_ROLE",
    "DEFAULT_SEVERITY",
    "SEVERITIES",
    "SOURCES",
    "STAFF_ROLES",
    "AlertSource",
    "Outcome",
    "Severity",
    "check_id",
    "check_name",
    "max_severity",
]

SEVERITIES: Final[tuple[Severity, ...]] = ("low", "medium", "high", "critical")
SOURCES: Final[tuple[AlertSource, ...]] = (
    "checkin_missed",
    "help_requested",
    "message_flagged",
    "support_unanswered",
)
DEFAULT_SEVERITY: Final[dict[AlertSource, Severity]] = {
    "checkin_missed": "high",
    "help_requested": "critical",
    "message_flagged": "high",
    "support_unanswered": "medium",
}

ID_MAX = 64
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def check_id(value: str, *, field: str) -> str:
    """An id from another service (user, resident): 1-64 safe characters."""
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidInput(f"{field} must be 1-{ID_MAX} letters, digits or . _ : @ -", field=field)
    return value


def check_name(value: str, *, field: str) -> str:
    """A name councils choose (policy, rota layer): lower-case, 1-40 characters."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidInput(
            f"{field} must start with a letter and use 1-40 of a-z 0-9 _ -", field=field
        )
    return value


def max_severity(a: Severity, b: Severity) -> Severity:
    return a if SEVERITIES.index(a) >= SEVERITIES.index(b) else b
