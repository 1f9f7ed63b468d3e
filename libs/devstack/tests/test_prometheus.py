from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from hearth_devstack.prometheus import ScrapeTarget, command_line, render_config, write_targets


def test_targets_file_labels_every_replica(tmp_path: Path) -> None:
    path = tmp_path / "targets.json"
    write_targets(
        path,
        [ScrapeTarget("identity", 0, "127.0.0.1:1"), ScrapeTarget("identity", 1, "127.0.0.1:2")],
    )
    groups = json.loads(path.read_text())
    assert groups == [
        {"targets": ["127.0.0.1:1"], "labels": {"service": "identity", "replica": "0"}},
        {"targets": ["127.0.0.1:2"], "labels": {"service": "identity", "replica": "1"}},
    ]


def test_config_scrapes_the_targets_file_and_itself(tmp_path: Path) -> None:
    targets = tmp_path / "targets.json"
    config = yaml.safe_load(
        render_config(targets_file=targets, prometheus_address="127.0.0.1:9999")
    )
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["hearth"]["file_sd_configs"][0]["files"] == [str(targets)]
    assert jobs["hearth"]["metrics_path"] == "/metrics"
    assert jobs["prometheus"]["static_configs"][0]["targets"] == ["127.0.0.1:9999"]
    assert config["rule_files"][0].endswith("deploy/prometheus/rules/*.yml")


def test_config_is_valid_for_prometheus(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    targets = tmp_path / "targets.json"
    write_targets(targets, [ScrapeTarget("gateway", 0, "127.0.0.1:8000")])
    config = tmp_path / "prometheus.yml"
    config.write_text(render_config(targets_file=targets, prometheus_address="127.0.0.1:9090"))
    result = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_command_line_keeps_data_in_the_data_folder(tmp_path: Path) -> None:
    argv = command_line(Path("/bin/prometheus"), tmp_path / "p.yml", tmp_path / "d", "1.2.3.4:5")
    assert f"--storage.tsdb.path={tmp_path / 'd'}" in argv
    assert "--web.listen-address=1.2.3.4:5" in argv
