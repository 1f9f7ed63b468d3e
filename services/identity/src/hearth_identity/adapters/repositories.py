"""Repositories on the store port. Every call on council data is scoped by tenant id;
events are stored in the outbox of the aggregate they belong to, in the same write."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hearth_contracts.envelope import EventData
from hearth_identity.adapters import documents as d
from hearth_identity.domain import Circle, LoginThrottle, RefreshFamily, Tenant, User
from hearth_kit.messaging import outbox_entry
from hearth_kit.store.port import Collection, CollectionSpec, Document, Index, Query, Store

T = TypeVar("T")
PRODUCER = "identity"

TENANTS = CollectionSpec("tenants", indexes=(Index(("slug",), unique=True),))
USERS = CollectionSpec("users", indexes=(Index(("email",), unique=True), Index(("role",))))
SESSIONS = CollectionSpec(
    "sessions", indexes=(Index(("user_id", "active")),), expires_field="purge_at"
)
CIRCLES = CollectionSpec("circles")
THROTTLES = CollectionSpec("login_throttles", expires_field="forget_at")
SIGNING_KEYS = CollectionSpec("signing_keys")
ALL_SPECS = (TENANTS, USERS, SESSIONS, CIRCLES, THROTTLES, SIGNING_KEYS)
# Collections whose documents carry outbox events (the relay watches these).
OUTBOX_SPECS = (TENANTS, USERS, SESSIONS, CIRCLES)


@dataclass
class Loaded(Generic[T]):
    """An aggregate with the version it was loaded at (for compare-and-swap saves)."""

    item: T
    version: int


# An event and the subject it is about (the resident or user it concerns).
Event = tuple[EventData, str]


def entries(tenant_id: str, events: Sequence[Event]) -> list[dict[str, Any]]:
    return [
        outbox_entry(data, tenant_id=tenant_id, subject=subject, producer=PRODUCER)
        for data, subject in events
    ]


class TenantRepository:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def get(self, tenant_id: str) -> Tenant | None:
        doc = await self.collection.get(d.REGISTRY, tenant_id)
        return d.tenant_from(doc) if doc else None

    async def by_slug(self, slug: str) -> Tenant | None:
        page = await self.collection.find(d.REGISTRY, Query(where={"slug": slug}, limit=1))
        return d.tenant_from(page.items[0]) if page.items else None

    async def insert(self, tenant: Tenant, events: Sequence[Event] = ()) -> None:
        """Raises DuplicateKey if the slug (or id) is taken."""
        await self.collection.insert(d.tenant_doc(tenant), events=entries(tenant.id, events))


class UserRepository:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def get(self, tenant_id: str, user_id: str) -> Loaded[User] | None:
        doc = await self.collection.get(tenant_id, user_id)
        return Loaded(d.user_from(doc), doc["version"]) if doc else None

    async def by_email(self, tenant_id: str, email: str) -> Loaded[User] | None:
        page = await self.collection.find(tenant_id, Query(where={"email": email}, limit=1))
        if not page.items:
            return None
        doc = page.items[0]
        return Loaded(d.user_from(doc), doc["version"])

    async def page(
        self, tenant_id: str, *, role: str | None, limit: int, cursor: str | None
    ) -> tuple[list[User], str | None]:
        where = {"role": role} if role else {}
        page = await self.collection.find(
            tenant_id, Query(where=where, order_by="id", limit=limit, cursor=cursor)
        )
        return [d.user_from(doc) for doc in page.items], page.next_cursor

    async def exists_with_role(self, tenant_id: str, role: str) -> bool:
        page = await self.collection.find(tenant_id, Query(where={"role": role}, limit=1))
        return bool(page.items)

    async def insert(self, user: User, events: Sequence[Event] = ()) -> Loaded[User]:
        """Raises DuplicateKey if the email is taken in the tenant."""
        doc = await self.collection.insert(d.user_doc(user), events=entries(user.tenant_id, events))
        return Loaded(user, doc["version"])

    async def save(self, loaded: Loaded[User], events: Sequence[Event] = ()) -> Loaded[User]:
        """Raises ConcurrencyConflict if someone saved it since it was loaded."""
        user = loaded.item
        doc = await self.collection.save(
            d.user_doc(user),
            expected_version=loaded.version,
            events=entries(user.tenant_id, events),
        )
        return Loaded(user, doc["version"])

    async def delete(self, tenant_id: str, user_id: str) -> bool:
        return await self.collection.delete(tenant_id, user_id)


class SessionRepository:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def get(self, tenant_id: str, family_id: str) -> Loaded[RefreshFamily] | None:
        doc = await self.collection.get(tenant_id, family_id)
        return Loaded(d.family_from(doc), doc["version"]) if doc else None

    async def insert(self, family: RefreshFamily) -> None:
        await self.collection.insert(d.family_doc(family))

    async def save(
        self, loaded: Loaded[RefreshFamily], events: Sequence[Event] = ()
    ) -> Loaded[RefreshFamily]:
        family = loaded.item
        doc = await self.collection.save(
            d.family_doc(family),
            expected_version=loaded.version,
            events=entries(family.tenant_id, events),
        )
        return Loaded(loaded.item, doc["version"])

    async def active_for(self, tenant_id: str, user_id: str) -> list[Loaded[RefreshFamily]]:
        result: list[Loaded[RefreshFamily]] = []
        cursor: str | None = None
        while True:
            page = await self.collection.find(
                tenant_id,
                Query(where={"user_id": user_id, "active": True}, limit=500, cursor=cursor),
            )
            result.extend(Loaded(d.family_from(doc), doc["version"]) for doc in page.items)
            cursor = page.next_cursor
            if cursor is None:
                return result


class CircleRepository:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def get(self, tenant_id: str, resident_id: str) -> Loaded[Circle] | None:
        doc = await self.collection.get(tenant_id, resident_id)
        return Loaded(d.circle_from(doc), doc["version"]) if doc else None

    async def get_or_new(self, tenant_id: str, resident_id: str) -> Loaded[Circle]:
        """The stored circle, or an empty one at version 0 (inserted on first save)."""
        found = await self.get(tenant_id, resident_id)
        return found or Loaded(Circle(tenant_id=tenant_id, resident_id=resident_id), 0)

    async def save(self, loaded: Loaded[Circle], events: Sequence[Event] = ()) -> Loaded[Circle]:
        """Insert (version 0) or compare-and-swap save. Raises DuplicateKey when a first
        insert races another, ConcurrencyConflict when a save does."""
        circle = loaded.item
        doc = d.circle_doc(circle)
        outbox = entries(circle.tenant_id, events)
        if loaded.version == 0:
            saved = await self.collection.insert(doc, events=outbox)
        else:
            saved = await self.collection.save(doc, expected_version=loaded.version, events=outbox)
        return Loaded(circle, saved["version"])


def throttle_key(tenant_slug: str, email: str) -> str:
    """Throttles are keyed by what was typed, hashed: no address is stored for a stranger."""
    return hashlib.sha256(f"{tenant_slug}\x00{email}".encode()).hexdigest()


class ThrottleRepository:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def get(self, scope: str, key: str) -> Loaded[LoginThrottle] | None:
        doc = await self.collection.get(scope, key)
        return Loaded(d.throttle_from(doc), doc["version"]) if doc else None

    async def put(
        self, scope: str, key: str, loaded: Loaded[LoginThrottle], forget_at: float
    ) -> None:
        """Insert (version 0) or save; raises DuplicateKey/ConcurrencyConflict on races."""
        doc = d.throttle_doc(scope, key, loaded.item, forget_at)
        if loaded.version == 0:
            await self.collection.insert(doc)
        else:
            await self.collection.save(doc, expected_version=loaded.version)

    async def clear(self, scope: str, key: str) -> None:
        await self.collection.delete(scope, key)


@dataclass(frozen=True)
class StoredKey:
    kid: str
    created_at: float
    public_jwk: dict[str, Any]
    private_encrypted: str


class KeyRepository:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def all(self) -> list[StoredKey]:
        keys: list[StoredKey] = []
        cursor: str | None = None
        while True:
            page = await self.collection.find(d.REGISTRY, Query(limit=100, cursor=cursor))
            keys.extend(
                StoredKey(doc["id"], doc["created_at"], doc["public_jwk"], doc["private_encrypted"])
                for doc in page.items
            )
            cursor = page.next_cursor
            if cursor is None:
                return keys

    async def insert(self, key: StoredKey) -> None:
        doc: Document = {
            "id": key.kid,
            "tenant_id": d.REGISTRY,
            "created_at": key.created_at,
            "public_jwk": key.public_jwk,
            "private_encrypted": key.private_encrypted,
        }
        await self.collection.insert(doc)

    async def delete(self, kid: str) -> None:
        await self.collection.delete(d.REGISTRY, kid)


@dataclass
class Repositories:
    tenants: TenantRepository
    users: UserRepository
    sessions: SessionRepository
    circles: CircleRepository
    throttles: ThrottleRepository
    keys: KeyRepository


CollectionOpener = Callable[[CollectionSpec, bool], Awaitable[Collection]]


async def open_repositories(store: Store, opener: CollectionOpener | None = None) -> Repositories:
    """Open identity's collections. `opener(spec, outbox)` lets the service runtime know
    which collections carry outbox events (by default: the store, no relay)."""

    async def plain(spec: CollectionSpec, outbox: bool) -> Collection:
        return await store.collection(spec)

    open_one = opener or plain
    cols = {spec.name: await open_one(spec, spec in OUTBOX_SPECS) for spec in ALL_SPECS}
    return Repositories(
        tenants=TenantRepository(cols[TENANTS.name]),
        users=UserRepository(cols[USERS.name]),
        sessions=SessionRepository(cols[SESSIONS.name]),
        circles=CircleRepository(cols[CIRCLES.name]),
        throttles=ThrottleRepository(cols[THROTTLES.name]),
        keys=KeyRepository(cols[SIGNING_KEYS.name]),
    )
