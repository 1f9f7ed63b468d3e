"""Live support requests: waiting in the queue, claimed by a member of staff, handed
over, closed with an outcome; unclaimed past the council's target, on-call is called
(once) and the person is told so in plain words."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from hearth_chat.domain.access import Actor
from hearth_chat.domain.errors import Conflict, Forbidden, InvalidInput

Urgency = Literal["normal", "urgent"]
URGENCIES: tuple[Urgency, ...] = ("urgent", "normal")
Status = Literal["waiting", "claimed", "closed"]
STATUSES: tuple[Status, ...] = ("waiting", "claimed", "closed")
Outcome = Literal["resolved", "referred", "withdrawn", "no_response"]
STAFF_OUTCOMES = frozenset({"resolved", "referred", "no_response"})
MIN_TARGET_SECONDS = 5.0
MAX_TARGET_SECONDS = 24 * 3600.0

UNANSWERED_NOTICE = (
    "Nobody has answered yet, so we have called the person on duty. Someone will be with you soon."
)
CLAIMED_NOTICE = "A member of staff has joined the conversation."
HANDOVER_NOTICE = "Another member of staff is taking over this conversation."
CLOSED_NOTICE = "This support conversation has been closed."


def check_target(seconds: float) -> float:
    if not MIN_TARGET_SECONDS <= seconds <= MAX_TARGET_SECONDS:
        raise InvalidInput(
            f"target must be between {MIN_TARGET_SECONDS:.0f} and {MAX_TARGET_SECONDS:.0f} seconds",
            field="target_seconds",
        )
    return seconds


@dataclass(frozen=True)
class Handover:
    from_user: str
    to_user: str
    by: str
    at: float
    note: str | None = None


@dataclass(frozen=True)
class SupportRequest:
    id: str
    tenant_id: str
    resident_id: str
    requested_by: str
    urgency: Urgency
    conversation_id: str
    requested_at: float
    target_seconds: float
    status: Status = "waiting"
    assignee: str | None = None
    claimed_at: float | None = None
    closed_at: float | None = None
    closed_by: str | None = None
    outcome: Outcome | None = None
    handovers: tuple[Handover, ...] = ()
    escalated_at: float | None = None
    notice_posted: bool = False
    # When the unanswered timer fires (None once claimed, closed, or fully handled).
    due_at: float | None = None

    @classmethod
    def open(
        cls,
        *,
        id: str,
        tenant_id: str,
        resident_id: str,
        requested_by: str,
        urgency: Urgency,
        conversation_id: str,
        now: float,
        target_seconds: float,
    ) -> SupportRequest:
        return cls(
            id=id,
            tenant_id=tenant_id,
            resident_id=resident_id,
            requested_by=requested_by,
            urgency=urgency,
            conversation_id=conversation_id,
            requested_at=now,
            target_seconds=target_seconds,
            due_at=now + target_seconds,
        )

    @property
    def queue_key(self) -> str:
        """Sorts the queue: urgent before normal, then the longest waiting first."""
        rank = URGENCIES.index(self.urgency)
        return f"{rank}:{self.requested_at:020.6f}"

    def waited(self, now: float) -> float:
        return max(0.0, (self.claimed_at or now) - self.requested_at)

    def _open_only(self) -> None:
        if self.status == "closed":
            raise Conflict("this support request is closed", code="request_closed")

    def claim(self, actor: Actor, *, now: float) -> SupportRequest:
        self._open_only()
        if not actor.is_staff:
            raise Forbidden("only council staff claim support requests", code="staff_only")
        if self.status == "claimed":
            raise Conflict("this support request was already claimed", code="already_claimed")
        return replace(self, status="claimed", assignee=actor.user_id, claimed_at=now, due_at=None)

    def handover(
        self, actor: Actor, to_user: str, *, now: float, note: str | None
    ) -> SupportRequest:
        self._open_only()
        if self.status != "claimed" or self.assignee is None:
            raise Conflict("claim the request before handing it over", code="not_claimed")
        if actor.user_id != self.assignee and not actor.is_admin:
            raise Forbidden(
                "only the member of staff holding the request (or a council administrator) "
                "hands it over",
                code="not_assignee",
            )
        if to_user == self.assignee:
            raise InvalidInput("the request is already with that person", field="to_user_id")
        handover = Handover(self.assignee, to_user, actor.user_id, now, note)
        return replace(self, assignee=to_user, handovers=(*self.handovers, handover))

    def close(self, actor: Actor, outcome: Outcome, *, now: float) -> SupportRequest:
        self._open_only()
        if actor.is_staff:
            if actor.user_id != self.assignee and not actor.is_admin and self.status == "claimed":
                raise Forbidden(
                    "only the member of staff holding the request closes it", code="not_assignee"
                )
            if outcome not in STAFF_OUTCOMES:
                raise InvalidInput(
                    f"staff close with one of: {', '.join(sorted(STAFF_OUTCOMES))}",
                    field="outcome",
                )
        elif actor.user_id == self.requested_by:
            if outcome != "withdrawn":
                raise InvalidInput("you can withdraw your request", field="outcome")
        else:
            raise Forbidden("you may not close this request", code="forbidden")
        return replace(
            self,
            status="closed",
            closed_at=now,
            closed_by=actor.user_id,
            outcome=outcome,
            due_at=None,
        )

    # ---- the unanswered timer ----------------------------------------------------------
    @property
    def needs_escalation(self) -> bool:
        return self.status == "waiting" and self.escalated_at is None

    @property
    def needs_notice(self) -> bool:
        return self.status == "waiting" and self.escalated_at is not None and not self.notice_posted

    def escalated(self, *, now: float) -> SupportRequest:
        """On-call is being called: the timer stays due so the notice is posted next (a
        crash in between still posts it, once)."""
        return replace(self, escalated_at=now, due_at=now)

    def noticed(self) -> SupportRequest:
        return replace(self, notice_posted=True, due_at=None)

    def settled(self) -> SupportRequest:
        """Nothing left for the timer to do."""
        return replace(self, due_at=None)
