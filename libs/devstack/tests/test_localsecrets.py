from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hearth_devstack.localsecrets import SECRETS_FILE, load_or_create


def test_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_or_create(tmp_path, ["A_SECRET"])
    assert len(first["A_SECRET"]) >= 32
    assert load_or_create(tmp_path, ["A_SECRET"]) == first
    assert stat.S_IMODE((tmp_path / SECRETS_FILE).stat().st_mode) == 0o600


def test_new_names_are_added_without_changing_old_ones(tmp_path: Path) -> None:
    first = load_or_create(tmp_path, ["A"])
    both = load_or_create(tmp_path, ["A", "B"])
    assert both["A"] == first["A"]
    assert both["B"] != both["A"]
    assert load_or_create(tmp_path / "elsewhere", ["A"])["A"] != first["A"]


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / SECRETS_FILE).write_text('["not", "a", "map"]')
    with pytest.raises(ValueError, match="remove it"):
        load_or_create(tmp_path, ["A"])
