"""When each person's access last changed (deactivated, role changed, erasure asked), as
this replica's feed heard it.

Closing someone's sockets is not enough: their access token stays valid until it expires,
so they could reconnect at once with it. A token issued before the change is refused
instead. Tokens carry whole seconds (`iat`), so a token issued in the same second just
after the change is refused too; the client's next token is accepted.

Held in memory, per replica: an entry is needed only while a token issued before it can
still be valid, so each is kept for the longest access-token lifetime, and the whole is
bounded (the oldest go first).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

# Longer than the longest access token identity issues (15 minutes), with room for skew.
KEEP_SECONDS = 960.0
MAX_PEOPLE = 100_000

Key = tuple[str, str]


class Revocations:
    def __init__(
        self,
        *,
        keep_seconds: float = KEEP_SECONDS,
        max_people: int = MAX_PEOPLE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keep_seconds = keep_seconds
        self.max_people = max_people
        self._clock = clock
        # (tenant, user) -> when their access last changed; oldest first.
        self._since: OrderedDict[Key, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._since)

    def record(self, tenant_id: str, user_id: str, at: float) -> None:
        """Access changed at `at` (seconds since the epoch); a repeat or a late event
        never moves the time back."""
        key = (tenant_id, user_id)
        self._since[key] = max(at, self._since.pop(key, at))
        self._prune()

    def since(self, tenant_id: str, user_id: str) -> float | None:
        at = self._since.get((tenant_id, user_id))
        if at is None or at + self.keep_seconds < self._clock():
            return None
        return at

    def refuses(self, tenant_id: str, user_id: str, issued_at: float) -> bool:
        """Whether a token of this person issued at `issued_at` predates a change."""
        at = self.since(tenant_id, user_id)
        return at is not None and issued_at < at

    def _prune(self) -> None:
        horizon = self._clock() - self.keep_seconds
        while self._since:
            key, at = next(iter(self._since.items()))
            if at >= horizon and len(self._since) <= self.max_people:
                return
            del self._since[key]
