"""SQLite adapter: durable across restarts and kills, shared safely by several processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hearth_kit.store import Collection, ConcurrencyConflict, DuplicateKey, SqliteStore

from .support import DEADLINES, PEOPLE

_CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from hearth_kit.store import ConcurrencyConflict, CollectionSpec, Index, SqliteStore

    PEOPLE = CollectionSpec("people", indexes=(Index(("email",), unique=True),))

    async def main(path, mode, count):
        store = SqliteStore(path)
        people = await store.collection(PEOPLE)
        if mode == "insert-then-die":
            for n in range(count):
                await people.insert({"id": f"k{n}", "tenant_id": "t1", "n": n})
            print("committed", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        print("ready", flush=True)
        sys.stdin.readline()  # start together with the other process
        conflicts = 0
        for _ in range(count):
            while True:
                doc = await people.get("t1", "shared")
                try:
                    await people.save({**doc, "count": doc["count"] + 1},
                                      expected_version=doc["version"])
                    break
                except ConcurrencyConflict:
                    conflicts += 1
        print("conflicts", conflicts, flush=True)
        await store.close()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


def _child(path: Path, mode: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), mode, str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_documents_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "svc.sqlite3"
    store = SqliteStore(path)
    people = await store.collection(PEOPLE)
    doc = await people.insert(
        {"id": "p1", "tenant_id": "t1", "email": "a@x"}, events=[{"event_id": "e1"}]
    )
    await people.save({**doc, "age": 90}, expected_version=1)
    await store.close()
    await store.close()  # closing twice is harmless

    reopened = SqliteStore(path)
    people = await reopened.collection(PEOPLE)
    got = await people.get("t1", "p1")
    assert got is not None and got["age"] == 90 and got["version"] == 2
    assert got["outbox"] == [{"event_id": "e1"}]
    with pytest.raises(DuplicateKey):
        await people.insert({"id": "p2", "tenant_id": "t1", "email": "a@x"})
    await reopened.close()


async def test_a_killed_process_loses_no_committed_write(tmp_path: Path) -> None:
    path = tmp_path / "svc.sqlite3"
    child = _child(path, "insert-then-die", 50)
    out, err = await asyncio.to_thread(child.communicate, timeout=60)
    assert child.returncode == -9, err
    assert "committed" in out
    store = SqliteStore(path)
    people = await store.collection(PEOPLE)
    assert [await people.get("t1", f"k{n}") is not None for n in range(50)] == [True] * 50
    await store.close()


async def test_two_processes_on_one_file_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "svc.sqlite3"
    store = SqliteStore(path)
    people = await store.collection(PEOPLE)
    await people.insert({"id": "shared", "tenant_id": "t1", "count": 0})
    children = [_child(path, "cas", 200) for _ in range(2)]
    for child in children:
        assert child.stdin is not None and child.stdout is not None
        assert await asyncio.to_thread(child.stdout.readline) == "ready\n"
    for child in children:  # both go at once
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.close()
    for child in children:
        assert child.stdout is not None and child.stderr is not None
        out, err = await asyncio.to_thread(child.stdout.read), child.stderr.read()
        assert await asyncio.to_thread(child.wait, 120) == 0, err
        assert out.startswith("conflicts"), out
    got = await people.get("t1", "shared")
    assert got is not None and got["count"] == 400 and got["version"] == 401
    await store.close()


async def test_two_stores_on_one_file_claim_each_deadline_once(tmp_path: Path) -> None:
    path = tmp_path / "svc.sqlite3"
    stores = [SqliteStore(path), SqliteStore(path)]
    a, b = [await s.collection(DEADLINES) for s in stores]
    for n in range(300):
        await a.insert({"id": f"d{n}", "tenant_id": "t1", "due_at": float(n)})

    async def drain(coll: Collection, owner: str) -> list[str]:
        got: list[str] = []
        while batch := await coll.claim_due(now=1e9, owner=owner, lease_seconds=600, limit=20):
            got.extend(d["id"] for d in batch)
        return got

    first, second = await asyncio.gather(drain(a, "w1"), drain(b, "w2"))
    assert sorted(first + second) == sorted(f"d{n}" for n in range(300))
    assert not set(first) & set(second)
    for s in stores:
        await s.close()


async def test_conflicting_save_through_another_store_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "svc.sqlite3"
    one, two = SqliteStore(path), SqliteStore(path)
    p1, p2 = await one.collection(PEOPLE), await two.collection(PEOPLE)
    doc = await p1.insert({"id": "p1", "tenant_id": "t1"})
    await p2.save({**doc, "age": 1}, expected_version=1)
    with pytest.raises(ConcurrencyConflict):
        await p1.save({**doc, "age": 2}, expected_version=1)
    await one.close()
    await two.close()
