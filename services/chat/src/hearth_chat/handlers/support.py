"""Live support: asking for help, the staff queue, claiming, handing over, closing, and
the durable timer that calls on-call when nobody answers in time."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hearth_chat.adapters.documents import request_from
from hearth_chat.domain.access import Actor
from hearth_chat.domain.conversation import Conversation
from hearth_chat.domain.errors import Forbidden, InvalidInput, NotFoundError
from hearth_chat.domain.support import (
    CLAIMED_NOTICE,
    CLOSED_NOTICE,
    HANDOVER_NOTICE,
    UNANSWERED_NOTICE,
    Outcome,
    Status,
    SupportRequest,
    Urgency,
    check_target,
)
from hearth_chat.handlers.access import (
    add_member,
    in_circle,
    known_person,
    person_not_found,
    remove_member,
)
from hearth_chat.handlers.context import ChatDeps
from hearth_chat.handlers.messages import post_message, post_system
from hearth_contracts.chat import (
    SupportClaimed,
    SupportClosed,
    SupportRequested,
    SupportUnanswered,
)
from hearth_kit.store import ConcurrencyConflict, Document

CAS_ATTEMPTS = 5


def request_not_found() -> NotFoundError:
    return NotFoundError("support request not found", code="request_not_found")


async def target_seconds(tenant_id: str, *, deps: ChatDeps) -> float:
    stored = await deps.repos.settings.support_target(tenant_id)
    return stored if stored is not None else deps.limits.support_target_seconds


async def set_target(seconds: float, *, actor: Actor, deps: ChatDeps) -> float:
    if not actor.is_admin:
        raise Forbidden("only council administrators change support settings")
    value = check_target(seconds)
    await deps.repos.settings.set_support_target(actor.tenant_id, value, actor.user_id)
    return value


async def request_support(
    urgency: Urgency,
    *,
    actor: Actor,
    deps: ChatDeps,
    resident_id: str | None = None,
    text: str | None = None,
    token: str | None = None,
) -> tuple[SupportRequest, bool]:
    """Open a support request and its conversation; (request, created). A person with a
    request still open gets that one back."""
    tenant = actor.tenant_id
    if actor.is_resident:
        if resident_id not in (None, actor.user_id):
            raise InvalidInput("residents ask for support for themselves", field="resident_id")
        resident = actor.user_id
    elif actor.roles & {"family", "carer"}:
        if resident_id is None:
            raise InvalidInput("say which resident this is about", field="resident_id")
        if not await in_circle(tenant, resident_id, actor.user_id, deps=deps, token=token):
            raise person_not_found()
        resident = resident_id
    else:
        raise Forbidden("residents and their families ask for live support", code="not_allowed")
    existing = await deps.repos.support.open_of(tenant, actor.user_id)
    if existing is not None:
        return existing, False
    now = deps.now()
    request_id = deps.new_id()
    conversation = Conversation(
        id=f"sup-{request_id}",
        tenant_id=tenant,
        kind="support",
        members=(actor.user_id,),
        created_by=actor.user_id,
        created_at=now,
        title="Live support",
        support_request_id=request_id,
    )
    await deps.repos.memberships.add(tenant, conversation.id, actor.user_id, now)
    await deps.repos.conversations.insert(conversation)
    request = SupportRequest.open(
        id=request_id,
        tenant_id=tenant,
        resident_id=resident,
        requested_by=actor.user_id,
        urgency=urgency,
        conversation_id=conversation.id,
        now=now,
        target_seconds=await target_seconds(tenant, deps=deps),
    )
    event = deps.event(
        SupportRequested(
            request_id=request_id,
            resident_id=resident,
            urgency=urgency,
            conversation_id=conversation.id,
            requested_by=actor.user_id,
        ),
        tenant_id=tenant,
        subject=resident,
    )
    await deps.repos.support.insert(request, events=[event])
    deps.metrics.support_requests.labels(tenant, urgency).inc()
    if request.due_at is not None:
        deps.wake(request.due_at)
    if text:
        await post_message(text, conversation.id, actor=actor, deps=deps, token=token)
    return request, True


async def get_request(request_id: str, *, actor: Actor, deps: ChatDeps) -> SupportRequest:
    loaded = await deps.repos.support.get(actor.tenant_id, request_id)
    if loaded is None:
        raise request_not_found()
    request = loaded[0]
    if not actor.is_staff and actor.user_id != request.requested_by:
        raise request_not_found()
    return request


async def queue(
    status: Status, *, actor: Actor, deps: ChatDeps, limit: int = 50, cursor: str | None = None
) -> tuple[list[SupportRequest], str | None]:
    """Requests in one status: urgent first, then the longest waiting."""
    if not actor.is_staff:
        raise Forbidden("only council staff see the support queue")
    return await deps.repos.support.queue(actor.tenant_id, status, limit=limit, cursor=cursor)


Change = Callable[[SupportRequest], SupportRequest]


async def _change(
    request_id: str,
    change: Change,
    events: Callable[[SupportRequest], Sequence[Document]],
    *,
    actor: Actor,
    deps: ChatDeps,
) -> tuple[SupportRequest, SupportRequest]:
    """(before, after) of a compare-and-swap change, retried when it loses a race."""
    for _ in range(CAS_ATTEMPTS):
        loaded = await deps.repos.support.get(actor.tenant_id, request_id)
        if loaded is None:
            raise request_not_found()
        current, version = loaded
        if not actor.is_staff and actor.user_id != current.requested_by:
            raise request_not_found()
        new = change(current)
        try:
            await deps.repos.support.save(new, version=version, events=events(new))
        except ConcurrencyConflict:
            continue
        return current, new
    raise ConcurrencyConflict("support_requests", request_id, -1)


async def _conversation(request: SupportRequest, *, deps: ChatDeps) -> Conversation | None:
    return await deps.repos.conversations.get(request.tenant_id, request.conversation_id)


async def claim(request_id: str, *, actor: Actor, deps: ChatDeps) -> SupportRequest:
    now = deps.now()

    def events(new: SupportRequest) -> Sequence[Document]:
        data = SupportClaimed(
            request_id=new.id,
            resident_id=new.resident_id,
            claimed_by=actor.user_id,
            waited_seconds=new.waited(now),
        )
        return [deps.event(data, tenant_id=new.tenant_id, subject=new.resident_id)]

    _, request = await _change(
        request_id, lambda r: r.claim(actor, now=now), events, actor=actor, deps=deps
    )
    deps.metrics.support_wait.labels(actor.tenant_id, request.urgency).observe(request.waited(now))
    conversation = await _conversation(request, deps=deps)
    if conversation is not None:
        conversation = await add_member(conversation, actor.user_id, deps=deps)
        await post_system(CLAIMED_NOTICE, conversation, deps=deps)
    return request


async def handover(
    request_id: str,
    to_user_id: str,
    note: str | None,
    *,
    actor: Actor,
    deps: ChatDeps,
    token: str | None = None,
) -> SupportRequest:
    """Give a claimed request to another member of staff."""
    if not actor.is_staff:
        raise Forbidden("only council staff hand over support requests")
    person = await known_person(actor, to_user_id, deps=deps, token=token)
    if person is None or not person.active or not person.is_staff:
        raise InvalidInput(
            "hand over to an active member of staff of this council",
            field="to_user_id",
            code="not_staff",
        )
    now = deps.now()
    before, request = await _change(
        request_id,
        lambda r: r.handover(actor, to_user_id, now=now, note=note),
        lambda _: (),
        actor=actor,
        deps=deps,
    )
    conversation = await _conversation(request, deps=deps)
    if conversation is not None:
        conversation = await add_member(conversation, to_user_id, deps=deps)
        if before.assignee is not None and before.assignee != to_user_id:
            conversation = await remove_member(conversation, before.assignee, deps=deps)
        await post_system(HANDOVER_NOTICE, conversation, deps=deps)
    return request


async def close(
    request_id: str, outcome: Outcome, *, actor: Actor, deps: ChatDeps
) -> SupportRequest:
    now = deps.now()

    def events(new: SupportRequest) -> Sequence[Document]:
        data = SupportClosed(
            request_id=new.id,
            resident_id=new.resident_id,
            outcome=outcome,
            closed_by=actor.user_id,
        )
        return [deps.event(data, tenant_id=new.tenant_id, subject=new.resident_id)]

    _, request = await _change(
        request_id, lambda r: r.close(actor, outcome, now=now), events, actor=actor, deps=deps
    )
    conversation = await _conversation(request, deps=deps)
    if conversation is not None:
        await post_system(CLOSED_NOTICE, conversation, deps=deps)
        await deps.repos.conversations.update(
            request.tenant_id, conversation.id, lambda c: c.closed(now)
        )
    return request


async def fire_unanswered(doc: Document, *, deps: ChatDeps) -> None:
    """The timer's callback: nobody claimed the request in time. First on-call is called
    (`chat.support.unanswered`, saved from the version the timer claimed, so a claim that
    got there first makes this lose with ConcurrencyConflict and nothing is published);
    then the person is told, in plain words, in their conversation. Each step happens
    once, also when a crash interrupts between them."""
    request = request_from(doc)
    version = int(doc["version"])
    now = deps.now()
    if request.needs_escalation:
        event = deps.event(
            SupportUnanswered(
                request_id=request.id,
                resident_id=request.resident_id,
                waited_seconds=request.waited(now),
                urgency=request.urgency,
            ),
            tenant_id=request.tenant_id,
            subject=request.resident_id,
        )
        request = request.escalated(now=now)
        version = await deps.repos.support.save(request, version=version, events=[event])
        deps.metrics.support_unanswered.labels(request.tenant_id, request.urgency).inc()
    if request.needs_notice:
        conversation = await _conversation(request, deps=deps)
        if conversation is not None:
            await post_system(
                UNANSWERED_NOTICE,
                conversation,
                deps=deps,
                message_id=f"{request.id}-unanswered",
            )
        await deps.repos.support.save(request.noticed(), version=version)
        return
    await deps.repos.support.save(request.settled(), version=version)
