"""The store port: the small, aggregate-oriented storage API every repository is written on.

Documents are JSON-shaped dicts. Every document has `id`, `tenant_id` and `version`; the
store owns two more fields: `outbox` (events waiting to be published, written in the same
atomic write as the state change) and, for timer collections, the lease fields.
Documents read back carry `id`, `tenant_id`, `version` and `outbox`, plus `lease_owner` and
`lease_until` only while leased; other values come back in their JSON form (a datetime is
stored as its string), the same on every adapter.

Two adapters implement it (SQLite, MongoDB); one contract suite tests both.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Document = dict[str, Any]


class StoreError(Exception):
    """Base of the errors the store port raises."""


class DuplicateKey(StoreError):
    """An insert would break a declared unique key (or reuse an id)."""

    def __init__(self, collection: str, key: Sequence[str]) -> None:
        super().__init__(f"duplicate key on {collection}({', '.join(key)})")
        self.collection = collection
        self.key = tuple(key)


class ConcurrencyConflict(StoreError):
    """A save lost a compare-and-swap: someone else saved the aggregate first."""

    def __init__(self, collection: str, doc_id: str, expected_version: int) -> None:
        super().__init__(f"{collection}/{doc_id} is no longer at version {expected_version}")
        self.collection = collection
        self.doc_id = doc_id
        self.expected_version = expected_version


class NotFound(StoreError):
    def __init__(self, collection: str, doc_id: str) -> None:
        super().__init__(f"{collection}/{doc_id} not found")


FieldType = Literal["str", "int", "float", "bool"]


@dataclass(frozen=True)
class Index:
    """A declared index. Tenant-scoped indexes put `tenant_id` first automatically.

    A unique index constrains documents that have every field of the key; documents that
    leave a field out are not constrained (leave the field out rather than storing null:
    MongoDB counts an explicit null as a value).
    """

    fields: tuple[str, ...]
    unique: bool = False
    tenant_scoped: bool = True

    def columns(self) -> tuple[str, ...]:
        if self.tenant_scoped and (not self.fields or self.fields[0] != "tenant_id"):
            return ("tenant_id", *self.fields)
        return self.fields

    @property
    def name(self) -> str:
        return "ix_" + "_".join(c.replace(".", "_") for c in self.columns())


@dataclass(frozen=True)
class CollectionSpec:
    """A collection and what it promises: indexed fields, unique keys, timers, expiry."""

    name: str
    indexes: tuple[Index, ...] = ()
    # Field holding a due time (epoch seconds) for `claim_due`; None if not a timer collection.
    due_field: str | None = None
    # Field holding an expiry time (epoch seconds) for `expire`; None if nothing expires.
    expires_field: str | None = None

    def indexed_fields(self) -> set[str]:
        names = {f for ix in self.indexes for f in ix.fields}
        if self.due_field:
            names.add(self.due_field)
        if self.expires_field:
            names.add(self.expires_field)
        return names


@dataclass(frozen=True)
class Range:
    """Inclusive/exclusive bounds for a range filter on one indexed field."""

    gt: Any = None
    gte: Any = None
    lt: Any = None
    lte: Any = None


@dataclass(frozen=True)
class Page:
    items: list[Document]
    # Opaque cursor for the next page (None when there is none).
    next_cursor: str | None = None


@dataclass
class Query:
    """Equality and range filters on declared indexed fields, one order, a limit, a cursor."""

    where: Mapping[str, Any] = field(default_factory=dict)
    ranges: Mapping[str, Range] = field(default_factory=dict)
    order_by: str = "id"
    descending: bool = False
    limit: int = 50
    cursor: str | None = None


class Collection(abc.ABC):
    """One collection of aggregates. Every tenant-facing call is scoped by tenant id."""

    spec: CollectionSpec

    @abc.abstractmethod
    async def get(self, tenant_id: str, doc_id: str) -> Document | None:
        """Load one aggregate of this tenant (None if absent or another tenant's)."""

    @abc.abstractmethod
    async def find(self, tenant_id: str, query: Query) -> Page:
        """Find aggregates of this tenant by declared indexed fields, ordered, paged."""

    @abc.abstractmethod
    async def insert(self, doc: Document, *, events: Sequence[Document] = ()) -> Document:
        """Insert a new aggregate at version 1, with `events` in its outbox, atomically.

        Raises DuplicateKey if its id or any declared unique key is taken.
        """

    @abc.abstractmethod
    async def save(
        self, doc: Document, *, expected_version: int, events: Sequence[Document] = ()
    ) -> Document:
        """Replace an aggregate if it is still at `expected_version`; append `events` to its
        outbox in the same write. Returns the saved document (version + 1).

        Raises ConcurrencyConflict if the stored version differs (or it was deleted), and
        DuplicateKey if the change would break a unique key.
        """

    @abc.abstractmethod
    async def delete(self, tenant_id: str, doc_id: str) -> bool:
        """Delete one aggregate; True if it existed."""

    # ---- outbox -------------------------------------------------------------------------
    @abc.abstractmethod
    async def claim_outbox(
        self, *, now: float, owner: str, lease_seconds: float, limit: int
    ) -> list[Document]:
        """Claim aggregates (any tenant) with unpublished events for one relay, oldest first.

        A guarded conditional update, so two relays never publish the same events; a relay
        that dies mid-publish loses its lease after `lease_seconds` and another retakes it.
        """

    @abc.abstractmethod
    async def ack_outbox(self, tenant_id: str, doc_id: str, event_ids: Sequence[str]) -> None:
        """Remove published events from an aggregate's outbox and release the relay lease,
        without touching its version (events appended meanwhile stay pending)."""

    # ---- timers -------------------------------------------------------------------------
    @abc.abstractmethod
    async def claim_due(
        self, *, now: float, owner: str, lease_seconds: float, limit: int
    ) -> list[Document]:
        """Claim up to `limit` due documents (any tenant): due_field <= now and not leased
        (or lease expired). A guarded conditional update: each is claimed by one owner.
        The claim sets `lease_owner` and `lease_until`; it does not change `version`.
        """

    @abc.abstractmethod
    async def next_due(self, *, after: float, until: float, limit: int) -> list[Document]:
        """Documents due in (after, until], oldest first, whatever their lease: look-ahead."""

    @abc.abstractmethod
    async def count_due(self, *, now: float) -> tuple[int, float | None]:
        """(count, oldest due time) of documents due at `now` and not leased."""

    # ---- counters and expiry ------------------------------------------------------------
    @abc.abstractmethod
    async def increment(
        self,
        tenant_id: str,
        doc_id: str,
        counters: Mapping[str, float],
        *,
        set_on_insert: Mapping[str, Any] | None = None,
    ) -> None:
        """Atomically add to numeric fields, creating the document if missing."""

    @abc.abstractmethod
    async def expire(self, *, before: float) -> int:
        """Delete documents whose expires_field is earlier than `before`; returns how many."""


class OpenCollection(Protocol):
    """How a service's repositories open their collections (`ServiceRuntime.collection`
    is one): with `outbox`, a relay publishes the events saved in the collection."""

    async def __call__(self, spec: CollectionSpec, *, outbox: bool) -> Collection: ...


class Store(abc.ABC):
    """One service's database."""

    kind: str

    @abc.abstractmethod
    async def collection(self, spec: CollectionSpec) -> Collection:
        """Open a collection, creating its declared indexes if needed."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise if the database cannot be reached (for /readyz)."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    def describe(self) -> str:
        """Where this store lives, for start-up messages (no secrets)."""

    # ---- outbox wake-ups (in this process) ----------------------------------------------
    def on_outbox(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from the event loop) whenever this process adds events to an
        outbox, so a relay can publish at once instead of on its next poll."""
        self._outbox_listeners().append(listener)

    def notify_outbox(self) -> None:
        for listener in self._outbox_listeners():
            listener()

    def _outbox_listeners(self) -> list[Callable[[], None]]:
        listeners: list[Callable[[], None]] = vars(self).setdefault("_outbox_wakeups", [])
        return listeners
