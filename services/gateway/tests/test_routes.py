"""The route table: which service owns each public path, and which routes are public."""

from __future__ import annotations

import pytest

from hearth_gateway.domain.routes import (
    ROUTES,
    InvalidPath,
    Kind,
    Service,
    is_login,
    is_public,
    match_route,
    split_path,
)


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/v1/auth/token", Service.IDENTITY),
        ("/v1/auth/jwks", Service.IDENTITY),
        ("/v1/me", Service.IDENTITY),
        ("/v1/me/", Service.IDENTITY),
        ("/v1/users", Service.IDENTITY),
        ("/v1/users/u-1", Service.IDENTITY),
        ("/v1/users/u-1/role", Service.IDENTITY),
        ("/v1/users/u-1/deactivate", Service.IDENTITY),
        ("/v1/users/u-1/contact-methods", Service.ALERTS),
        ("/v1/users/u-1/contact-methods/cm-9", Service.ALERTS),
        ("/v1/residents/r-1/circle", Service.IDENTITY),
        ("/v1/residents/r-1/circle/invitations/i-1", Service.IDENTITY),
        ("/v1/circle/join", Service.IDENTITY),
        ("/v1/tenants", Service.IDENTITY),
        ("/v1/tenants/t-1/settings", Service.IDENTITY),
        ("/v1/residents/r-1/checkin-schedule", Service.CHECKINS),
        ("/v1/residents/r-1/checkins", Service.CHECKINS),
        ("/v1/residents/r-1/checkins/c-1", Service.CHECKINS),
        ("/v1/residents/r-1/help", Service.CHECKINS),
        ("/v1/alerts", Service.ALERTS),
        ("/v1/alerts/a-1/acknowledge", Service.ALERTS),
        ("/v1/alerts/stream", Service.ALERTS),
        ("/v1/oncall/rota", Service.ALERTS),
        ("/v1/escalation-policies/p-1", Service.ALERTS),
        ("/v1/conversations/c-1/messages", Service.CHAT),
        ("/v1/support/queue", Service.CHAT),
        ("/v1/safeguarding/phrases", Service.CHAT),
        ("/v1/chat/ws", Service.CHAT),
    ],
)
def test_each_path_goes_to_its_owner(path: str, service: Service) -> None:
    match = match_route(path)
    assert match is not None
    assert match.service is service


@pytest.mark.parametrize(
    "path",
    [
        "/v1",
        "/v1/",
        "/v1/nothing",
        "/v1/users/u-1/other",  # only the user routes identity serves
        "/v1/tenantsx",  # a prefix rule stops at a segment boundary
        "/v1/residents/r-1",
        "/v1/residents/r-1/helpers",
        "/v1/chat/ws/extra",
        "/v2/me",
    ],
)
def test_paths_no_service_owns(path: str) -> None:
    assert match_route(path) is None


def test_kinds_mark_websocket_and_stream_routes() -> None:
    assert match_route("/v1/chat/ws").kind is Kind.WEBSOCKET  # type: ignore[union-attr]
    assert match_route("/v1/alerts/stream").kind is Kind.STREAM  # type: ignore[union-attr]
    assert match_route("/v1/alerts").kind is Kind.HTTP  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "path", ["/v1/alerts/../auth/token", "/v1//me", "/v1/./me", "v1/me", "/v1/users/.."]
)
def test_ambiguous_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidPath):
        match_route(path)


def test_split_path_tolerates_one_trailing_slash() -> None:
    assert split_path("/v1/me/") == ("v1", "me")
    assert split_path("/") == ()


def test_more_specific_rules_come_first() -> None:
    # Every rule must be reachable: no earlier rule matches all of a later rule's paths.
    for index, rule in enumerate(ROUTES):
        sample = "/" + "/".join(seg if seg is not None else "x-1" for seg in rule.segments)
        match = match_route(sample)
        assert match is not None
        assert match.pattern == rule.pattern, f"{rule.pattern} shadowed (rule {index})"


@pytest.mark.parametrize(
    ("method", "path", "public"),
    [
        ("POST", "/v1/auth/token", True),
        ("post", "/v1/auth/token/", True),
        ("POST", "/v1/auth/refresh", True),
        ("POST", "/v1/auth/logout", True),
        ("GET", "/v1/auth/jwks", True),
        ("POST", "/v1/circle/join", True),
        ("GET", "/v1/auth/token", False),
        ("POST", "/v1/auth/sessions", False),
        ("GET", "/v1/me", False),
        ("POST", "/v1/circle/leave", False),
    ],
)
def test_public_routes(method: str, path: str, public: bool) -> None:
    assert is_public(method, path) is public


def test_login_route() -> None:
    assert is_login("POST", "/v1/auth/token")
    assert not is_login("POST", "/v1/auth/refresh")
    assert not is_login("GET", "/v1/auth/token")
