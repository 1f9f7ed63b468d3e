"""Where the repository and the data folder are."""

from __future__ import annotations

import os
from pathlib import Path


def _is_repo_root(path: Path) -> bool:
    return (path / "pyproject.toml").is_file() and (path / "services").is_dir()


def repo_root() -> Path:
    """The Hearth repository: found from the working folder, else from this package's files."""
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for candidate in (start, *start.parents):
            if _is_repo_root(candidate):
                return candidate
    raise FileNotFoundError(
        "cannot find the Hearth repository (a folder with pyproject.toml and services/); "
        "run from inside it"
    )


def default_data_dir() -> Path:
    """HEARTH_DATA_DIR if set, else `.data/` in the repository."""
    configured = os.environ.get("HEARTH_DATA_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    return repo_root() / ".data"
