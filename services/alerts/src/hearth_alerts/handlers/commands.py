"""What staff do to alerts: acknowledge, reassign, resolve. Every change is one
compare-and-swap write with its event; the caller's council scopes every read."""

from __future__ import annotations

from hearth_alerts.adapters.repositories import Versioned, retry_on_conflict
from hearth_alerts.commands import AcknowledgeAlert, ReassignAlert, ResolveAlert
from hearth_alerts.domain.alert import STATUSES, Alert
from hearth_alerts.domain.errors import InvalidInput, NotFoundError
from hearth_alerts.handlers.context import AlertsDeps, event
from hearth_alerts.handlers.escalation import start_deliveries, subject_of
from hearth_alerts.handlers.people import check_responders
from hearth_alerts.handlers.recipients import ASSIGNED_STEP, create_notifications
from hearth_kit.auth import Principal
from hearth_kit.store import Query

PAGE_MAX = 200


async def get_alert(alert_id: str, *, principal: Principal, deps: AlertsDeps) -> Versioned[Alert]:
    loaded = await deps.repos.alerts.get(principal.tenant_id, alert_id)
    if loaded is None:
        raise NotFoundError("no such alert")
    return loaded


async def list_alerts(
    *,
    principal: Principal,
    deps: AlertsDeps,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Alert], str | None]:
    where: dict[str, str] = {}
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
        where["status"] = status
    query = Query(
        where=where,
        order_by="raised_at",
        descending=True,
        limit=max(1, min(limit, PAGE_MAX)),
        cursor=cursor,
    )
    return await deps.repos.alerts.find(principal.tenant_id, query)


async def acknowledge(
    alert_id: str, cmd: AcknowledgeAlert, *, principal: Principal, deps: AlertsDeps
) -> Alert:
    async def attempt() -> Alert:
        current = await get_alert(alert_id, principal=principal, deps=deps)
        alert = current.value
        now = deps.now()
        acknowledged = alert.acknowledge(by=principal.user_id, now=now)
        if cmd.note:
            alert.timeline[-1].detail["note"] = cmd.note
        await deps.repos.alerts.save(
            alert.tenant_id,
            alert.id,
            current,
            events=[event(acknowledged, tenant_id=alert.tenant_id, subject=subject_of(alert))],
        )
        deps.metrics.observe_acknowledged(
            alert.tenant_id, alert.source, acknowledged.seconds_to_acknowledge
        )
        return alert

    return await retry_on_conflict(attempt)


async def resolve(
    alert_id: str, cmd: ResolveAlert, *, principal: Principal, deps: AlertsDeps
) -> Alert:
    async def attempt() -> Alert:
        current = await get_alert(alert_id, principal=principal, deps=deps)
        alert = current.value
        now = deps.now()
        resolved = alert.resolve(outcome=cmd.outcome, note=cmd.note, by=principal.user_id, now=now)
        await deps.repos.alerts.save(
            alert.tenant_id,
            alert.id,
            current,
            events=[event(resolved, tenant_id=alert.tenant_id, subject=subject_of(alert))],
        )
        deps.metrics.resolved.labels(tenant=alert.tenant_id, outcome=cmd.outcome).inc()
        deps.metrics.time_to_resolve.labels(tenant=alert.tenant_id, outcome=cmd.outcome).observe(
            max(0.0, now - alert.incident_at)
        )
        return alert

    return await retry_on_conflict(attempt)


async def reassign(
    alert_id: str, cmd: ReassignAlert, *, principal: Principal, deps: AlertsDeps, token: str | None
) -> Alert:
    """Give the alert to someone else and tell them (it keeps escalating if nobody has
    acknowledged it yet). They must be able to be on call; an alert of another council
    is not found before anyone named in the request is looked at."""
    await get_alert(alert_id, principal=principal, deps=deps)
    await check_responders([(cmd.user_id, "user_id")], principal=principal, deps=deps, token=token)

    async def attempt() -> Alert:
        current = await get_alert(alert_id, principal=principal, deps=deps)
        alert = current.value
        alert.reassign(to=cmd.user_id, by=principal.user_id, note=cmd.note, now=deps.now())
        await deps.repos.alerts.save(alert.tenant_id, alert.id, current)
        return alert

    alert = await retry_on_conflict(attempt)
    times = sum(1 for entry in alert.timeline if entry.kind == "reassigned")
    created = await create_notifications(
        alert,
        [cmd.user_id],
        kind="assigned",
        step=ASSIGNED_STEP,
        round=times,
        deps=deps,
        now=deps.now(),
    )
    start_deliveries(created.new, deps=deps)
    return alert
