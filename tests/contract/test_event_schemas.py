"""Published event schemas are a promise: a change that breaks one fails here.

To publish a new event type or an additive change, run
`uv run python -m hearth_contracts export tests/contract/schemas` and commit the files.
"""

import json
from pathlib import Path

import pytest

from hearth_contracts import (
    EVENT_TYPES,
    Envelope,
    new_envelope,
    parse_data,
    partition_key,
    topic_for,
)
from hearth_contracts.compat import breaking_changes
from hearth_contracts.identity import UserRegistered
from hearth_contracts.registry import json_schemas

PUBLISHED = Path(__file__).parent / "schemas"
CURRENT = json_schemas()


@pytest.mark.parametrize("name", sorted(CURRENT))
def test_every_schema_is_published(name: str) -> None:
    assert (PUBLISHED / f"{name}.json").exists(), f"export and commit the schema of {name}"


@pytest.mark.parametrize("path", sorted(PUBLISHED.glob("*.json")), ids=lambda p: p.stem)
def test_no_published_schema_is_broken(path: Path) -> None:
    name = path.stem
    assert name in CURRENT, f"{name} was published and must not disappear (add a new version)"
    problems = breaking_changes(json.loads(path.read_text()), CURRENT[name])
    assert problems == []


def test_compat_checker_catches_breaks() -> None:
    published = {
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "integer"},
            "c": {"enum": ["x", "y"], "type": "string"},
        },
        "required": ["a"],
    }
    additive = {**published, "properties": {**published["properties"], "d": {"type": "string"}}}
    assert breaking_changes(published, additive) == []
    removed = {
        "properties": {"a": {"type": "string"}, "c": published["properties"]["c"]},
        "required": ["a"],
    }
    assert breaking_changes(published, removed) == ["b: removed"]
    retyped = {**published, "properties": {**published["properties"], "b": {"type": "string"}}}
    assert breaking_changes(published, retyped) == ["b: type changed from integer to string"]
    required = {**published, "required": ["a", "b"]}
    assert breaking_changes(published, required) == ["b: became required"]
    narrowed = {
        **published,
        "properties": {**published["properties"], "c": {"enum": ["x"], "type": "string"}},
    }
    assert breaking_changes(published, narrowed) == ["c: enum values removed"]


def test_topics_are_named_by_event_type_and_keys_keep_a_resident_in_order() -> None:
    for event_type in EVENT_TYPES:
        domain, entity, event = topic_for(event_type).split(".")
        assert domain in {"identity", "groups", "chat", "checkins", "alerts", "analytics"}
        assert entity and event
    assert partition_key("t1", "resident-9") == b"t1:resident-9"


def test_envelope_round_trip_and_validation() -> None:
    envelope = new_envelope(
        UserRegistered(user_id="u1", role="resident"),
        tenant_id="t1",
        subject="u1",
        producer="identity",
    )
    again = Envelope.model_validate_json(envelope.model_dump_json())
    assert again == envelope
    assert parse_data(again) == UserRegistered(user_id="u1", role="resident")
    with pytest.raises(ValueError):
        Envelope.model_validate({**envelope.model_dump(), "occurred_at": "2026-01-01T00:00:00"})
    with pytest.raises(ValueError):
        parse_data(Envelope.model_validate({**envelope.model_dump(), "type": "nobody.knows.this"}))
    with pytest.raises(ValueError):
        parse_data(
            Envelope.model_validate(
                {**envelope.model_dump(), "data": {"user_id": "u1", "role": "king"}}
            )
        )
