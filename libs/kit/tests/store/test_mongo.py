"""MongoDB adapter specifics: stored layout, indexes, server errors, description."""

from __future__ import annotations

from typing import Any

import mongomock
import pytest
from pymongo.errors import DuplicateKeyError

from hearth_kit.store import CollectionSpec, DuplicateKey, Index, MongoStore
from hearth_kit.store.mongo import instrument_pymongo
from hearth_kit.store.mongo_collection import MongoCollection

from .support import DEADLINES, PEOPLE, mongomock_store


async def test_describe_names_hosts_and_database_without_credentials() -> None:
    url = "mongodb://hearth:s3cret@db1:27017,db2:27018/admin?replicaSet=rs0&authSource=admin"
    store = MongoStore(url, "checkins")
    try:
        assert store.describe() == "MongoDB mongodb://db1:27017,db2:27018/checkins"
        assert "s3cret" not in store.describe() and "hearth:" not in store.describe()
        assert store.kind == "mongodb"
    finally:
        await store.close()


def test_a_database_name_is_required() -> None:
    with pytest.raises(ValueError, match="database"):
        MongoStore("mongodb://db:27017", "")


async def test_stored_layout_keeps_the_aggregate_apart_from_store_fields() -> None:
    client = mongomock.MongoClient()
    store = mongomock_store(client)
    people = await store.collection(PEOPLE)
    await people.insert({"id": "p1", "tenant_id": "t1", "email": "a@x", "version": 7})
    raw = client["hearth_test"]["people"].find_one({"id": "p1"})
    assert raw["_id"] == "2:t1:p1"
    assert raw["tenant_id"] == "t1" and raw["version"] == 1
    assert raw["doc"] == {"email": "a@x"}  # the caller's version is the store's to set
    assert raw["outbox"] == [] and raw["outbox_pending"] is False
    assert "lease_owner" not in raw


async def test_declared_indexes_start_with_the_tenant() -> None:
    client = mongomock.MongoClient()
    store = mongomock_store(client)
    await store.collection(PEOPLE)
    await store.collection(DEADLINES)
    people = client["hearth_test"]["people"].index_information()
    assert people["ix_tenant_id_email"]["key"] == [("tenant_id", 1), ("doc.email", 1)]
    assert people["ix_tenant_id_email"]["unique"] is True
    assert people["ix_tenant_id_email"]["partialFilterExpression"] == {
        "doc.email": {"$exists": True}
    }
    assert people["ix_tenant_id_city_age"]["key"] == [
        ("tenant_id", 1),
        ("doc.city", 1),
        ("doc.age", 1),
        ("_id", 1),
    ]
    assert people["outbox_pending"]["partialFilterExpression"] == {"outbox_pending": True}
    deadlines = client["hearth_test"]["deadlines"].index_information()
    assert deadlines["due"]["key"] == [("doc.due_at", 1), ("_id", 1)]


class _ServerLikeCollection:
    """Raises duplicate-key errors the way a MongoDB server reports them."""

    def __init__(self, errmsg: str, *, fail_times: int = 1) -> None:
        self.errmsg = errmsg
        self.fail_times = fail_times
        self.calls = 0

    def _fail(self) -> None:
        self.calls += 1
        if self.calls <= self.fail_times:
            raise DuplicateKeyError(
                self.errmsg, 11000, {"code": 11000, "errmsg": self.errmsg, "index": 0}
            )

    async def insert_one(self, doc: dict[str, Any]) -> None:
        self._fail()

    async def update_one(self, *args: Any, **kwargs: Any) -> None:
        self._fail()

    async def find_one(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("the server named the index: no look-up needed")


def _collection(coll: Any, spec: CollectionSpec = PEOPLE) -> MongoCollection:
    return MongoCollection(mongomock_store(), coll, spec)


@pytest.mark.parametrize(
    ("index", "key"),
    [("ix_tenant_id_email", ("tenant_id", "email")), ("_id_", ("tenant_id", "id"))],
)
async def test_server_duplicate_errors_name_the_broken_key(
    index: str, key: tuple[str, ...]
) -> None:
    errmsg = (
        f"E11000 duplicate key error collection: hearth.people index: {index} dup key: "
        '{ tenant_id: "t1", doc.email: "a@x" }'
    )
    coll = _collection(_ServerLikeCollection(errmsg))
    with pytest.raises(DuplicateKey) as err:
        await coll.insert({"id": "p1", "tenant_id": "t1", "email": "a@x"})
    assert err.value.key == key


async def test_similar_index_names_are_not_confused() -> None:
    spec = CollectionSpec(
        "people",
        indexes=(Index(("email",), unique=True), Index(("email", "kind"), unique=True)),
    )
    errmsg = "E11000 duplicate key error index: ix_tenant_id_email_kind dup key: {}"
    coll = _collection(_ServerLikeCollection(errmsg), spec)
    with pytest.raises(DuplicateKey) as err:
        await coll.insert({"id": "p1", "tenant_id": "t1", "email": "a@x", "kind": "k"})
    assert err.value.key == ("tenant_id", "email", "kind")


async def test_increment_retries_a_racing_first_upsert() -> None:
    server = _ServerLikeCollection("E11000 duplicate key error index: _id_ dup key", fail_times=1)
    await _collection(server).increment("t1", "today", {"n": 1})
    assert server.calls == 2
    always = _ServerLikeCollection("E11000 duplicate key error index: _id_ dup key", fail_times=9)
    with pytest.raises(DuplicateKey):
        await _collection(always).increment("t1", "today", {"n": 1})


async def test_ping_runs_the_ping_command() -> None:
    store = mongomock_store()
    await store.ping()


def test_command_tracing_can_be_installed_twice() -> None:
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

    instrument_pymongo()
    instrument_pymongo()
    instrumentor = PymongoInstrumentor()
    assert instrumentor.is_instrumented_by_opentelemetry
    instrumentor.uninstrument()
