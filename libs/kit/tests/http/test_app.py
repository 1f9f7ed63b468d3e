import json
import logging

import httpx
import pytest
from fastapi import Depends
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict, EmailStr

from hearth_kit.auth import Principal
from hearth_kit.http import ApiError, create_app, current_principal, require_roles
from hearth_kit.logging import JsonFormatter, log_context
from hearth_kit.settings import ServiceSettings
from hearth_kit.store.port import ConcurrencyConflict, DuplicateKey
from hearth_kit.testing import TokenSigner


class NewThing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    email: EmailStr


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner()


@pytest.fixture
def client(signer: TokenSigner):  # type: ignore[no-untyped-def]
    ready = {"ok": True}

    async def store_check() -> None:
        if not ready["ok"]:
            raise ConnectionError("store down")

    app = create_app(
        settings=ServiceSettings(service_name="demo"),
        title="demo",
        registry=CollectorRegistry(),
        readiness=[("store", store_check)],
    )
    app.state.token_verifier = signer.verifier()
    app.state.ready = ready

    @app.post("/v1/things", status_code=201)
    async def create(body: NewThing, p: Principal = Depends(require_roles("council_admin"))):  # type: ignore[no-untyped-def]
        return {"name": body.name, "tenant": p.tenant_id}

    @app.get("/v1/me")
    async def me(p: Principal = Depends(current_principal)):  # type: ignore[no-untyped-def]
        return {"user": p.user_id}

    @app.get("/v1/teapot")
    async def teapot():  # type: ignore[no-untyped-def]
        raise ApiError(409, "already_brewing", "the tea is already brewing")

    @app.get("/v1/dup")
    async def dup():  # type: ignore[no-untyped-def]
        raise DuplicateKey("users", ("tenant_id", "email"))

    @app.get("/v1/cas")
    async def cas():  # type: ignore[no-untyped-def]
        raise ConcurrencyConflict("users", "u1", 3)

    @app.get("/v1/boom")
    async def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test"), app


async def test_health_and_readiness(client) -> None:  # type: ignore[no-untyped-def]
    http, app = client
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/readyz")).json()["status"] == "ready"
    app.state.ready["ok"] = False
    response = await http.get("/readyz")
    assert response.status_code == 503
    assert "store" in response.json()["error"]["message"]


async def test_errors_have_one_shape(client, signer) -> None:  # type: ignore[no-untyped-def]
    http, _ = client
    auth = {"Authorization": "Bearer " + signer.token(roles=["council_admin"])}
    bad_json = await http.post(
        "/v1/things", content=b"{not json", headers={**auth, "content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["code"] == "malformed_json"
    unknown = await http.post(
        "/v1/things", json={"name": "x", "email": "a@b.org", "x": 1}, headers=auth
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["field"].endswith("x")
    bad_email = await http.post("/v1/things", json={"name": "x", "email": "nope"}, headers=auth)
    assert bad_email.status_code == 422
    assert (await http.get("/v1/teapot")).json()["error"]["code"] == "already_brewing"
    dup = await http.get("/v1/dup")
    assert dup.status_code == 409
    assert "email" in dup.json()["error"]["message"]
    assert (await http.get("/v1/cas")).status_code == 409
    boom = await http.get("/v1/boom")
    assert boom.status_code == 500
    assert "secret" not in boom.text


async def test_authentication_and_roles(client, signer) -> None:  # type: ignore[no-untyped-def]
    http, _ = client
    missing = await http.get("/v1/me")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert (await http.get("/v1/me", headers={"Authorization": "Basic abc"})).status_code == 401
    expired = await http.get("/v1/me", headers={"Authorization": "Bearer " + signer.token(ttl=-5)})
    assert expired.status_code == 401
    assert "expired" in expired.json()["error"]["message"]
    forged = TokenSigner(kid=signer.kid).token()
    assert (
        await http.get("/v1/me", headers={"Authorization": "Bearer " + forged})
    ).status_code == 401
    resident = {"Authorization": "Bearer " + signer.token(roles=["resident"])}
    refused = await http.post(
        "/v1/things", json={"name": "x", "email": "a@b.org"}, headers=resident
    )
    assert refused.status_code == 403
    admin = {"Authorization": "Bearer " + signer.token(roles=["council_admin"], tenant_id="t9")}
    ok = await http.post("/v1/things", json={"name": "x", "email": "a@b.org"}, headers=admin)
    assert ok.status_code == 201
    assert ok.json() == {"name": "x", "tenant": "t9"}


async def test_request_id_kept_or_made_and_metrics_use_route_templates(client) -> None:  # type: ignore[no-untyped-def]
    http, _ = client
    kept = await http.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    made = await http.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces"
    await http.get("/v1/teapot")
    metrics = (await http.get("/metrics")).text
    assert 'route="/v1/teapot"' in metrics
    assert (
        'hearth_http_requests_total{method="GET",route="/healthz",service="demo",status="200"}'
        in metrics
    )


def test_json_log_lines_carry_context() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    with log_context(tenant_id="t1", event_id="e1"):
        line = json.loads(JsonFormatter("demo").format(record))
    assert line["msg"] == "hello world"
    assert line["tenant_id"] == "t1"
    assert line["event_id"] == "e1"
    assert line["service"] == "demo"
