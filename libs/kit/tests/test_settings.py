import pytest
from pydantic import SecretStr, ValidationError

from hearth_kit.settings import ServiceSettings, service_config


class DemoSettings(ServiceSettings):
    model_config = service_config("DEMO_")
    service_name: str = "demo"
    signing_secret: SecretStr = SecretStr("dev-insecure-demo")


def test_prefix_and_shared_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_HTTP_PORT", "8123")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("HEARTH_DATA_DIR", "/tmp/hearth-data")
    settings = DemoSettings()
    assert settings.http_port == 8123
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert str(settings.sqlite_path) == "/tmp/hearth-data/demo.sqlite3"
    assert settings.store_description.startswith("SQLite")


def test_insecure_default_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_ENV", "production")
    with pytest.raises(ValidationError, match="development default"):
        DemoSettings()
    monkeypatch.setenv("DEMO_SIGNING_SECRET", "a-real-secret-from-the-vault")
    assert DemoSettings().environment == "production"


def test_mongodb_url_switches_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URL", "mongodb://user:pw@db:27017")
    settings = DemoSettings()
    assert settings.store_description == "MongoDB (MONGODB_URL)"
    assert "pw" not in repr(settings)
