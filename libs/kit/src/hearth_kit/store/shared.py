"""Rules both store adapters apply the same way: field names, query checks, identity."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hearth_kit.store.port import CollectionSpec, Document, Query, StoreError

# Fields the store owns: never part of an aggregate's stored body.
RESERVED = frozenset({"id", "tenant_id", "version", "outbox", "lease_owner", "lease_until"})
MAX_PAGE = 1000
_SCALARS = (str, int, float, bool, type(None))


def check_field_name(name: str) -> str:
    """A field name usable in an index or query: letters, digits, `_`, dotted paths."""
    parts = name.split(".")
    if not name or any(not p or not p.replace("_", "").isalnum() for p in parts):
        raise StoreError(f"invalid field name {name!r}")
    return name


def _check_scalar(collection: str, name: str, value: Any) -> None:
    if not isinstance(value, _SCALARS):
        raise StoreError(
            f"{collection}: {name!r} compares with a {type(value).__name__}; "
            "only strings, numbers, booleans and null are allowed"
        )


def check_query(spec: CollectionSpec, query: Query) -> int:
    """Refuse undeclared fields and non-scalar values; return the page size to use."""
    allowed = spec.indexed_fields() | {"id"}
    for name in (*query.where, *query.ranges, query.order_by):
        if name not in allowed:
            raise StoreError(f"{spec.name}: {name!r} is not a declared indexed field")
        check_field_name(name)
    for name, value in query.where.items():
        _check_scalar(spec.name, name, value)
    for name, rng in query.ranges.items():
        for bound in (rng.gt, rng.gte, rng.lt, rng.lte):
            if bound is not None:
                _check_scalar(spec.name, name, bound)
    return max(1, min(query.limit, MAX_PAGE))


def check_identity(spec: CollectionSpec, doc: Document) -> None:
    """Every aggregate names its tenant and its id, both non-empty strings."""
    for name in ("tenant_id", "id"):
        value = doc.get(name)
        if not isinstance(value, str) or not value:
            raise StoreError(f"{spec.name}: document needs a non-empty string {name!r}")


def check_counters(spec: CollectionSpec, counters: Mapping[str, float]) -> None:
    for name, amount in counters.items():
        check_field_name(name)
        if name in RESERVED:
            raise StoreError(f"{spec.name}: {name!r} is owned by the store")
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise StoreError(f"{spec.name}: counter {name!r} needs a number")


def body_of(doc: Document) -> Document:
    """The aggregate without the fields the store owns."""
    return {k: v for k, v in doc.items() if k not in RESERVED}


def plain(value: Any) -> Any:
    """The JSON form of a value, exactly as the SQLite adapter stores and returns it."""
    return json.loads(json.dumps(value, default=str))


def lookup(doc: Document, field: str) -> Any:
    """A (possibly dotted) field of a document; None when absent."""
    value: Any = doc
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
