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
    OpenCollection,
    Page,
    Query,
    Range,
    Store,
    StoreError,
)
from hearth_kit.store.sqlite import SqliteStore
from hearth_kit.store.writes import delete_where, merge_fields, save_versioned

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
    "OpenCollection",
    "Page",
    "Query",
    "Range",
    "SqliteStore",
    "Store",
    "StoreError",
    "delete_where",
    "merge_fields",
    "open_store",
    "save_versioned",
]
