"""Safeguarding: a council's phrase lists, and staff reviewing the flags they raise."""

from __future__ import annotations

from dataclasses import replace

from hearth_chat.domain.access import Actor
from hearth_chat.domain.errors import Forbidden, NotFoundError
from hearth_chat.domain.message import FlagStatus, Message, ReviewOutcome
from hearth_chat.domain.phrases import CouncilPhrases, check_allow, check_phrases
from hearth_chat.handlers.context import ChatDeps
from hearth_kit.store import ConcurrencyConflict

CAS_ATTEMPTS = 5


def flag_not_found() -> NotFoundError:
    return NotFoundError("flag not found", code="flag_not_found")


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only council administrators manage safeguarding phrases")


def _staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden("only council staff review safeguarding flags")


async def get_phrases(*, actor: Actor, deps: ChatDeps) -> CouncilPhrases:
    _admin(actor)
    phrases, _ = await deps.repos.settings.phrases(actor.tenant_id)
    return phrases


async def put_phrases(
    phrases: list[tuple[str, str, str]],
    allow: list[str],
    *,
    actor: Actor,
    deps: ChatDeps,
) -> CouncilPhrases:
    """Replace the council's own phrases and its allow-list (the baseline stays)."""
    _admin(actor)
    entries = check_phrases(phrases)
    allowed = check_allow(allow)
    tenant = actor.tenant_id
    for _ in range(CAS_ATTEMPTS):
        current, version = await deps.repos.settings.phrases(tenant)
        new = CouncilPhrases(
            phrases=entries,
            allow=allowed,
            updated_by=actor.user_id,
            updated_at=deps.now(),
            revision=current.revision + 1,
        )
        try:
            await deps.repos.settings.save_phrases(tenant, new, version=version)
        except ConcurrencyConflict:
            continue
        deps.scanners.invalidate(tenant)
        return new
    raise ConcurrencyConflict("council_settings", "phrases", -1)


async def list_flags(
    status: FlagStatus | None,
    *,
    actor: Actor,
    deps: ChatDeps,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Message], str | None]:
    """Flagged messages, newest first; `status` narrows to open/confirmed/false_positive."""
    _staff(actor)
    return await deps.repos.messages.flagged(actor.tenant_id, status, limit=limit, cursor=cursor)


async def review_flag(
    message_id: str,
    outcome: ReviewOutcome,
    note: str | None,
    *,
    actor: Actor,
    deps: ChatDeps,
) -> Message:
    """Record staff's decision. A false positive puts the matched phrase on the council's
    allow-list, so it stops firing in this council (see `domain.phrases`)."""
    _staff(actor)
    tenant = actor.tenant_id
    reviewed: Message | None = None
    for _ in range(CAS_ATTEMPTS):
        loaded = await deps.repos.messages.get(tenant, message_id)
        if loaded is None or loaded[0].flag is None:
            raise flag_not_found()
        message, version = loaded
        assert message.flag is not None
        flag = message.flag.reviewed(outcome, by=actor.user_id, at=deps.now(), note=note)
        reviewed = replace(message, flag=flag)
        try:
            await deps.repos.messages.save(reviewed, version=version)
        except ConcurrencyConflict:
            continue
        break
    if reviewed is None or reviewed.flag is None:
        raise ConcurrencyConflict("messages", message_id, -1)
    if outcome == "false_positive":
        await _allow(tenant, reviewed.flag.phrase, deps=deps)
    return reviewed


async def _allow(tenant_id: str, phrase: str, *, deps: ChatDeps) -> None:
    for _ in range(CAS_ATTEMPTS):
        current, version = await deps.repos.settings.phrases(tenant_id)
        new = current.allowing(phrase)
        if new is current:
            return
        try:
            await deps.repos.settings.save_phrases(tenant_id, new, version=version)
        except ConcurrencyConflict:
            continue
        deps.scanners.invalidate(tenant_id)
        return
    raise ConcurrencyConflict("council_settings", "phrases", -1)
