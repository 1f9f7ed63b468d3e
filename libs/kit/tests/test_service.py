"""The service runtime without messaging: the store, the verifier and background work
run as usual; no broker, consumer or relay, events stay in the outbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from hearth_kit.service import ServiceRuntime
from hearth_kit.settings import ServiceSettings
from hearth_kit.store import CollectionSpec, SqliteStore
from hearth_kit.testing import TokenSigner

THINGS = CollectionSpec("things")


class Worker:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def start(self) -> None:
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


def runtime(tmp_path: Path, **kwargs: object) -> ServiceRuntime:
    settings = ServiceSettings(service_name="kit-rt", data_dir=tmp_path, environment="test")
    return ServiceRuntime(
        settings,
        verifier=TokenSigner().verifier(),
        messaging=False,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_without_messaging_the_rest_runs_and_stops_in_reverse(tmp_path: Path) -> None:
    log: list[str] = []
    rt = runtime(tmp_path)

    async def setup(rt: ServiceRuntime, app: FastAPI) -> None:
        things = await rt.collection(THINGS)
        await things.insert({"id": "a", "tenant_id": "t"}, events=[{"event_id": "e1"}])
        with pytest.raises(RuntimeError):
            await rt.consumer()
        rt.add_background(Worker("first", log))
        rt.add_background(Worker("second", log))

        async def closing() -> None:
            log.append("shutdown step")

        rt.add_shutdown(closing)
        rt.add_shutdown(lambda: log.append("sync step"))

    app = FastAPI()
    async with rt.lifespan(setup)(app):
        assert [name for name, _ in rt.readiness()] == ["store"]
        for _, check in rt.readiness():
            await check()
        with pytest.raises(RuntimeError):
            _ = rt.broker
        doc = await (await rt.store.collection(THINGS)).get("t", "a")
        assert doc is not None and len(doc["outbox"]) == 1  # nobody relays it
        assert app.state.runtime is rt
    assert log == [
        "start first",
        "start second",
        "sync step",
        "shutdown step",
        "stop second",
        "stop first",
    ]
    assert (tmp_path / "kit-rt.sqlite3").exists()


async def test_a_store_handed_in_is_left_open_for_its_owner(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "given.sqlite3")
    rt = runtime(tmp_path, store=store)

    async def setup(rt: ServiceRuntime, app: FastAPI) -> None:
        await rt.collection(THINGS)

    async with rt.lifespan(setup)(FastAPI()):
        pass
    await store.ping()
    await store.close()
