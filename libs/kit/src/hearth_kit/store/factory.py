"""Pick the store a service runs on from its settings."""

from __future__ import annotations

from hearth_kit.settings import ServiceSettings
from hearth_kit.store.mongo import MongoStore
from hearth_kit.store.port import Store
from hearth_kit.store.sqlite import SqliteStore


async def open_store(settings: ServiceSettings) -> Store:
    """MongoDB (database named after the service) when MONGODB_URL is set, else the
    service's SQLite file under the data folder."""
    if settings.mongodb_url is not None:
        return MongoStore(settings.mongodb_url.get_secret_value(), settings.service_name)
    return SqliteStore(settings.sqlite_path)
