"""Starting a stack for tests and benchmarks, failing loudly with the logs when it cannot."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hearth_devstack.broker import free_port
from hearth_devstack.stack import Stack, StackError, StackEvent

# Cross-service tests run every installed service (None); a test may ask for fewer.
E2E_SERVICES: Sequence[str] | None = None
# Every test signs in and polls from 127.0.0.1 as a handful of users: the gateway's
# per-address and per-user limits (sized for real clients) would make a suite wait.
# Tests of those limits start their own gateway with their own settings.
TEST_SERVICE_ENV: dict[str, dict[str, str]] = {
    "gateway": {
        "GATEWAY_LOGIN_RATE": "100",
        "GATEWAY_LOGIN_BURST": "1000",
        "GATEWAY_IP_RATE": "2000",
        "GATEWAY_IP_BURST": "5000",
        "GATEWAY_USER_RATE": "500",
        "GATEWAY_USER_BURST": "2000",
    },
}


class StackStartError(RuntimeError):
    """The test stack did not start; the message carries the failing process's log tail."""


def describe_events(events: Sequence[StackEvent]) -> str:
    return "\n".join(f"- {e.kind}: {e.message}\n{e.log_tail}" for e in events)


@contextmanager
def running_stack(
    data_dir: Path,
    services: Sequence[str] | None = E2E_SERVICES,
    **options: Any,
) -> Iterator[Stack]:
    """A started `Stack` on free ports in `data_dir`, stopped on exit.

    `services=None` starts every installed service. Options are `Stack`'s keyword
    arguments; the gateway's sign-in rate limit is raised (TEST_SERVICE_ENV) and alerts
    sends email to a free local port (ALERTS_SMTP_PORT). Raises
    StackStartError (with the log tail) if any process fails to start.
    """
    service_env = {name: dict(env) for name, env in TEST_SERVICE_ENV.items()}
    # Email goes to an SMTP server a test may start on this port (stack.env_for("alerts")
    # names it); while none listens, email fails and is retried as with any server down.
    service_env.setdefault("alerts", {})["ALERTS_SMTP_PORT"] = str(free_port())
    for name, env in dict(options.pop("service_env", None) or {}).items():
        service_env.setdefault(name, {}).update(env)
    try:
        stack = Stack(data_dir, services, service_env=service_env, **options)
        stack.start()
    except StackError as exc:
        raise StackStartError(f"the Hearth stack did not start:\n{exc}") from exc
    try:
        yield stack
    finally:
        stack.stop()
