"""The service's own endpoints: health, readiness, metrics, unknown routes."""

from __future__ import annotations

from identity_testkit import Api


async def test_health_readiness_and_metrics(api: Api) -> None:
    assert (await api.client.get("/healthz")).json()["status"] == "alive"
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    await api.client.get("/v1/auth/jwks")
    metrics = (await api.client.get("/metrics")).text
    assert 'route="/v1/auth/jwks"' in metrics


async def test_unknown_routes_and_methods_answer_in_the_error_shape(api: Api) -> None:
    missing = await api.client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = await api.client.get("/v1/auth/token")
    assert wrong.status_code == 405 and "error" in wrong.json()
