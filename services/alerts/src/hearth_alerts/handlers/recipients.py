"""Who a step tells, and the notifications that tell them (stored before anything is sent).

A step skips people identity's events say are deactivated, and people a staff target
(the rota, a named user) resolves to who are no longer staff; the alert's timeline says
whom it skipped and why. A step that reaches nobody escalates to the next at once."""

from __future__ import annotations

from dataclasses import dataclass, field

from hearth_alerts.domain.alert import Alert
from hearth_alerts.domain.circle import Circle
from hearth_alerts.domain.escalation import Target
from hearth_alerts.domain.notification import (
    Message,
    Notification,
    NotificationKind,
    message_text,
    notification_id,
)
from hearth_alerts.domain.people import skip_reason
from hearth_alerts.domain.rota import Rota
from hearth_alerts.handlers.context import AlertsDeps
from hearth_kit.store import DuplicateKey

# Step numbers of notifications that are not escalation steps.
ALL_CLEAR_STEP = -1
ASSIGNED_STEP = -2


@dataclass
class Recipients:
    users: list[str] = field(default_factory=list)
    # Targets that named nobody (no rota layer of that name, nobody on call, no circle).
    unfilled: list[str] = field(default_factory=list)
    # People a target named who must not be paged: {"user_id", "reason"} (a list, so no
    # id becomes a field name in the stored alert).
    skipped: list[dict[str, str]] = field(default_factory=list)

    def add(self, user_id: str) -> None:
        if user_id not in self.users:
            self.users.append(user_id)

    def skip(self, user_id: str, reason: str) -> None:
        entry = {"user_id": user_id, "reason": reason}
        if entry not in self.skipped:
            self.skipped.append(entry)


async def resolve_targets(
    alert: Alert, targets: list[Target], *, deps: AlertsDeps, now: float
) -> Recipients:
    found = Recipients()
    rota: Rota | None = None
    rota_loaded = False

    async def add(user_id: str, *, as_staff: bool) -> None:
        person = await deps.repos.directory.person(alert.tenant_id, user_id)
        reason = skip_reason(person, as_staff=as_staff)
        if reason is None:
            found.add(user_id)
        else:
            found.skip(user_id, reason)

    for target in targets:
        if target.type == "resident":
            if alert.resident_id:
                await add(alert.resident_id, as_staff=False)
            else:
                found.unfilled.append("resident")
        elif target.type == "circle":
            members = await circle_of(alert.tenant_id, alert.resident_id, deps=deps)
            if not members:
                found.unfilled.append("circle")
            for member in members:
                await add(member, as_staff=False)
        elif target.type == "user":
            assert target.user_id is not None
            await add(target.user_id, as_staff=True)
        else:
            if not rota_loaded:
                loaded = await deps.repos.rotas.get(alert.tenant_id, "rota")
                rota = loaded.value if loaded else None
                rota_loaded = True
            layer = target.layer if target.type == "layer" else (rota.primary() if rota else None)
            on_call = rota.on_call_in(layer, now) if rota is not None and layer else None
            if on_call is None:
                found.unfilled.append(f"layer:{layer}" if layer else "oncall")
            else:
                await add(on_call.user_id, as_staff=True)
    return found


async def circle_of(tenant_id: str, resident_id: str | None, *, deps: AlertsDeps) -> list[str]:
    if not resident_id:
        return []
    loaded = await deps.repos.circles.get(tenant_id, resident_id)
    circle: Circle | None = loaded.value if loaded else None
    return circle.member_ids() if circle else []


@dataclass
class Created:
    """Notifications of one step: how many exist (new or stored by an earlier try of
    the same step), those this call stored (it starts their delivery), and the people
    with no way to reach them."""

    total: int = 0
    new: list[Notification] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)


async def create_notifications(
    alert: Alert,
    users: list[str],
    *,
    kind: NotificationKind,
    step: int,
    round: int,
    deps: AlertsDeps,
    now: float,
) -> Created:
    """Store one notification per contact method of each user. The ids are derived from
    the alert, step and address, so storing the same step twice stores nothing new."""
    created = Created()
    text = message_text(kind, alert.source, alert.severity, alert.id)
    message = Message(
        alert_id=alert.id,
        kind=kind,
        source=alert.source,
        severity=alert.severity,
        resident_id=alert.resident_id,
        step=step,
        text=text,
    )
    for user in users:
        book = await deps.repos.contacts.get(alert.tenant_id, user)
        methods = book.value.methods if book else []
        if not methods:
            created.unreachable.append(user)
            continue
        for method in methods:
            notification = Notification(
                id=notification_id(
                    alert.id, kind, step, round, user, method.channel, method.address
                ),
                tenant_id=alert.tenant_id,
                alert_id=alert.id,
                kind=kind,
                step=step,
                round=round,
                recipient_id=user,
                channel=method.channel,
                address=method.address,
                secret=method.secret or "",
                message=message,
                max_attempts=deps.retry.max_attempts,
                created_at=now,
                # The first attempt starts at once; if it never finishes, the timer
                # retries it when this lease runs out.
                next_attempt_at=now + deps.attempt_lease_seconds,
            )
            created.total += 1
            try:
                await deps.repos.notifications.insert(
                    alert.tenant_id, notification.id, notification
                )
            except DuplicateKey:
                continue
            created.new.append(notification)
    return created
