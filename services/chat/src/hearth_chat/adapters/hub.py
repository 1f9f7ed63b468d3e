"""This replica's sockets: who is connected, which conversations each follows.

Notifications say only "conversation X has news up to seq N" (or "message M changed");
each connection fetches what it has not sent yet from the store, in order. So a
notification may come twice (the local fast path and the replica feed), late or out of
order, and nothing is delivered twice, out of order, or lost.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

from hearth_chat.adapters.revocations import Revocations

# Close codes (4000-4999 are the application's; the gateway forwards them unchanged).
CLOSE_TOKEN_EXPIRED = 4401  # the same code the gateway uses when a token expires
CLOSE_ACCESS_REVOKED = 4403  # deactivated, role changed, left a circle: reconnect
CLOSE_RATE_LIMITED = 4429
CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN = 1013
ACCESS_CHANGED = "your access changed"
SIGNED_OUT = "signed out; sign in again"


class LiveClient(Protocol):
    tenant_id: str
    user_id: str
    # The sign-in its token belongs to (the token's `sid`), if it says.
    session_id: str | None

    def posted(self, conversation_id: str, seq: int) -> None: ...

    def changed(self, conversation_id: str, message_id: str, seq: int) -> None: ...

    def typing(self, conversation_id: str, user_id: str) -> None: ...

    def close(self, code: int, reason: str) -> None: ...


Key = tuple[str, str]


class Hub:
    def __init__(self, revocations: Revocations | None = None) -> None:
        # Whose tokens issued before a change of access are refused (see `revoke_access`).
        self.revocations = revocations or Revocations()
        self._users: dict[Key, set[LiveClient]] = defaultdict(set)
        self._conversations: dict[Key, set[LiveClient]] = defaultdict(set)
        self._follows: dict[LiveClient, set[str]] = {}

    def __len__(self) -> int:
        return len(self._follows)

    def connect(self, client: LiveClient) -> None:
        self._users[(client.tenant_id, client.user_id)].add(client)
        self._follows.setdefault(client, set())

    def disconnect(self, client: LiveClient) -> None:
        for conversation_id in self._follows.pop(client, set()):
            self._discard(self._conversations, (client.tenant_id, conversation_id), client)
        self._discard(self._users, (client.tenant_id, client.user_id), client)

    def follow(self, client: LiveClient, conversation_id: str) -> None:
        self._follows.setdefault(client, set()).add(conversation_id)
        self._conversations[(client.tenant_id, conversation_id)].add(client)

    def unfollow(self, client: LiveClient, conversation_id: str) -> None:
        self._follows.get(client, set()).discard(conversation_id)
        self._discard(self._conversations, (client.tenant_id, conversation_id), client)

    def following(self, client: LiveClient) -> int:
        return len(self._follows.get(client, ()))

    def has_followers(self, tenant_id: str, conversation_id: str) -> bool:
        return bool(self._conversations.get((tenant_id, conversation_id)))

    # ---- notifications ------------------------------------------------------------------
    def posted(self, tenant_id: str, conversation_id: str, seq: int) -> None:
        for client in list(self._conversations.get((tenant_id, conversation_id), ())):
            client.posted(conversation_id, seq)

    def changed(self, tenant_id: str, conversation_id: str, message_id: str, seq: int) -> None:
        for client in list(self._conversations.get((tenant_id, conversation_id), ())):
            client.changed(conversation_id, message_id, seq)

    def typing(self, tenant_id: str, conversation_id: str, user_id: str) -> None:
        for client in list(self._conversations.get((tenant_id, conversation_id), ())):
            if client.user_id != user_id:
                client.typing(conversation_id, user_id)

    def revoke(self, tenant_id: str, user_id: str, *, code: int, reason: str) -> int:
        """Close every connection of a person (they reconnect if they still may)."""
        clients = list(self._users.get((tenant_id, user_id), ()))
        for client in clients:
            client.close(code, reason)
        return len(clients)

    def revoke_access(self, tenant_id: str, user_id: str, at: float) -> int:
        """A person's access changed at `at`: their tokens issued before it are refused
        from now on, and every connection they have here is closed."""
        self.revocations.record(tenant_id, user_id, at)
        return self.revoke(tenant_id, user_id, code=CLOSE_ACCESS_REVOKED, reason=ACCESS_CHANGED)

    def end_session(
        self,
        tenant_id: str,
        user_id: str,
        session_id: str,
        *,
        code: int = CLOSE_TOKEN_EXPIRED,
        reason: str = SIGNED_OUT,
    ) -> int:
        """A sign-in ended (logout, or identity revoked it): close that session's
        connections; the person's other devices stay connected."""
        clients = [
            client
            for client in self._users.get((tenant_id, user_id), ())
            if client.session_id == session_id
        ]
        for client in clients:
            client.close(code, reason)
        return len(clients)

    def close_all(
        self, *, code: int = CLOSE_GOING_AWAY, reason: str = "server shutting down"
    ) -> None:
        for client in list(self._follows):
            client.close(code, reason)

    @staticmethod
    def _discard(index: dict[Key, set[LiveClient]], key: Key, client: LiveClient) -> None:
        found = index.get(key)
        if found is not None:
            found.discard(client)
            if not found:
                del index[key]
