"""Escalation and delivery: fire an alert's steps, send their notifications, and escalate
at once when a step reached nobody.

Both run from two places: at once, by whoever caused them (raising an alert, a delivery
failing for good), and from the deadline schedulers, which fire escalation steps on time
and retry notifications; the schedulers also pick up anything a crashed process left
half-done. Every write is a compare-and-swap and every notification id is derived from
its step, so doing the same work twice changes nothing.
"""

from __future__ import annotations

import logging

from hearth_alerts.adapters.repositories import Versioned, retry_on_conflict
from hearth_alerts.domain.alert import Alert
from hearth_alerts.domain.escalation import MAX_STEPS, Position
from hearth_alerts.domain.notification import Notification
from hearth_alerts.handlers.context import AlertsDeps, event
from hearth_alerts.handlers.recipients import create_notifications, resolve_targets
from hearth_contracts.alerts import NotificationSent
from hearth_kit.store import ConcurrencyConflict, Document

log = logging.getLogger("hearth.alerts.escalation")

# Steps one call may fire in a row (each reached nobody, so the next fires at once).
_MAX_CHAIN = 2 * MAX_STEPS + 2


def subject_of(alert: Alert) -> str:
    return alert.resident_id or alert.id


# ---- escalation steps -----------------------------------------------------------------------
async def fire_step(
    tenant_id: str,
    alert_id: str,
    *,
    deps: AlertsDeps,
    expected: Position | None = None,
    loaded: Versioned[Alert] | None = None,
) -> int:
    """Fire the alert's pending step if its time has come (or, with `expected`, that
    step whatever its planned time, if it is still the pending one). Steps that reach
    nobody are followed at once by the next. Returns how many steps fired."""
    fired = 0
    while fired < _MAX_CHAIN:
        current = loaded or await deps.repos.alerts.get(tenant_id, alert_id)
        loaded = None
        if current is None:
            return fired
        alert = current.value
        position = alert.pending()
        now = deps.now()
        if position is None:
            return fired
        if expected is not None:
            if (position.step, position.round) != (expected.step, expected.round):
                return fired
        elif not alert.fires_now(now):
            return fired
        planned = alert.next_planned_at if alert.next_planned_at is not None else now
        step = alert.policy.steps[position.step]
        recipients = await resolve_targets(alert, step.targets, deps=deps, now=now)
        created = await create_notifications(
            alert,
            recipients.users,
            kind="alert",
            step=position.step,
            round=position.round,
            deps=deps,
            now=now,
        )
        escalated = alert.record_step(
            position,
            recipients=recipients.users,
            notifications=created.total,
            now=now,
            lease_seconds=deps.escalation_lease_seconds,
        )
        if recipients.unfilled or recipients.skipped or created.unreachable:
            alert.record(
                "gaps",
                detail={
                    "unfilled": recipients.unfilled,
                    "skipped": recipients.skipped,
                    "unreachable": created.unreachable,
                },
                at=now,
            )
        try:
            await deps.repos.alerts.save(
                tenant_id,
                alert_id,
                current,
                events=[event(escalated, tenant_id=tenant_id, subject=subject_of(alert))],
            )
        except ConcurrencyConflict:
            # Acknowledged, resolved or fired elsewhere meanwhile: look again. The
            # notifications stored above are kept (and cancelled if no longer needed).
            start_deliveries(created.new, deps=deps)
            continue
        fired += 1
        deps.metrics.step_lateness.labels(tenant=tenant_id).observe(max(0.0, now - planned))
        deps.metrics.escalations.labels(
            tenant=tenant_id, outcome="notified" if created.total else "nobody_reachable"
        ).inc()
        start_deliveries(created.new, deps=deps, alert_open=True)
        nxt = alert.pending()
        if nxt is None:
            return fired
        if not alert.fires_now(deps.now()):
            deps.wake_escalations(alert.escalation_due)
            return fired
        expected = nxt
    log.error("alert %s fired %d steps in a row; stopping", alert_id, fired)
    return fired


async def on_escalation_due(doc: Document, *, deps: AlertsDeps) -> None:
    """The escalation timer of an alert came due (fired by the deadline scheduler)."""
    current = deps.repos.alerts.load(doc)
    alert = current.value
    if alert.pending() is None or not alert.fires_now(deps.now()):
        # Nothing to fire (a stale due time): clear it so the timer stops.
        if alert.escalation_due is not None and alert.pending() is None:
            alert.escalation_due = None
            await deps.repos.alerts.save(alert.tenant_id, alert.id, current)
        elif alert.escalation_due is not None and alert.next_planned_at is not None:
            alert.escalation_due = max(alert.next_planned_at, deps.now() + 0.001)
            await deps.repos.alerts.save(alert.tenant_id, alert.id, current)
        return
    await fire_step(alert.tenant_id, alert.id, deps=deps, loaded=current)


