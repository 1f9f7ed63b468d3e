from __future__ import annotations

import base64
import json
import stat
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from hearth_devstack.seed import (
    CREDENTIALS_FILE,
    DEMO_ROLES,
    DemoCredentials,
    SeedError,
    new_password,
    seed_demo,
    token_subject,
)


def fake_token(sub: str) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': sub})}.c2ln"


class FakeGateway:
    """The identity API as the gateway exposes it, in memory."""

    def __init__(self, creds: DemoCredentials) -> None:
        admin = creds.platform_admin
        self.users: dict[tuple[str, str], dict[str, str]] = {
            (admin.tenant, admin.email): {"password": admin.password, "role": "platform_admin"}
        }
        self.tenants: set[str] = set()
        self.fail: dict[str, httpx.Response] = {}
        self.calls: list[str] = []

    def user_id(self, key: tuple[str, str]) -> str:
        return f"id-{key[0]}-{key[1]}"

    def bearer(self, request: httpx.Request) -> tuple[str, str] | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        for key in self.users:
            if fake_token(self.user_id(key)) == token:
                return key
        return None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(f"{request.method} {path}")
        if path in self.fail:
            return self.fail[path]
        body = json.loads(request.content or b"{}")
        if path == "/v1/auth/token":
            key = (body["tenant"], body["email"])
            user = self.users.get(key)
            if user is None or user["password"] != body["password"]:
                return httpx.Response(401, json={"detail": "invalid credentials"})
            return httpx.Response(
                200,
                json={
                    "access_token": fake_token(self.user_id(key)),
                    "refresh_token": "r",
                    "token_type": "bearer",
                    "expires_in": 600,
                },
            )
        caller = self.bearer(request)
        if caller is None:
            return httpx.Response(401, json={"detail": "no token"})
        if path == "/v1/tenants":
            if body["slug"] in self.tenants:
                return httpx.Response(409, json={"detail": "slug taken"})
            self.tenants.add(body["slug"])
            admin = body["admin"]
            self.users[(body["slug"], admin["email"])] = {
                "password": admin["password"],
                "role": "council_admin",
            }
            return httpx.Response(201, json={"slug": body["slug"]})
        if path == "/v1/users":
            key = (caller[0], body["email"])
            if key in self.users:
                return httpx.Response(409, json={"detail": "email taken"})
            self.users[key] = {"password": body["password"], "role": body["role"]}
            return httpx.Response(201, json={"id": self.user_id(key)})
        return httpx.Response(404)


@pytest.fixture
def creds() -> DemoCredentials:
    return DemoCredentials.generate()


def client_for(gateway: FakeGateway) -> httpx.Client:
    return httpx.Client(base_url="http://gateway", transport=httpx.MockTransport(gateway))


def test_first_seed_creates_the_council_and_every_demo_user(creds: DemoCredentials) -> None:
    gateway = FakeGateway(creds)
    result = seed_demo("http://gateway", creds, client=client_for(gateway))
    assert result.tenant_created
    assert result.users_created == ("oncall", "professional", "resident")
    assert creds.tenant_slug in gateway.tenants
    for role, _ in DEMO_ROLES:
        login = result.logins[role]
        assert gateway.users[(creds.tenant_slug, login.email)]["role"] == role
        assert login.user_id == gateway.user_id((creds.tenant_slug, login.email))


def test_second_seed_reuses_what_exists(creds: DemoCredentials) -> None:
    gateway = FakeGateway(creds)
    first = seed_demo("http://gateway", creds, client=client_for(gateway))
    again = seed_demo("http://gateway", creds, client=client_for(gateway))
    assert not again.tenant_created
    assert again.users_created == ()
    assert again.logins == first.logins


def test_wrong_platform_admin_password_explains_the_data_folder(creds: DemoCredentials) -> None:
    gateway = FakeGateway(DemoCredentials.generate())  # identity bootstrapped with others
    with pytest.raises(SeedError, match="data folder") as info:
        seed_demo("http://gateway", creds, client=client_for(gateway))
    assert "401" in str(info.value)
    assert gateway.tenants == set()


def test_existing_council_with_other_admin_is_reported(creds: DemoCredentials) -> None:
    gateway = FakeGateway(creds)
    other = DemoCredentials.generate()
    seed_demo("http://gateway", creds, client=client_for(gateway))
    mixed = DemoCredentials(platform_admin=creds.platform_admin, users=other.users)
    with pytest.raises(SeedError, match="new data folder"):
        seed_demo("http://gateway", mixed, client=client_for(gateway))


@pytest.mark.parametrize("path", ["/v1/tenants", "/v1/users"])
def test_a_refused_creation_stops_the_seed_with_the_reason(
    creds: DemoCredentials, path: str
) -> None:
    gateway = FakeGateway(creds)
    gateway.fail[path] = httpx.Response(422, json={"detail": "timezone unknown"})
    with pytest.raises(SeedError, match=r"422.*timezone unknown"):
        seed_demo("http://gateway", creds, client=client_for(gateway))


def test_login_without_a_token_in_the_answer_is_an_error(creds: DemoCredentials) -> None:
    gateway = FakeGateway(creds)
    gateway.fail["/v1/auth/token"] = httpx.Response(200, json={"token_type": "bearer"})
    with pytest.raises(SeedError, match="no access_token"):
        seed_demo("http://gateway", creds, client=client_for(gateway))


def test_unreachable_gateway_is_a_seed_error(creds: DemoCredentials) -> None:
    with pytest.raises(SeedError, match="cannot reach"):
        seed_demo("http://127.0.0.1:1", creds, timeout=1)


def test_credentials_are_kept_in_the_data_folder_for_the_owner_only(tmp_path: Path) -> None:
    first = DemoCredentials.load_or_create(tmp_path)
    path = tmp_path / CREDENTIALS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert DemoCredentials.load_or_create(tmp_path) == first
    assert DemoCredentials.load_or_create(tmp_path / "other") != first


def test_a_damaged_credentials_file_says_to_remove_it(tmp_path: Path) -> None:
    (tmp_path / CREDENTIALS_FILE).write_text('{"platform_admin": {}}')
    with pytest.raises(SeedError, match="remove it"):
        DemoCredentials.load_or_create(tmp_path)


def test_a_credentials_file_without_a_demo_role_is_refused() -> None:
    raw = asdict(DemoCredentials.generate())
    del raw["users"]["resident"]
    with pytest.raises(SeedError, match="lacks demo users"):
        DemoCredentials.from_json(raw)


def test_passwords_are_random_and_mixed() -> None:
    passwords = {new_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert len(password) >= 16
        assert any(c.isupper() for c in password)
        assert any(c.islower() for c in password)
        assert any(c.isdigit() for c in password)


def test_token_subject_reads_sub_and_tolerates_garbage() -> None:
    assert token_subject(fake_token("user-1")) == "user-1"
    assert token_subject("not-a-token") is None


def test_seed_waits_out_the_sign_in_rate_limit(creds: DemoCredentials) -> None:
    gateway = FakeGateway(creds)
    refusals = iter([httpx.Response(429, headers={"Retry-After": "0.1"})] * 2)

    def limited(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/token":
            refused = next(refusals, None)
            if refused is not None:
                return refused
        return gateway(request)

    client = httpx.Client(base_url="http://gateway", transport=httpx.MockTransport(limited))
    result = seed_demo("http://gateway", creds, client=client)
    assert result.tenant_created
