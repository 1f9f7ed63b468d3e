"""docker/service.Dockerfile: multi-stage, small, non-root, health-checked; its entrypoint."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "service.Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        result.append((keyword.upper(), args.strip()))
    return result


def stages(text: str) -> tuple[dict[str, str], list[Stage]]:
    global_args: dict[str, str] = {}
    found: list[Stage] = []
    for keyword, args in instructions(text):
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            found.append(Stage(parts[0], name))
        elif not found:
            if keyword == "ARG" and "=" in args:
                key, value = args.split("=", 1)
                global_args[key] = value
        else:
            found[-1].instructions.append((keyword, args))
    return global_args, found


@pytest.fixture(scope="module")
def parsed() -> tuple[dict[str, str], list[Stage]]:
    return stages(DOCKERFILE.read_text(encoding="utf-8"))


def resolve(base: str, global_args: dict[str, str]) -> str:
    for key, value in global_args.items():
        base = base.replace(f"${{{key}}}", value)
    return base


def test_parser_joins_continuations_and_reads_stages() -> None:
    text = "ARG B=img:1\nFROM ${B} AS one\nRUN a \\\n  b\n# note\nFROM img:2\nUSER 5\n"
    global_args, found = stages(text)
    assert global_args == {"B": "img:1"}
    assert [(s.base, s.name) for s in found] == [("${B}", "one"), ("img:2", None)]
    assert found[0].all("RUN") == ["a b"]
    assert found[1].all("USER") == ["5"]


def test_it_is_multi_stage_with_a_slim_python_runtime(
    parsed: tuple[dict[str, str], list[Stage]],
) -> None:
    global_args, found = parsed
    assert len(found) >= 2
    builder, runtime = found[0], found[-1]
    assert builder.name == "builder"
    assert resolve(runtime.base, global_args) == "python:3.11-slim"
    assert any("--from=builder" in args for args in runtime.all("COPY"))


def test_builder_installs_one_service_package_from_the_lock(
    parsed: tuple[dict[str, str], list[Stage]],
) -> None:
    builder = parsed[1][0]
    assert any(args.startswith("SERVICE") for args in builder.all("ARG"))
    sync = " ".join(args for args in builder.all("RUN") if "uv sync" in args)
    for flag in ("--frozen", "--no-dev", "--no-editable", '--package "hearth-${SERVICE}"'):
        assert flag in sync


def test_runtime_runs_as_an_unprivileged_user_with_a_health_check(
    parsed: tuple[dict[str, str], list[Stage]],
) -> None:
    runtime = parsed[1][-1]
    users = runtime.all("USER")
    assert users, "the runtime stage must set USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert int(user) >= 1000
    assert any("/healthz" in args for args in runtime.all("HEALTHCHECK"))
    assert runtime.all("ENTRYPOINT")
    env = " ".join(runtime.all("ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env  # nothing written next to the code (read-only)
    assert "HEARTH_DATA_DIR=/data" in env
    assert not any("uv " in args or "pip " in args for args in runtime.all("RUN"))


def test_build_context_ignores_everything_but_the_sources() -> None:
    ignore = (ROOT / "docker" / "service.Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[ignore.index("**")] == "**"
    for kept in ("!pyproject.toml", "!uv.lock", "!libs/**", "!services/**"):
        assert kept in ignore
    assert "**/tests" in ignore


def fake_python(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "python"
    script.write_text(
        '#!/bin/sh\necho "ARGS $*"\nenv | grep -E "^(IDENTITY|GATEWAY)_HTTP_(HOST|PORT)=" | sort\n'
    )
    script.chmod(0o755)
    return bin_dir


def run_entrypoint(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = f"{fake_python(tmp_path)}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["sh", str(ENTRYPOINT), "--flag"],
        env={"PATH": path, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def test_entrypoint_runs_the_service_on_all_interfaces(tmp_path: Path) -> None:
    result = run_entrypoint(tmp_path, {"HEARTH_SERVICE": "identity", "PORT": "8000"})
    assert result.returncode == 0, result.stderr
    assert "ARGS -m hearth_identity --flag" in result.stdout
    assert "IDENTITY_HTTP_HOST=0.0.0.0" in result.stdout
    assert "IDENTITY_HTTP_PORT=8000" in result.stdout


def test_entrypoint_keeps_explicit_service_settings(tmp_path: Path) -> None:
    env = {"HEARTH_SERVICE": "gateway", "GATEWAY_HTTP_PORT": "9000", "GATEWAY_HTTP_HOST": "::"}
    result = run_entrypoint(tmp_path, env)
    assert "GATEWAY_HTTP_PORT=9000" in result.stdout
    assert "GATEWAY_HTTP_HOST=::" in result.stdout


@pytest.mark.parametrize("service", ["", "Identity", "x;rm -rf /", "a b"])
def test_entrypoint_refuses_bad_service_names(tmp_path: Path, service: str) -> None:
    result = run_entrypoint(tmp_path, {"HEARTH_SERVICE": service})
    assert result.returncode != 0
    assert "ARGS" not in result.stdout