# ---- delivery -------------------------------------------------------------------------------
def start_deliveries(
    notifications: list[Notification], *, deps: AlertsDeps, alert_open: bool = False
) -> None:
    """First attempts of freshly stored notifications, without waiting for them.
    `alert_open`: the caller has just saved their alert open (no need to look again)."""
    for notification in notifications:
        deps.background.spawn(
            attempt_delivery(
                notification.tenant_id,
                notification.id,
                deps=deps,
                loaded=Versioned(notification, 1),
                alert_open=alert_open,
            ),
            name=f"deliver:{notification.id}",
        )


async def on_notification_due(doc: Document, *, deps: AlertsDeps) -> None:
    """A notification's next attempt came due (fired by the deadline scheduler)."""
    await attempt_delivery(
        doc["tenant_id"], doc["id"], deps=deps, loaded=deps.repos.notifications.load(doc)
    )


async def attempt_delivery(
    tenant_id: str,
    notification_id: str,
    *,
    deps: AlertsDeps,
    loaded: Versioned[Notification] | None = None,
    alert_open: bool = False,
) -> None:
    """One attempt: cancel if the alert no longer needs it, else send and record."""
    current = loaded or await deps.repos.notifications.get(tenant_id, notification_id)
    if current is None:
        return
    notification = current.value
    if notification.final:
        if notification.next_attempt_at is not None:
            notification.next_attempt_at = None
            await deps.repos.notifications.save(tenant_id, notification_id, current)
        return
    channel = notification.channel
    if notification.kind == "alert" and not alert_open:
        alert = await deps.repos.alerts.get(tenant_id, notification.alert_id)
        if alert is None or not alert.value.is_open:
            state = alert.value.status if alert else "gone"
            notification.cancel(reason=f"alert {state} before delivery", now=deps.now())
            try:
                await deps.repos.notifications.save(tenant_id, notification_id, current)
            except ConcurrencyConflict:
                return
            deps.metrics.notifications.labels(
                tenant=tenant_id, channel=channel, outcome="cancelled"
            ).inc()
            return
    result = await deps.channels.send(notification)
    now = deps.now()
    outcome = notification.record_attempt(result, now=now, retry=deps.retry)
    events = []
    if outcome != "retry":
        sent = NotificationSent(
            alert_id=notification.alert_id,
            notification_id=notification.id,
            channel=channel,
            recipient_id=notification.recipient_id,
            status="delivered" if outcome == "delivered" else "failed",
        )
        # Same subject as the alert's own events, so they share a partition and an order.
        subject = notification.message.resident_id or notification.alert_id
        events.append(event(sent, tenant_id=tenant_id, subject=subject))
    try:
        await deps.repos.notifications.save(tenant_id, notification_id, current, events=events)
    except ConcurrencyConflict:
        # Another attempt (after this one's lease ran out) owns it now.
        log.warning("notification %s changed during its attempt", notification_id)
        return
    deps.metrics.notifications.labels(tenant=tenant_id, channel=channel, outcome=outcome).inc()
    if outcome == "retry":
        log.info(
            "notification %s attempt %d failed (%s); retrying at %.0f",
            notification_id,
            notification.attempts,
            result.detail,
            notification.next_attempt_at,
        )
        deps.wake_notifications(notification.next_attempt_at)
        return
    await after_delivery(
        notification, delivered=outcome == "delivered", detail=result.detail, deps=deps
    )


async def after_delivery(
    notification: Notification, *, delivered: bool, detail: str, deps: AlertsDeps
) -> None:
    """Put a final delivery on the alert's timeline; a step that reached nobody
    escalates to the next step now rather than waiting."""
    tenant_id = notification.tenant_id

    async def record() -> tuple[Versioned[Alert] | None, bool, bool]:
        current = await deps.repos.alerts.get(tenant_id, notification.alert_id)
        if current is None:
            return None, False, False
        alert = current.value
        first = delivered and alert.first_notified_at is None and notification.kind == "alert"
        escalate = alert.record_delivery(
            step=notification.step,
            round=notification.round,
            recipient_id=notification.recipient_id,
            channel=notification.channel,
            delivered=delivered,
            detail=detail,
            now=deps.now(),
            lease_seconds=deps.escalation_lease_seconds,
        )
        saved = await deps.repos.alerts.save(tenant_id, alert.id, current)
        return saved, escalate, first

    saved, escalate, first = await retry_on_conflict(record)
    if saved is None:
        return
    alert = saved.value
    if first and alert.first_notified_at is not None:
        deps.metrics.first_notification.labels(tenant=tenant_id).observe(
            max(0.0, alert.first_notified_at - alert.incident_at)
        )
    if escalate:
        log.warning(
            "step %d of alert %s reached nobody; escalating now", notification.step, alert.id
        )
        await fire_step(tenant_id, alert.id, deps=deps, expected=alert.pending())
