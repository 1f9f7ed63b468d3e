"""open_store picks MongoDB when MONGODB_URL is set, else the service's SQLite file."""

from __future__ import annotations

from pathlib import Path

from hearth_kit.settings import ServiceSettings
from hearth_kit.store import MongoStore, SqliteStore, open_store


async def test_sqlite_under_the_data_folder_by_default(tmp_path: Path) -> None:
    settings = ServiceSettings(service_name="checkins", data_dir=tmp_path, mongodb_url=None)
    store = await open_store(settings)
    try:
        assert isinstance(store, SqliteStore)
        assert store.path == tmp_path / "checkins.sqlite3"
        await store.ping()
        assert store.path.exists()
    finally:
        await store.close()


async def test_mongodb_when_a_url_is_set(tmp_path: Path) -> None:
    settings = ServiceSettings(
        service_name="alerts", data_dir=tmp_path, mongodb_url="mongodb://svc:pw@mongo:27017"
    )
    store = await open_store(settings)
    try:
        assert isinstance(store, MongoStore)
        assert store.database_name == "alerts"
        assert store.describe() == "MongoDB mongodb://mongo:27017/alerts"
        assert not (tmp_path / "alerts.sqlite3").exists()
    finally:
        await store.close()
