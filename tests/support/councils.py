"""Councils and people made through the gateway, the way client apps make them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx

from hearth_devstack.seed import SeedResult

PASSWORD = "Lantern-Orchard-2026"


@dataclass
class Person:
    id: str
    email: str
    role: str
    token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Council:
    http: httpx.Client
    slug: str
    id: str
    admin: Person
    people: dict[str, Person] = field(default_factory=dict)

    def sign_in(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        response = self.http.post(
            "/v1/auth/token", json={"tenant": self.slug, "email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        body: dict[str, str] = response.json()
        return body

    def add(self, role: str, *, by: Person | None = None, name: str | None = None) -> Person:
        email = f"{role}-{uuid.uuid4().hex[:8]}@{self.slug}.example"
        created = self.http.post(
            "/v1/users",
            json={
                "email": email,
                "password": PASSWORD,
                "display_name": name or f"{role.title()} Person",
                "role": role,
            },
            headers=(by or self.admin).auth,
        )
        assert created.status_code == 201, created.text
        tokens = self.sign_in(email)
        person = Person(
            created.json()["id"], email, role, tokens["access_token"], tokens["refresh_token"]
        )
        self.people[person.id] = person
        return person


def join_circle(council: Council, resident: Person, relationship: str = "family") -> Person:
    """Invite someone into a resident's circle and let them join, as a family member does."""
    invited = council.http.post(
        f"/v1/residents/{resident.id}/circle/invitations",
        json={"relationship": relationship},
        headers=resident.auth,
    )
    assert invited.status_code == 201, invited.text
    email = f"{relationship}-{uuid.uuid4().hex[:8]}@{council.slug}.example"
    joined = council.http.post(
        "/v1/circle/join",
        json={
            "code": invited.json()["code"],
            "tenant": council.slug,
            "email": email,
            "password": PASSWORD,
            "display_name": f"{relationship.title()} Member",
        },
    )
    assert joined.status_code == 201, joined.text
    tokens = council.sign_in(email)
    me = council.http.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    person = Person(
        me.json()["id"], email, me.json()["role"], tokens["access_token"], tokens["refresh_token"]
    )
    council.people[person.id] = person
    return person


def platform_token(http: httpx.Client, demo: SeedResult) -> str:
    admin = demo.credentials.platform_admin
    response = http.post(
        "/v1/auth/token",
        json={"tenant": admin.tenant, "email": admin.email, "password": admin.password},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def new_council(http: httpx.Client, demo: SeedResult, label: str) -> Council:
    slug = f"{label}-{uuid.uuid4().hex[:6]}"
    admin_email = f"admin@{slug}.example"
    created = http.post(
        "/v1/tenants",
        json={
            "slug": slug,
            "name": f"{label.title()} Council",
            "timezone": "Europe/London",
            "admin": {"email": admin_email, "password": PASSWORD, "display_name": "Council Admin"},
        },
        headers={"Authorization": f"Bearer {platform_token(http, demo)}"},
    )
    assert created.status_code == 201, created.text
    council = Council(http=http, slug=slug, id=created.json()["id"], admin=None)  # type: ignore[arg-type]
    tokens = council.sign_in(admin_email)
    me = http.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200, me.text
    council.admin = Person(
        me.json()["id"],
        admin_email,
        "council_admin",
        tokens["access_token"],
        tokens["refresh_token"],
    )
    return council
