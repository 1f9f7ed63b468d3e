"""The store port and its two adapters (SQLite embedded, MongoDB in production)."""

from hearth_kit.store.cursor import BadCursor
from hearth_kit.store.factory import open_store
from hearth_kit.store.mongo import MongoStore
from hearth_kit.store.port import (
    Collection,
    CollectionSpec,
    ConcurrencyConflict,
    Document,
    DuplicateKey,
    Index,
    NotFound,
    Page,
    Query,
    Range,
    Store,
    StoreError,
)
from hearth_kit.store.sqlite import SqliteStore

__all__ = [
    "BadCursor",
    "Collection",
    "CollectionSpec",
    "ConcurrencyConflict",
    "Document",
    "DuplicateKey",
    "Index",
    "MongoStore",
    "NotFound",
    "Page",
    "Query",
    "Range",
    "SqliteStore",
    "Store",
    "StoreError",
    "open_store",
]
