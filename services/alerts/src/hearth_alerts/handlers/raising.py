"""Raising alerts from other services' events, and resolving them when a check-in recovers.

One incident is one alert: each source has a de-duplication key (a declared unique
index), so the same incident reported twice, or handled by two replicas, is stored once.
"""

from __future__ import annotations

import logging
import uuid

from hearth_alerts.adapters.repositories import Versioned, retry_on_conflict
from hearth_alerts.domain.alert import Alert, dedup_key
from hearth_alerts.domain.escalation import (
    DEFAULT_POLICY_NAME,
    CouncilSettings,
    Policy,
    builtin_policy,
)
from hearth_alerts.domain.people import resident_author
from hearth_alerts.domain.values import AlertSource, Severity
from hearth_alerts.handlers.context import AlertsDeps, event
from hearth_alerts.handlers.escalation import fire_step, start_deliveries, subject_of
from hearth_alerts.handlers.recipients import ALL_CLEAR_STEP, create_notifications
from hearth_contracts import Envelope
from hearth_contracts.chat import MessageFlagged, SupportUnanswered
from hearth_contracts.checkins import CheckInMissed, CheckInRecovered, HelpRequested
from hearth_kit.store import ConcurrencyConflict, DuplicateKey, Query

log = logging.getLogger("hearth.alerts.raising")


async def council_settings(tenant_id: str, *, deps: AlertsDeps) -> CouncilSettings:
    loaded = await deps.repos.settings.get(tenant_id, "settings")
    return loaded.value if loaded else CouncilSettings()


async def policy_named(tenant_id: str, name: str, *, deps: AlertsDeps) -> Policy | None:
    """The council's stored policy of that name, else the built-in one, else None."""
    loaded = await deps.repos.policies.get(tenant_id, name)
    if loaded is not None:
        return loaded.value
    return builtin_policy(name)


async def raise_alert(
    *,
    tenant_id: str,
    source: AlertSource,
    key: str,
    resident_id: str | None,
    refs: dict[str, str],
    incident_at: float,
    deps: AlertsDeps,
    reported: Severity | None = None,
) -> Alert | None:
    """Raise the alert of one incident and fire its first step if that is due now.
    Returns None when the incident already has its alert."""
    council = await council_settings(tenant_id, deps=deps)
    name = council.policy_for(source)
    policy = await policy_named(tenant_id, name, deps=deps)
    if policy is None:
        log.warning("policy %r of %s is missing; using the default", name, source)
        policy = await policy_named(tenant_id, DEFAULT_POLICY_NAME, deps=deps)
        assert policy is not None
    now = deps.now()
    alert, raised = Alert.raise_new(
        alert_id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        dedup_key=key,
        source=source,
        severity=council.severity_for(source, reported),
        resident_id=resident_id,
        refs=refs,
        policy=policy,
        incident_at=min(incident_at, now),
        now=now,
        lease_seconds=deps.escalation_lease_seconds,
    )
    try:
        stored = await deps.repos.alerts.insert(
            tenant_id,
            alert.id,
            alert,
            events=[event(raised, tenant_id=tenant_id, subject=subject_of(alert))],
        )
    except DuplicateKey:
        log.info("incident %s already has its alert", key)
        return None
    deps.metrics.raised.labels(tenant=tenant_id, source=source, severity=alert.severity).inc()
    position = alert.pending()
    # Due now: a first step without delay, or the staff step an urgent source starts at
    # (at once, whatever that step's own delay in the policy).
    if position is not None and alert.fires_now(now):
        # Fired beside the consumer, so the next event is not kept waiting; if this
        # process dies first, the escalation timer fires it when the lease runs out.
        deps.background.spawn(
            fire_step(tenant_id, alert.id, deps=deps, expected=position, loaded=stored),
            name=f"first-step:{alert.id}",
        )
    else:
        deps.wake_escalations(alert.escalation_due)
    return alert


def _at(envelope: Envelope) -> float:
    return envelope.occurred_at.timestamp()


async def on_checkin_missed(data: CheckInMissed, envelope: Envelope, *, deps: AlertsDeps) -> None:
    await raise_alert(
        tenant_id=envelope.tenant_id,
        source="checkin_missed",
        key=dedup_key("checkin_missed", data.resident_id, data.occurrence_id),
        resident_id=data.resident_id,
        refs={"occurrence_id": data.occurrence_id, "due_at": data.due_at.isoformat()},
        incident_at=_at(envelope),
        deps=deps,
    )


async def on_help_requested(data: HelpRequested, envelope: Envelope, *, deps: AlertsDeps) -> None:
    await raise_alert(
        tenant_id=envelope.tenant_id,
        source="help_requested",
        key=dedup_key("help_requested", data.request_id),
        resident_id=data.resident_id,
        refs={"request_id": data.request_id, "channel": data.channel},
        incident_at=_at(envelope),
        deps=deps,
    )


