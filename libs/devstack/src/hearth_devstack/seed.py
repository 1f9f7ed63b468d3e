"""The demo council: logins kept in the data folder, created through the gateway's public API.

Seeding is idempotent: a tenant or user that already exists (409) is reused, and every
demo login is then checked by logging in, so the printed credentials are known to work.
The passwords are random per data folder and stored beside the services' data
(`demo-credentials.json`, readable by the owner only).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import jwt

CREDENTIALS_FILE = "demo-credentials.json"
MAX_RATE_LIMIT_WAIT = 30.0  # seconds a seed waits out the gateway's sign-in rate limit
PLATFORM_TENANT = "platform"
DEMO_TENANT = "demo-council"
DEMO_TENANT_NAME = "Demo Council"
DEMO_TIMEZONE = "Europe/London"
DEMO_DOMAIN = "demo-council.example"
# Roles of the demo users, in the order they are printed; the council admin comes with the tenant.
DEMO_ROLES: tuple[tuple[str, str], ...] = (
    ("council_admin", "Dana Admin"),
    ("oncall", "Omar Oncall"),
    ("professional", "Priya Professional"),
    ("resident", "Rose Resident"),
)
# More residents of the demo council (Rose is the first), keyed as in the credentials file.
DEMO_RESIDENTS: tuple[tuple[str, str], ...] = (
    ("arthur", "Arthur Ashby"),
    ("bea", "Bea Bell"),
)


class SeedError(RuntimeError):
    """The demo council could not be created or its logins do not work."""


@dataclass(frozen=True)
class Login:
    tenant: str
    email: str
    password: str
    role: str
    display_name: str
    user_id: str | None = None


@dataclass(frozen=True)
class DemoCredentials:
    platform_admin: Login
    tenant_slug: str = DEMO_TENANT
    tenant_name: str = DEMO_TENANT_NAME
    timezone: str = DEMO_TIMEZONE
    users: dict[str, Login] = field(default_factory=dict)
    # The residents besides the demo resident (DEMO_RESIDENTS), by key.
    residents: dict[str, Login] = field(default_factory=dict)

    @classmethod
    def generate(cls) -> DemoCredentials:
        admin = Login(
            tenant=PLATFORM_TENANT,
            email="platform-admin@hearth.example",
            password=new_password(),
            role="platform_admin",
            display_name="Platform Admin",
        )
        users = {
            role: Login(
                tenant=DEMO_TENANT,
                email=f"{role.replace('_', '-')}@{DEMO_DOMAIN}",
                password=new_password(),
                role=role,
                display_name=name,
            )
            for role, name in DEMO_ROLES
        }
        return cls(platform_admin=admin, users=users, residents=_new_residents({}))

    @classmethod
    def load_or_create(cls, data_dir: Path) -> DemoCredentials:
        """The credentials stored in `data_dir`, or new ones stored there now."""
        path = data_dir / CREDENTIALS_FILE
        if path.exists():
            creds = cls.from_json(json.loads(path.read_text(encoding="utf-8")), path)
            residents = _new_residents(creds.residents)
            if residents != creds.residents:
                # A folder from before the demo had these residents keeps its logins.
                creds = replace(creds, residents=residents)
                creds.save(data_dir)
            return creds
        creds = cls.generate()
        creds.save(data_dir)
        return creds

    def save(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / CREDENTIALS_FILE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2)
        tmp.replace(path)

    @classmethod
    def from_json(cls, raw: Any, source: Path | str = "credentials") -> DemoCredentials:
        try:
            users = {role: Login(**value) for role, value in raw["users"].items()}
            residents = {key: Login(**value) for key, value in raw.get("residents", {}).items()}
            creds = cls(
                platform_admin=Login(**raw["platform_admin"]),
                tenant_slug=str(raw["tenant_slug"]),
                tenant_name=str(raw["tenant_name"]),
                timezone=str(raw["timezone"]),
                users=users,
                residents=residents,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise SeedError(
                f"{source} is not a demo credentials file ({exc!r}); remove it"
            ) from exc
        missing = [role for role, _ in DEMO_ROLES if role not in users]
        if missing:
            raise SeedError(f"{source} lacks demo users {missing}; remove it")
        return creds


def _new_residents(known: dict[str, Login]) -> dict[str, Login]:
    """`known` plus a new login for every demo resident it lacks."""
    residents = dict(known)
    for key, name in DEMO_RESIDENTS:
        if key not in residents:
            residents[key] = Login(
                tenant=DEMO_TENANT,
                email=f"{key}@{DEMO_DOMAIN}",
                password=new_password(),
                role="resident",
                display_name=name,
            )
    return residents


def new_password() -> str:
    """A random password with upper, lower case letters and digits, 26 characters."""
    return f"Hearth-{secrets.token_hex(8)}-Demo{secrets.randbelow(90) + 10}"


@dataclass(frozen=True)
class SeedResult:
    credentials: DemoCredentials
    tenant_created: bool
    users_created: tuple[str, ...]

    @property
    def logins(self) -> dict[str, Login]:
        return self.credentials.users


def describe(response: httpx.Response) -> str:
    body = response.text.strip().replace("\n", " ")[:300]
    request = response.request
    return f"HTTP {response.status_code} from {request.method} {request.url.path}: {body}"


def post(
    client: httpx.Client, path: str, body: dict[str, Any], token: str | None = None
) -> httpx.Response:
    """POST through the gateway, waiting out its rate limits (429 with Retry-After)."""
    return send(client, "POST", path, body, token)


def send(
    client: httpx.Client,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    token: str | None = None,
) -> httpx.Response:
    """A request through the gateway, waiting out its rate limits (429 with Retry-After)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    waited = 0.0
    while True:
        response = client.request(method, path, json=body, headers=headers)
        if response.status_code != 429 or waited >= MAX_RATE_LIMIT_WAIT:
            return response
        try:
            delay = float(response.headers.get("Retry-After", "1"))
        except ValueError:
            delay = 1.0
        delay = min(max(delay, 0.1), MAX_RATE_LIMIT_WAIT - waited)
        time.sleep(delay)
        waited += delay


