"""ManagedProcess with real child processes."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from hearth_devstack.processes import ManagedProcess, read_tail

pytestmark = pytest.mark.integration

IGNORES_SIGTERM = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('READY'.lower(), flush=True)\n"
    "time.sleep(60)\n"
)
STOPS_ON_SIGTERM = "import time\nprint('READY'.lower(), flush=True)\ntime.sleep(60)\n"
# Markers are printed computed, so the log header (which shows the command) never holds them.


def child(tmp_path: Path, code: str) -> ManagedProcess:
    return ManagedProcess(
        "child", [sys.executable, "-c", code], dict(os.environ), tmp_path / "logs" / "child.log"
    )


def wait_for_output(process: ManagedProcess, text: str) -> None:
    deadline = time.monotonic() + 20
    while text not in process.tail():
        assert time.monotonic() < deadline, process.tail()
        time.sleep(0.02)


def test_output_goes_to_the_log_with_a_header_per_start(tmp_path: Path) -> None:
    process = child(tmp_path, "print('HELLO FROM THE CHILD'.lower())")
    process.start()
    assert process.wait(20) == 0
    process.start()
    assert process.wait(20) == 0
    log = process.log_path.read_text()
    assert log.count("starting child") == 2
    assert log.count("hello from the child") == 2
    assert process.starts == 2


def test_stop_terminates_gracefully(tmp_path: Path) -> None:
    process = child(tmp_path, STOPS_ON_SIGTERM)
    process.start()
    wait_for_output(process, "ready")
    assert process.stop(grace=10) == -signal.SIGTERM
    assert not process.running


def test_stop_kills_what_ignores_sigterm_after_the_grace_period(tmp_path: Path) -> None:
    process = child(tmp_path, IGNORES_SIGTERM)
    process.start()
    wait_for_output(process, "ready")
    assert process.stop(grace=0.5) == -signal.SIGKILL


def test_stop_also_ends_the_childs_own_children(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('GRANDCHILD'.lower(), p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    process = child(tmp_path, code)
    process.start()
    wait_for_output(process, "grandchild")
    grandchild = int(process.tail().split("grandchild")[-1].split()[0])
    process.stop(grace=5)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{grandchild}").exists():
        status = Path(f"/proc/{grandchild}/status").read_text()
        if "zombie" in status:
            break
        assert time.monotonic() < deadline, "grandchild survived"
        time.sleep(0.05)


def test_starting_twice_is_refused(tmp_path: Path) -> None:
    process = child(tmp_path, STOPS_ON_SIGTERM)
    process.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            process.start()
    finally:
        process.stop(grace=5)


def test_tail_of_a_missing_log_says_so(tmp_path: Path) -> None:
    assert "no log" in read_tail(tmp_path / "missing.log")
    log = tmp_path / "x.log"
    log.write_text("\n".join(str(i) for i in range(100)))
    assert read_tail(log, 3) == "97\n98\n99"
