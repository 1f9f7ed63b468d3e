"""Generated requests over the gateway's merged OpenAPI document find no server errors.

End to end: the embedded broker, identity and the gateway run as real processes (the
same harness as the cross-service tests); schemathesis generates requests, valid and
invalid, from /openapi.json and sends them through the gateway with a council admin's
token. Any 5xx fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from hearth_devstack.seed import login
from hearth_devstack.stack import Stack
from hearth_devstack.testing import StackStartError, running_stack
from hearth_gateway.domain.routes import ROUTES, Kind

pytestmark = pytest.mark.e2e
EXAMPLES = 10  # per operation and mode: enough to hit edge cases, keeps the run short


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir: Path = tmp_path_factory.mktemp("gateway-e2e")
    try:
        with running_stack(data_dir) as started:
            yield started
    except StackStartError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def admin_token(stack: Stack) -> str:
    creds = stack.seed_demo().credentials
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        return login(client, creds.users["council_admin"])


def fuzz(operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> list[str]:
    """Send generated requests for one operation; the server errors seen."""
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} ({mode.value}) -> "
                f"{response.status_code}: {response.text[:300]}"
            )

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to make invalid in this operation (it takes no inputs)
    return failures


def test_no_server_errors(stack: Stack, admin_token: str) -> None:
    document = httpx.get(stack.gateway_url + "/openapi.json", timeout=30).json()
    assert document["paths"], "the merged document lists no /v1 operations"
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {admin_token}"}
    # Live streams never end by design: a generated request would wait on one until its
    # timeout. They are exercised by the tests that read them (alerts' stream, chat's socket).
    streams = {r.pattern for r in ROUTES if r.kind in (Kind.STREAM, Kind.WEBSOCKET)}
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if op.path not in streams
    ]
    assert operations
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += fuzz(operation, mode, stack.gateway_url, headers)
    assert not failures, "server errors:\n" + "\n".join(failures[:20])


def test_document_lists_services_and_security(stack: Stack) -> None:
    document = httpx.get(stack.gateway_url + "/openapi.json", timeout=30).json()
    assert document["x-hearth-services"]["identity"] == "available"
    assert document["paths"]["/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/v1/auth/token"]["post"]["security"] == []


def test_unauthenticated_requests_are_refused_cleanly(stack: Stack) -> None:
    for path in ("/v1/me", "/v1/users", "/v1/tenants"):
        response = httpx.get(stack.gateway_url + path, timeout=10)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
