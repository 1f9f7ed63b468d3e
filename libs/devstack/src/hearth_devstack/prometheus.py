"""A local Prometheus scraping every service of the stack, when the binary is installed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from string import Template

from hearth_devstack.paths import repo_root

TEMPLATE = Path("deploy") / "prometheus" / "local.yml.template"
RULES_DIR = Path("deploy") / "prometheus" / "rules"
# In the stack's Prometheus folder: the file_sd targets the stack keeps up to date.
TARGETS_FILE = "targets.json"

INSTALL_HINT = (
    "Prometheus is not installed, so no local Prometheus runs (each service still serves "
    "/metrics). Install it with `sudo apt-get install prometheus` (Debian/Ubuntu; `make run` "
    "does this itself when run as root) or put a `prometheus` binary from "
    "prometheus.io/download on PATH, then start again."
)


@dataclass(frozen=True)
class ScrapeTarget:
    service: str
    replica: int
    address: str  # host:port


def prometheus_binary() -> Path | None:
    found = shutil.which("prometheus")
    return Path(found) if found else None


def write_targets(path: Path, targets: Iterable[ScrapeTarget]) -> None:
    """Write the file_sd targets file atomically (Prometheus re-reads it when it changes)."""
    groups = [
        {"targets": [t.address], "labels": {"service": t.service, "replica": str(t.replica)}}
        for t in targets
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(groups, indent=2), encoding="utf-8")
    tmp.replace(path)


def render_config(
    *,
    targets_file: Path,
    prometheus_address: str,
    scrape_interval: str = "5s",
    template_path: Path | None = None,
    rules_dir: Path | None = None,
) -> str:
    if template_path is None or rules_dir is None:
        root = repo_root()
        template_path = template_path or root / TEMPLATE
        rules_dir = rules_dir or root / RULES_DIR
    template = template_path.read_text(encoding="utf-8")
    return Template(template).safe_substitute(
        targets_file=str(targets_file),
        prometheus_address=prometheus_address,
        scrape_interval=scrape_interval,
        rules_dir=str(rules_dir),
    )


def command_line(binary: Path, config: Path, storage: Path, address: str) -> list[str]:
    return [
        str(binary),
        f"--config.file={config}",
        f"--storage.tsdb.path={storage}",
        f"--web.listen-address={address}",
        "--web.enable-lifecycle",
        "--log.level=warn",
    ]


def prepare(folder: Path, binary: Path, address: str) -> list[str]:
    """Make a stack's Prometheus folder (data, config reading `TARGETS_FILE` there) and
    return the command line that runs it."""
    storage = folder / "data"
    storage.mkdir(parents=True, exist_ok=True)
    config = folder / "prometheus.yml"
    config.write_text(
        render_config(targets_file=folder / TARGETS_FILE, prometheus_address=address),
        encoding="utf-8",
    )
    return command_line(binary, config, storage, address)
