"""Replicas with settings of their own, with a real child process that serves its environment."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hearth_devstack.services import ServiceSpec
from hearth_devstack.stack import Stack

pytestmark = pytest.mark.integration

# A stand-in service: answers every GET (so /readyz too) with its ENVECHO_ settings.
SERVER = """\
import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        mine = {k: v for k, v in os.environ.items() if k.startswith("ENVECHO_")}
        body = json.dumps({"pid": os.getpid(), "env": mine}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


address = (os.environ["ENVECHO_HTTP_HOST"], int(os.environ["ENVECHO_HTTP_PORT"]))
HTTPServer(address, Handler).serve_forever()
"""
ECHO = ServiceSpec("envecho", 0, module="envecho")


def served(stack: Stack, replica: int) -> tuple[int, dict[str, str]]:
    body = httpx.get(f"{stack.url('envecho', replica)}/env", timeout=5).json()
    return int(body["pid"]), dict(body["env"])


def test_a_replica_keeps_its_own_settings_across_restarts(tmp_path: Path) -> None:
    # Services run with the data folder as their working directory: `python -m envecho`
    # finds the stand-in there. A named broker means none is started.
    (tmp_path / "envecho.py").write_text(SERVER, encoding="utf-8")
    stack = Stack(
        tmp_path,
        [ECHO],
        kafka_bootstrap_servers="127.0.0.1:9",
        service_env={"envecho": {"ENVECHO_ROLE": "shared", "ENVECHO_ZONE": "a"}},
        ready_timeout=30,
        stop_grace=5,
    )
    with stack:
        second = stack.start_replica("envecho", env={"ENVECHO_ROLE": "second"})
        assert stack.env_for("envecho", second)["ENVECHO_ROLE"] == "second"
        assert stack.env_for("envecho")["ENVECHO_ROLE"] == "shared"

        pid, env = served(stack, second)
        # The replica's setting wins; the service's other settings still apply.
        assert env["ENVECHO_ROLE"] == "second"
        assert env["ENVECHO_ZONE"] == "a"
        assert env["ENVECHO_HTTP_PORT"] == str(stack.port("envecho", second))
        assert served(stack, 0)[1]["ENVECHO_ROLE"] == "shared"

        stack.restart("envecho", second)
        again, env = served(stack, second)
        assert again != pid, "restart started a new process"
        assert env["ENVECHO_ROLE"] == "second"

        # Settings belong to the one replica: the next gets the service's own.
        third = stack.start_replica("envecho")
        assert served(stack, third)[1]["ENVECHO_ROLE"] == "shared"
        assert stack.env_for("envecho", third)["ENVECHO_ROLE"] == "shared"
