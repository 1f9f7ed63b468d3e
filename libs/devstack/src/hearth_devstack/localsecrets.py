"""Secrets the services need outside development, generated once per data folder.

They are stored beside the data they protect (`stack-secrets.json`, owner-readable only):
identity's key-encryption secret, for example, must stay the same for as long as the
signing keys it encrypted are in that folder.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

SECRETS_FILE = "stack-secrets.json"


def load_or_create(data_dir: Path, names: Iterable[str]) -> dict[str, str]:
    """Values for the environment variables `names`; missing ones are generated and saved."""
    path = data_dir / SECRETS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            raise ValueError(f"{path} is not a map of names to secrets; remove it")
        stored = dict(raw)
    wanted = list(names)
    missing = [name for name in wanted if name not in stored]
    if missing:
        stored.update({name: secrets.token_urlsafe(32) for name in missing})
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(stored, handle, indent=2)
        tmp.replace(path)
    return {name: stored[name] for name in wanted}
