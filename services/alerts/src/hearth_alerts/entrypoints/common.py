"""What every alerts route shares: dependencies, roles and JSON views of aggregates
(times as ISO 8601 UTC)."""

from __future__ import annotations

from typing import Any

from fastapi import Path, Request

from hearth_alerts.domain.alert import Alert
from hearth_alerts.domain.contacts import ContactBook
from hearth_alerts.domain.escalation import Policy
from hearth_alerts.domain.rota import OnCall, Override, Rota
from hearth_alerts.domain.values import ADMIN_ROLE, STAFF_ROLES
from hearth_alerts.handlers.context import AlertsDeps
from hearth_kit.http import iso, require_roles


def name_path() -> Any:
    """A policy name in a path."""
    return Path(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_-]*$")


staff = require_roles(*sorted(STAFF_ROLES))
admin = require_roles(ADMIN_ROLE)


def deps(request: Request) -> AlertsDeps:
    found: AlertsDeps = request.app.state.alerts
    return found


def alert_summary(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "status": alert.status,
        "source": alert.source,
        "severity": alert.severity,
        "resident_id": alert.resident_id,
        "refs": alert.refs,
        "incident_at": iso(alert.incident_at),
        "raised_at": iso(alert.raised_at),
        "assignee": alert.assignee,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": iso(alert.acknowledged_at),
        "resolved_by": alert.resolved_by,
        "resolved_at": iso(alert.resolved_at),
        "outcome": alert.outcome,
        "first_notified_at": iso(alert.first_notified_at),
        "escalation": {
            "policy": alert.policy.name,
            "next_step": alert.next_step,
            "next_round": alert.next_round if alert.next_step is not None else None,
            "next_at": iso(alert.next_planned_at),
        },
    }


def alert_json(alert: Alert) -> dict[str, Any]:
    body = alert_summary(alert)
    body["note"] = alert.note
    body["notified"] = alert.notified
    body["steps"] = [
        {
            "step": s.step,
            "round": s.round,
            "planned_at": iso(s.planned_at),
            "fired_at": iso(s.fired_at),
            "recipients": s.recipients,
            "notifications": s.notifications,
            "delivered": s.delivered,
            "failed": s.failed,
        }
        for s in alert.steps
    ]
    body["timeline"] = [
        {"at": iso(e.at), "kind": e.kind, "actor": e.actor, "detail": e.detail}
        for e in alert.timeline
    ]
    return body


def override_json(override: Override) -> dict[str, Any]:
    return {
        "id": override.id,
        "layer": override.layer,
        "kind": override.kind,
        "user_id": override.user_id,
        "with_user_id": override.with_user_id,
        "start": iso(override.start),
        "end": iso(override.end),
        "created_at": iso(override.created_at),
        "created_by": override.created_by,
    }


def rota_json(rota: Rota, version: int) -> dict[str, Any]:
    return {
        "timezone": rota.timezone,
        "layers": [layer.model_dump(mode="json") for layer in rota.layers],
        "overrides": [override_json(o) for o in rota.overrides],
        "version": version,
    }


def on_call_json(entry: OnCall) -> dict[str, Any]:
    return {
        "layer": entry.layer,
        "user_id": entry.user_id,
        "via": entry.via,
        "scheduled_user_id": entry.scheduled_user_id,
        "shift_start": iso(entry.shift_start),
        "shift_end": iso(entry.shift_end),
    }


def policy_json(policy: Policy, *, built_in: bool) -> dict[str, Any]:
    return {**policy.model_dump(mode="json"), "built_in": built_in}


def contacts_json(book: ContactBook, *, show_secrets: bool) -> dict[str, Any]:
    methods = []
    for method in book.methods:
        item: dict[str, Any] = {"channel": method.channel, "address": method.address}
        if method.channel == "webhook":
            item["secret"] = method.secret if show_secrets else "********"
        methods.append(item)
    return {"methods": methods}