async def on_message_flagged(data: MessageFlagged, envelope: Envelope, *, deps: AlertsDeps) -> None:
    """The alert names a resident only when a resident wrote the message; the author,
    whoever they are, is kept in the refs for whoever reviews it."""
    # No caller's token here: only what identity's events told alerts is known.
    author = await deps.people.person(envelope.tenant_id, data.author_id)
    await raise_alert(
        tenant_id=envelope.tenant_id,
        source="message_flagged",
        key=dedup_key("message_flagged", data.message_id),
        resident_id=resident_author(author),
        refs={
            "conversation_id": data.conversation_id,
            "message_id": data.message_id,
            "author_id": data.author_id,
            "category": data.category,
        },
        incident_at=_at(envelope),
        deps=deps,
        reported=data.severity,
    )


async def on_support_unanswered(
    data: SupportUnanswered, envelope: Envelope, *, deps: AlertsDeps
) -> None:
    await raise_alert(
        tenant_id=envelope.tenant_id,
        source="support_unanswered",
        key=dedup_key("support_unanswered", data.request_id),
        resident_id=data.resident_id,
        refs={"request_id": data.request_id, "waited_seconds": f"{data.waited_seconds:.0f}"},
        incident_at=_at(envelope),
        deps=deps,
    )


async def on_checkin_recovered(
    data: CheckInRecovered, envelope: Envelope, *, deps: AlertsDeps
) -> None:
    """A late check-in: resolve the missed check-in's alert and tell everyone who was
    told about it that all is clear. If the miss has not been handled yet, record the
    incident as already recovered so the late miss raises nothing."""
    tenant_id = envelope.tenant_id
    key = dedup_key("checkin_missed", data.resident_id, data.occurrence_id)

    async def resolve() -> Versioned[Alert] | None:
        page, _ = await deps.repos.alerts.find(tenant_id, Query(where={"dedup_key": key}, limit=1))
        now = deps.now()
        if not page:
            await _record_early_recovery(data, envelope, key=key, deps=deps)
            return None
        current = await deps.repos.alerts.get(tenant_id, page[0].id)
        if current is None:
            return None
        alert = current.value
        if alert.status == "resolved":
            return current if alert.outcome == "recovered" else None
        resolved = alert.resolve(outcome="recovered", note=None, by=None, now=now)
        alert.record("checkin_recovered", detail={"checkin_id": data.checkin_id}, at=now)
        saved = await deps.repos.alerts.save(
            tenant_id,
            alert.id,
            current,
            events=[event(resolved, tenant_id=tenant_id, subject=subject_of(alert))],
        )
        deps.metrics.resolved.labels(tenant=tenant_id, outcome="recovered").inc()
        deps.metrics.time_to_resolve.labels(tenant=tenant_id, outcome="recovered").observe(
            max(0.0, now - alert.incident_at)
        )
        return saved

    resolved = await retry_on_conflict(resolve)
    if resolved is not None:
        await send_all_clear(resolved.value, deps=deps)


async def send_all_clear(alert: Alert, *, deps: AlertsDeps) -> None:
    """All-clear notifications to everyone an alert told (not the resident). Safe to call
    again: the same all-clear is stored once."""
    told = [user for user in alert.notified if user != alert.resident_id]
    if not told:
        return
    created = await create_notifications(
        alert, told, kind="all_clear", step=ALL_CLEAR_STEP, round=0, deps=deps, now=deps.now()
    )
    start_deliveries(created.new, deps=deps)


async def _record_early_recovery(
    data: CheckInRecovered, envelope: Envelope, *, key: str, deps: AlertsDeps
) -> None:
    tenant_id = envelope.tenant_id
    policy = builtin_policy(DEFAULT_POLICY_NAME)
    assert policy is not None
    now = deps.now()
    alert, _ = Alert.raise_new(
        alert_id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        dedup_key=key,
        source="checkin_missed",
        severity="low",
        resident_id=data.resident_id,
        refs={"occurrence_id": data.occurrence_id},
        policy=policy,
        incident_at=min(_at(envelope), now),
        now=now,
        lease_seconds=deps.escalation_lease_seconds,
    )
    alert.timeline = []  # nothing was raised: only the recovery is on record
    alert.resolve(outcome="recovered", note=None, by=None, now=now)
    alert.record(
        "checkin_recovered",
        detail={"checkin_id": data.checkin_id, "before_miss": True},
        at=now,
    )
    try:
        await deps.repos.alerts.insert(tenant_id, alert.id, alert)
    except DuplicateKey:
        # The miss arrived meanwhile: the caller's retry finds and resolves its alert.
        raise ConcurrencyConflict("alerts", key, 0) from None
