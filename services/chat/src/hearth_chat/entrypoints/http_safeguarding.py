"""HTTP routes of safeguarding: the council's phrase lists and the review of flags."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hearth_chat.commands import PutPhrases, ReviewFlag
from hearth_chat.domain.access import Actor
from hearth_chat.domain.message import FlagStatus
from hearth_chat.domain.safeguarding import baseline_phrases
from hearth_chat.entrypoints.common import Admin, Deps, Staff
from hearth_chat.entrypoints.views import flagged_json, phrases_json
from hearth_chat.handlers import safeguarding
from hearth_kit.http import id_path

router = APIRouter(prefix="/v1/safeguarding", tags=["safeguarding"])


@router.get("/phrases")
async def get_phrases(principal: Admin, d: Deps) -> dict[str, Any]:
    phrases = await safeguarding.get_phrases(actor=Actor.of(principal), deps=d)
    return phrases_json(phrases, baseline_count=len(baseline_phrases()))


@router.put("/phrases")
async def put_phrases(cmd: PutPhrases, principal: Admin, d: Deps) -> dict[str, Any]:
    phrases = await safeguarding.put_phrases(
        [(p.phrase, p.category, p.severity) for p in cmd.phrases],
        list(cmd.allow),
        actor=Actor.of(principal),
        deps=d,
    )
    return phrases_json(phrases, baseline_count=len(baseline_phrases()))


@router.get("/flags")
async def list_flags(
    principal: Staff,
    d: Deps,
    status: FlagStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    items, next_cursor = await safeguarding.list_flags(
        status, actor=Actor.of(principal), deps=d, limit=limit, cursor=cursor
    )
    return {"items": [flagged_json(m) for m in items], "next_cursor": next_cursor}


@router.post("/flags/{flag_id}/review")
async def review(
    cmd: ReviewFlag, principal: Staff, d: Deps, flag_id: str = id_path()
) -> dict[str, Any]:
    """`flag_id` is the id of the flagged message."""
    message = await safeguarding.review_flag(
        flag_id, cmd.outcome, cmd.note, actor=Actor.of(principal), deps=d
    )
    return flagged_json(message)
