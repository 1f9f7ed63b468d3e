"""Contract: find by declared fields — equality, ranges, order, limit and cursor paging."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from hearth_kit.store import BadCursor, Collection, Query, Range, Store, StoreError

from .support import PEOPLE

CITIES = ["Leeds", "York", "Hull"]


def _age(n: int) -> int | None:
    # Repeated ages (ties broken by id) and a few people with no age at all.
    return None if n % 7 == 3 else 60 + (n * 5) % 30


@pytest.fixture
async def people(store: Store) -> Collection:
    coll = await store.collection(PEOPLE)
    for n in range(30):
        doc: dict[str, Any] = {
            "id": f"p{n:02d}",
            "tenant_id": "t1",
            "name": f"n{29 - n:02d}",
            "city": CITIES[n % 3],
            "active": n % 2 == 0,
        }
        if _age(n) is not None:
            doc["age"] = _age(n)
        await coll.insert(doc)
    for n in range(5):  # Same ids, another council.
        await coll.insert({"id": f"p{n:02d}", "tenant_id": "t2", "city": "Leeds", "age": 70})
    return coll


def expected(order: str = "id", descending: bool = False, keep: Any = lambda n: True) -> list[str]:
    rows = [n for n in range(30) if keep(n)]

    def key(n: int) -> tuple[Any, ...]:
        value = {"id": f"p{n:02d}", "age": _age(n), "name": f"n{29 - n:02d}"}[order]
        # Missing values sort first ascending (last descending), like both databases.
        return (value is not None, value if value is not None else 0, f"p{n:02d}")

    return [f"p{n:02d}" for n in sorted(rows, key=key, reverse=descending)]


async def all_pages(coll: Collection, query: Query) -> tuple[list[str], int]:
    ids: list[str] = []
    pages = 0
    while True:
        page = await coll.find("t1", query)
        pages += 1
        ids.extend(d["id"] for d in page.items)
        if page.next_cursor is None:
            return ids, pages
        query.cursor = page.next_cursor


async def test_default_order_is_id_and_only_this_tenant(people: Collection) -> None:
    page = await people.find("t1", Query(limit=100))
    assert [d["id"] for d in page.items] == expected()
    assert {d["tenant_id"] for d in page.items} == {"t1"}
    assert page.next_cursor is None
    other = await people.find("t2", Query(limit=100))
    assert len(other.items) == 5 and {d["tenant_id"] for d in other.items} == {"t2"}


async def test_equality_filters(people: Collection) -> None:
    page = await people.find("t1", Query(where={"city": "York", "active": True}, limit=100))
    assert [d["id"] for d in page.items] == expected(keep=lambda n: n % 3 == 1 and n % 2 == 0)
    none = await people.find("t1", Query(where={"city": "Paris"}))
    assert none.items == [] and none.next_cursor is None


async def test_null_equality_matches_missing_fields(people: Collection) -> None:
    page = await people.find("t1", Query(where={"age": None}, limit=100))
    assert [d["id"] for d in page.items] == expected(keep=lambda n: _age(n) is None)


async def test_range_filters(people: Collection) -> None:
    query = Query(ranges={"age": Range(gte=70, lt=80)}, order_by="age", limit=100)
    page = await people.find("t1", query)
    want = expected("age", keep=lambda n: _age(n) is not None and 70 <= _age(n) < 80)  # type: ignore[operator]
    assert [d["id"] for d in page.items] == want
    gt = await people.find("t1", Query(ranges={"age": Range(gt=80, lte=85)}, limit=100))
    assert {d["age"] for d in gt.items} == {85}


async def test_range_on_id(people: Collection) -> None:
    page = await people.find("t1", Query(ranges={"id": Range(gt="p05", lte="p08")}))
    assert [d["id"] for d in page.items] == ["p06", "p07", "p08"]


async def test_equality_and_range_on_the_same_field(people: Collection) -> None:
    page = await people.find(
        "t1", Query(where={"city": "Leeds"}, ranges={"city": Range(gte="L")}, limit=100)
    )
    assert [d["id"] for d in page.items] == expected(keep=lambda n: n % 3 == 0)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("order", ["id", "age", "name"])
async def test_cursor_paging_has_no_duplicates_and_no_gaps(
    people: Collection, order: str, descending: bool
) -> None:
    ids, pages = await all_pages(people, Query(order_by=order, descending=descending, limit=4))
    assert ids == expected(order, descending)
    assert pages == 8


async def test_cursor_paging_with_filters(people: Collection) -> None:
    query = Query(where={"city": "Leeds"}, order_by="age", descending=True, limit=3)
    ids, _ = await all_pages(people, query)
    assert ids == expected("age", True, keep=lambda n: n % 3 == 0)


async def test_limit_is_at_least_one(people: Collection) -> None:
    page = await people.find("t1", Query(limit=0))
    assert len(page.items) == 1 and page.next_cursor is not None


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "%%%%",
        base64.urlsafe_b64encode(b"[1, 2, 3]").decode(),
        base64.urlsafe_b64encode(json.dumps([{"$gt": ""}, "p01"]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps([1, 2]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"a": 1, "b": 2}).encode()).decode(),
    ],
)
async def test_bad_cursor_is_refused(people: Collection, cursor: str) -> None:
    with pytest.raises(BadCursor):
        await people.find("t1", Query(cursor=cursor))


@pytest.mark.parametrize(
    "query",
    [
        Query(where={"nickname": "x"}),
        Query(ranges={"nickname": Range(gt=1)}),
        Query(order_by="nickname"),
        Query(where={"city": {"$ne": "York"}}),
        Query(ranges={"age": Range(gt=[1])}),
    ],
)
async def test_undeclared_fields_and_non_scalar_values_are_refused(
    people: Collection, query: Query
) -> None:
    with pytest.raises(StoreError):
        await people.find("t1", query)
