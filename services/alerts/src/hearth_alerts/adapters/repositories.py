"""Repositories of the alerts service on the store port, and the kit's projection of
identity's people (`hearth_kit.people.directory`).

Every aggregate is stored as its JSON form with the store's `id`, `tenant_id` and
`version`; events to publish go into the same write (`events=`, the outbox).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from hearth_alerts.domain.alert import Alert
from hearth_alerts.domain.circle import Circle
from hearth_alerts.domain.contacts import ContactBook
from hearth_alerts.domain.escalation import CouncilSettings, Policy
from hearth_alerts.domain.notification import Notification
from hearth_alerts.domain.rota import Rota
from hearth_kit.people.directory import Directory
from hearth_kit.store import (
    Collection,
    CollectionSpec,
    ConcurrencyConflict,
    DuplicateKey,
    Index,
    Query,
    Store,
)
from hearth_kit.store.shared import body_of

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

ALERTS = CollectionSpec(
    name="alerts",
    indexes=(
        Index(("dedup_key",), unique=True),
        Index(("status", "raised_at")),
        Index(("raised_at",)),
        Index(("resident_id", "raised_at")),
    ),
    due_field="escalation_due",
)
NOTIFICATIONS = CollectionSpec(
    name="notifications",
    indexes=(Index(("alert_id", "created_at")), Index(("status", "created_at"))),
    due_field="next_attempt_at",
)
ROTAS = CollectionSpec(name="rotas")
POLICIES = CollectionSpec(name="policies", indexes=(Index(("name",)),))
SETTINGS = CollectionSpec(name="council_settings")
CONTACTS = CollectionSpec(name="contacts")
CIRCLES = CollectionSpec(name="circles")

ROTA_ID = "rota"
SETTINGS_ID = "settings"
# How often a read-modify-write is retried when another writer saved first.
CAS_ATTEMPTS = 8


@dataclass
class Versioned(Generic[M]):
    """An aggregate as loaded, with the version its save must expect."""

    value: M
    version: int


class Repo(Generic[M]):
    """Load, insert and save one kind of aggregate (model `M`) in one collection."""

    def __init__(self, collection: Collection, model: type[M]) -> None:
        self.collection = collection
        self.model = model

    def _to_model(self, doc: dict[str, Any]) -> Versioned[M]:
        body = body_of(doc)
        if "id" in self.model.model_fields:
            body["id"] = doc["id"]
        if "tenant_id" in self.model.model_fields:
            body["tenant_id"] = doc["tenant_id"]
        return Versioned(self.model.model_validate(body), int(doc["version"]))

    def _to_doc(self, tenant_id: str, doc_id: str, value: M) -> dict[str, Any]:
        return {**value.model_dump(mode="json"), "id": doc_id, "tenant_id": tenant_id}

    def load(self, doc: dict[str, Any]) -> Versioned[M]:
        return self._to_model(doc)

    async def get(self, tenant_id: str, doc_id: str) -> Versioned[M] | None:
        doc = await self.collection.get(tenant_id, doc_id)
        return self._to_model(doc) if doc is not None else None

    async def find(self, tenant_id: str, query: Query) -> tuple[list[M], str | None]:
        page = await self.collection.find(tenant_id, query)
        return [self._to_model(d).value for d in page.items], page.next_cursor

    async def insert(
        self, tenant_id: str, doc_id: str, value: M, *, events: Sequence[dict[str, Any]] = ()
    ) -> Versioned[M]:
        saved = await self.collection.insert(self._to_doc(tenant_id, doc_id, value), events=events)
        return Versioned(value, int(saved["version"]))

    async def save(
        self,
        tenant_id: str,
        doc_id: str,
        current: Versioned[M],
        *,
        events: Sequence[dict[str, Any]] = (),
    ) -> Versioned[M]:
        saved = await self.collection.save(
            self._to_doc(tenant_id, doc_id, current.value),
            expected_version=current.version,
            events=events,
        )
        return Versioned(current.value, int(saved["version"]))

    async def delete(self, tenant_id: str, doc_id: str) -> bool:
        return await self.collection.delete(tenant_id, doc_id)

    async def upsert(
        self, tenant_id: str, doc_id: str, change: Callable[[M | None], M]
    ) -> Versioned[M]:
        """Insert or replace with `change(current or None)`, retrying when another
        writer got there first (`change` may run more than once)."""

        async def attempt() -> Versioned[M]:
            current = await self.get(tenant_id, doc_id)
            if current is None:
                try:
                    return await self.insert(tenant_id, doc_id, change(None))
                except DuplicateKey:
                    raise ConcurrencyConflict(self.collection.spec.name, doc_id, 0) from None
            updated = Versioned(change(current.value), current.version)
            return await self.save(tenant_id, doc_id, updated)

        return await retry_on_conflict(attempt)


async def retry_on_conflict(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a read-modify-write again while another writer keeps saving first."""
    for _ in range(CAS_ATTEMPTS - 1):
        try:
            return await attempt()
        except ConcurrencyConflict:
            continue
    return await attempt()


@dataclass
class Repositories:
    alerts: Repo[Alert]
    notifications: Repo[Notification]
    rotas: Repo[Rota]
    policies: Repo[Policy]
    settings: Repo[CouncilSettings]
    contacts: Repo[ContactBook]
    circles: Repo[Circle]
    directory: Directory

    @property
    def outbox_collections(self) -> list[Collection]:
        return [self.alerts.collection, self.notifications.collection]


async def open_repositories(
    store: Store, open_collection: Callable[[CollectionSpec], Awaitable[Collection]] | None = None
) -> Repositories:
    """Open every collection. `open_collection` lets a runtime register the collections
    with outboxes with its relay; others are opened on the store directly."""
    with_outbox = open_collection or store.collection

    async def without_outbox(spec: CollectionSpec, *, outbox: bool = False) -> Collection:
        return await store.collection(spec)

    return Repositories(
        alerts=Repo(await with_outbox(ALERTS), Alert),
        notifications=Repo(await with_outbox(NOTIFICATIONS), Notification),
        rotas=Repo(await store.collection(ROTAS), Rota),
        policies=Repo(await store.collection(POLICIES), Policy),
        settings=Repo(await store.collection(SETTINGS), CouncilSettings),
        contacts=Repo(await store.collection(CONTACTS), ContactBook),
        circles=Repo(await store.collection(CIRCLES), Circle),
        directory=await Directory.open(without_outbox),
    )
