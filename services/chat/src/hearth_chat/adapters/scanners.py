"""Each council's phrase scanner, built once and kept: rebuilt when the council's lists
change (at once on this replica, within `refresh_seconds` on the others)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from hearth_chat.adapters.support_repository import CouncilSettings
from hearth_chat.domain.phrases import build_scanner
from hearth_chat.domain.safeguarding import PhraseScanner


@dataclass
class _Entry:
    scanner: PhraseScanner
    version: int
    checked: float


class ScannerCache:
    def __init__(self, settings: CouncilSettings, *, refresh_seconds: float) -> None:
        self._settings = settings
        self._refresh = refresh_seconds
        self._entries: dict[str, _Entry] = {}

    async def get(self, tenant_id: str) -> PhraseScanner:
        now = time.monotonic()
        entry = self._entries.get(tenant_id)
        if entry is not None and now - entry.checked < self._refresh:
            return entry.scanner
        phrases, version = await self._settings.phrases(tenant_id)
        if entry is not None and entry.version == version:
            entry.checked = now
            return entry.scanner
        scanner = build_scanner(phrases)
        self._entries[tenant_id] = _Entry(scanner, version, now)
        return scanner

    def invalidate(self, tenant_id: str) -> None:
        self._entries.pop(tenant_id, None)
