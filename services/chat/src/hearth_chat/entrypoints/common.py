"""What every chat route shares: dependencies, the caller's token, roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hearth_chat.domain.access import CHAT_ROLES, STAFF_ROLES
from hearth_chat.handlers.context import ChatDeps
from hearth_kit.auth import Principal
from hearth_kit.http import require_roles
from hearth_kit.http.security import bearer_token


def deps(request: Request) -> ChatDeps:
    found: ChatDeps = request.app.state.chat
    return found


def token(request: Request) -> str:
    return bearer_token(request)


# Anyone of a council who chats (platform administrators hold no council's conversations).
Member = Annotated[Principal, Depends(require_roles(*sorted(CHAT_ROLES)))]
Staff = Annotated[Principal, Depends(require_roles(*sorted(STAFF_ROLES)))]
Admin = Annotated[Principal, Depends(require_roles("council_admin"))]
Deps = Annotated[ChatDeps, Depends(deps)]
Token = Annotated[str, Depends(token)]
