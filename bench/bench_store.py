"""Store throughput: the SQLite adapter against hand-written sqlite3 on the same kind of file.

Both sides use a WAL file with synchronous=NORMAL and the aggregate stored as JSON with the
same expression indexes (unique email, city), in the same run on the same disk; the rounds
alternate between the two sides and the median is printed:
- CAS saves: save one aggregate at a time with compare-and-swap on its version
  (adapter: `Collection.save`; baseline: one `UPDATE ... WHERE version = ?`).
- Indexed lookups: find one aggregate by an indexed field and decode it
  (adapter: `Collection.find` with `where`; baseline: one `SELECT` and `json.loads`).
- Batched claims: claim all due timers, a batch at a time
  (adapter: `Collection.claim_due`; baseline: one `UPDATE ... RETURNING` per batch).

    uv run python -m bench.bench_store [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hearth_kit.store import CollectionSpec, Index, Query, SqliteStore

PEOPLE = CollectionSpec("people", indexes=(Index(("email",), unique=True), Index(("city",))))
DEADLINES = CollectionSpec("deadlines", due_field="due_at")
TENANT = "council-a"
ROUNDS = 3


@dataclass(frozen=True)
class Sizes:
    people: int
    saves: int
    lookups: int
    timers: int
    batch: int


FULL = Sizes(people=2_000, saves=5_000, lookups=10_000, timers=20_000, batch=1_000)
QUICK = Sizes(people=500, saves=1_000, lookups=2_000, timers=5_000, batch=1_000)


def person(n: int) -> dict[str, object]:
    return {
        "id": f"p{n:06d}",
        "tenant_id": TENANT,
        "email": f"p{n}@example.org",
        "city": ("Leeds", "York", "Hull")[n % 3],
        "name": f"Person {n}",
        "age": 60 + n % 40,
        "address": {"line": f"{n} High Street", "postcode": "LS1 1AA"},
        "count": 0,
    }


def timer(n: int) -> dict[str, object]:
    return {
        "id": f"d{n:06d}",
        "tenant_id": TENANT,
        "resident_id": f"p{n % 500}",
        "due_at": float(n),
        "step": 1,
    }


# ---- through the adapter ---------------------------------------------------------------------
async def adapter_run(folder: Path, sizes: Sizes) -> dict[str, float]:
    store = SqliteStore(folder / "adapter.sqlite3")
    people = await store.collection(PEOPLE)
    docs = [await people.insert(person(n)) for n in range(sizes.people)]
    rates: dict[str, float] = {}

    start = time.perf_counter()
    for i in range(sizes.saves):
        doc = docs[i % sizes.people]
        doc["count"] += 1
        docs[i % sizes.people] = await people.save(doc, expected_version=doc["version"])
    rates["CAS saves"] = sizes.saves / (time.perf_counter() - start)

    start = time.perf_counter()
    for i in range(sizes.lookups):
        page = await people.find(TENANT, Query(where={"email": f"p{i % sizes.people}@example.org"}))
        assert len(page.items) == 1
    rates["indexed lookups"] = sizes.lookups / (time.perf_counter() - start)

    deadlines = await store.collection(DEADLINES)
    for n in range(sizes.timers):
        await deadlines.insert(timer(n))
    claimed = 0
    start = time.perf_counter()
    while batch := await deadlines.claim_due(
        now=1e12, owner="bench", lease_seconds=60, limit=sizes.batch
    ):
        claimed += len(batch)
    rates[f"claims (batches of {sizes.batch})"] = claimed / (time.perf_counter() - start)
    assert claimed == sizes.timers
    await store.close()
    return rates


# ---- hand-written sqlite3 ------------------------------------------------------------------
def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def baseline_run(folder: Path, sizes: Sizes) -> dict[str, float]:
    conn = _connect(folder / "baseline.sqlite3")
    conn.execute(
        "CREATE TABLE people (tenant_id TEXT, id TEXT, version INTEGER, doc TEXT, "
        "PRIMARY KEY (tenant_id, id))"
    )
    conn.execute(
        "CREATE UNIQUE INDEX people_email ON people (tenant_id, json_extract(doc, '$.email'))"
    )
    conn.execute("CREATE INDEX people_city ON people (tenant_id, json_extract(doc, '$.city'))")
    docs = [person(n) for n in range(sizes.people)]
    versions = [1] * sizes.people
    for doc in docs:
        conn.execute("INSERT INTO people VALUES (?, ?, 1, ?)", (TENANT, doc["id"], json.dumps(doc)))
    rates: dict[str, float] = {}

    start = time.perf_counter()
    for i in range(sizes.saves):
        k = i % sizes.people
        docs[k]["count"] += 1  # type: ignore[operator]
        cur = conn.execute(
            "UPDATE people SET doc = ?, version = version + 1 "
            "WHERE tenant_id = ? AND id = ? AND version = ?",
            (json.dumps(docs[k]), TENANT, docs[k]["id"], versions[k]),
        )
        assert cur.rowcount == 1
        versions[k] += 1
    rates["CAS saves"] = sizes.saves / (time.perf_counter() - start)

    start = time.perf_counter()
    for i in range(sizes.lookups):
        row = conn.execute(
            "SELECT doc, version FROM people WHERE tenant_id = ? "
            "AND json_extract(doc, '$.email') = ? LIMIT 1",
            (TENANT, f"p{i % sizes.people}@example.org"),
        ).fetchone()
        assert json.loads(row[0])
    rates["indexed lookups"] = sizes.lookups / (time.perf_counter() - start)

    conn.execute(
        "CREATE TABLE deadlines (tenant_id TEXT, id TEXT, doc TEXT, due REAL, lease_owner TEXT, "
        "lease_until REAL, PRIMARY KEY (tenant_id, id))"
    )
    conn.execute("CREATE INDEX deadlines_due ON deadlines (due) WHERE due IS NOT NULL")
    with conn:
        conn.execute("BEGIN")
        for n in range(sizes.timers):
            doc = timer(n)
            conn.execute(
                "INSERT INTO deadlines (tenant_id, id, doc, due) VALUES (?, ?, ?, ?)",
                (TENANT, doc["id"], json.dumps(doc), doc["due_at"]),
            )
    claimed = 0
    start = time.perf_counter()
    while True:
        rows = conn.execute(
            "UPDATE deadlines SET lease_owner = ?, lease_until = ? WHERE rowid IN ("
            "SELECT rowid FROM deadlines WHERE due <= ? AND "
            "(lease_until IS NULL OR lease_until < ?) ORDER BY due LIMIT ?) RETURNING id, doc",
            ("bench", 1e12 + 60, 1e12, 1e12, sizes.batch),
        ).fetchall()
        if not rows:
            break
        claimed += len([json.loads(doc) for _, doc in rows])
    rates[f"claims (batches of {sizes.batch})"] = claimed / (time.perf_counter() - start)
    assert claimed == sizes.timers
    conn.close()
    return rates


def print_table(adapter: dict[str, float], baseline: dict[str, float]) -> None:
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}/s"  # noqa: E731
    rows = [("operation", "adapter", "sqlite3", "adapter/sqlite3")]
    rows += [
        (name, fmt(adapter[name]), fmt(baseline[name]), f"{adapter[name] / baseline[name]:.2f}")
        for name in adapter
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for n, row in enumerate(rows):
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller run (several seconds)")
    sizes = QUICK if parser.parse_args().quick else FULL
    print(
        f"SQLite store: {sizes.people} aggregates, {sizes.saves} saves, {sizes.lookups} lookups, "
        f"{sizes.timers} timers claimed in batches of {sizes.batch}; "
        f"SQLite {sqlite3.sqlite_version}"
    )
    started = time.perf_counter()
    adapter_rounds: list[dict[str, float]] = []
    baseline_rounds: list[dict[str, float]] = []
    for _ in range(ROUNDS):  # alternate, so a busy moment on the machine hits both sides
        with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
            baseline_rounds.append(baseline_run(Path(tmp), sizes))
            adapter_rounds.append(asyncio.run(adapter_run(Path(tmp), sizes)))
    print_table(_median(adapter_rounds), _median(baseline_rounds))
    print(f"(median of {ROUNDS} alternating rounds; ran in {time.perf_counter() - started:.1f} s)")


def _median(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}


if __name__ == "__main__":
    main()