def login(client: httpx.Client, who: Login) -> str:
    """Log in through the gateway; returns the access token."""
    response = post(
        client,
        "/v1/auth/token",
        {"tenant": who.tenant, "email": who.email, "password": who.password},
    )
    if response.status_code != 200:
        raise SeedError(
            f"login of {who.email} in tenant {who.tenant!r} failed: {describe(response)}"
        )
    token = response.json().get("access_token")
    if not isinstance(token, str) or not token:
        raise SeedError(f"login of {who.email} returned no access_token: {describe(response)}")
    return token


def token_subject(token: str) -> str | None:
    """The `sub` claim of an access token, read without checking the signature.

    Only for showing which user id a demo login has; never use this to trust a token.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) else None


def seed_demo(
    gateway_url: str,
    credentials: DemoCredentials,
    *,
    client: httpx.Client | None = None,
    timeout: float = 30.0,
) -> SeedResult:
    """Create (or find) the demo council and its users through the gateway's public API."""
    own_client = client is None
    http = client or httpx.Client(base_url=gateway_url, timeout=timeout)
    try:
        return _seed(http, credentials)
    except httpx.HTTPError as exc:
        raise SeedError(f"cannot reach the gateway at {gateway_url}: {exc!r}") from exc
    finally:
        if own_client:
            http.close()


def _seed(http: httpx.Client, creds: DemoCredentials) -> SeedResult:
    try:
        platform_token = login(http, creds.platform_admin)
    except SeedError as exc:
        raise SeedError(
            f"{exc}. The platform admin is created by identity at its first start from "
            "IDENTITY_BOOTSTRAP_ADMIN_EMAIL/PASSWORD; a data folder made with other "
            "credentials keeps its own: use that folder's demo-credentials.json or a new folder."
        ) from exc
    admin = creds.users["council_admin"]
    response = post(
        http,
        "/v1/tenants",
        {
            "slug": creds.tenant_slug,
            "name": creds.tenant_name,
            "timezone": creds.timezone,
            "admin": {
                "email": admin.email,
                "password": admin.password,
                "display_name": admin.display_name,
            },
        },
        platform_token,
    )
    if response.status_code not in (200, 201, 409):
        raise SeedError(f"creating tenant {creds.tenant_slug!r} failed: {describe(response)}")
    tenant_created = response.status_code != 409

    try:
        admin_token = login(http, admin)
    except SeedError as exc:
        raise SeedError(
            f"{exc}. Tenant {creds.tenant_slug!r} exists with a council admin this data "
            "folder's demo-credentials.json does not match: use a new data folder."
        ) from exc

    created: list[str] = []
    users = dict(creds.users)
    users["council_admin"] = replace(admin, user_id=token_subject(admin_token))
    for role, _ in DEMO_ROLES:
        if role == "council_admin":
            continue
        user = creds.users[role]
        response = post(
            http,
            "/v1/users",
            {
                "email": user.email,
                "password": user.password,
                "display_name": user.display_name,
                "role": role,
            },
            admin_token,
        )
        if response.status_code not in (200, 201, 409):
            raise SeedError(f"creating demo {role} {user.email} failed: {describe(response)}")
        if response.status_code != 409:
            created.append(role)
        users[role] = replace(user, user_id=token_subject(login(http, user)))
    return SeedResult(
        credentials=replace(creds, users=users),
        tenant_created=tenant_created,
        users_created=tuple(created),
    )
