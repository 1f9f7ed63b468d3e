"""Cross-origin policy per council."""

from __future__ import annotations

from hearth_gateway.domain.cors import CorsPolicy

POLICY = CorsPolicy.from_config(
    {
        "*": ["https://app.hearth.example"],
        "council-a": ["https://a.example/", "HTTPS://Portal.A.example"],
        "council-b": ["https://b.example"],
    }
)


def headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    return dict(pairs)


def test_origin_for_all_councils_is_allowed_for_any_tenant_and_anonymous() -> None:
    for tenant in ("council-a", "council-b", None):
        got = headers(POLICY.response_headers("https://app.hearth.example", tenant))
        assert got["access-control-allow-origin"] == "https://app.hearth.example"
        assert "X-Request-ID" in got["access-control-expose-headers"]


def test_tenant_origin_only_for_that_tenant() -> None:
    assert POLICY.allows("https://a.example", "council-a")
    assert POLICY.allows("https://portal.a.example", "council-a")  # case, trailing slash
    assert not POLICY.allows("https://a.example", "council-b")
    assert not POLICY.allows("https://a.example", None)
    refused = headers(POLICY.response_headers("https://a.example", "council-b"))
    assert "access-control-allow-origin" not in refused
    assert refused["vary"] == "Origin"


def test_preflight_for_an_origin_some_council_allows() -> None:
    answer = POLICY.preflight("https://b.example", "POST", "Authorization, Content-Type", None)
    assert answer.allowed
    got = headers(list(answer.headers))
    assert got["access-control-allow-origin"] == "https://b.example"
    assert "POST" in got["access-control-allow-methods"]
    assert got["access-control-allow-headers"] == "authorization, content-type"
    assert got["access-control-max-age"] == "600"


def test_preflight_naming_a_tenant_checks_that_tenant() -> None:
    assert not POLICY.preflight("https://b.example", "GET", "", "council-a").allowed
    assert POLICY.preflight("https://b.example", "GET", "", "council-b").allowed


def test_preflight_refusals_say_why() -> None:
    assert POLICY.preflight("https://evil.example", "GET", "", None).reason == "origin not allowed"
    assert "method" in POLICY.preflight("https://b.example", "TRACE", "", None).reason
    refused = POLICY.preflight("https://b.example", "GET", "x-evil, authorization", None)
    assert not refused.allowed
    assert "x-evil" in refused.reason


def test_empty_configuration_allows_nothing() -> None:
    policy = CorsPolicy.from_config({})
    assert not policy.enabled
    assert not policy.allows("https://a.example", "council-a")
    assert not policy.preflight("https://a.example", "GET", "", None).allowed


def test_credentials_flag_is_optional() -> None:
    policy = CorsPolicy.from_config({"*": ["https://x.example"]}, allow_credentials=True)
    got = headers(policy.response_headers("https://x.example", None))
    assert got["access-control-allow-credentials"] == "true"
    assert "access-control-allow-credentials" not in headers(
        POLICY.response_headers("https://app.hearth.example", None)
    )
