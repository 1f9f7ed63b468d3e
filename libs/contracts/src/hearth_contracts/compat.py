"""Schema compatibility: within a version, a payload may only gain optional fields."""

from __future__ import annotations

from typing import Any


def breaking_changes(
    published: dict[str, Any], current: dict[str, Any], path: str = ""
) -> list[str]:
    """Reasons `current` would break consumers written against `published` (empty if none).

    Removing or retyping a property, or adding a required one, breaks them; adding an
    optional property does not.
    """
    problems: list[str] = []
    old_props: dict[str, Any] = published.get("properties", {})
    new_props: dict[str, Any] = current.get("properties", {})
    for name, old in old_props.items():
        where = f"{path}.{name}" if path else name
        if name not in new_props:
            problems.append(f"{where}: removed")
            continue
        new = new_props[name]
        if _type_of(old) != _type_of(new):
            problems.append(f"{where}: type changed from {_type_of(old)} to {_type_of(new)}")
        if "enum" in old and "enum" in new and not set(old["enum"]) <= set(new["enum"]):
            problems.append(f"{where}: enum values removed")
        problems.extend(breaking_changes(old, new, where))
    newly_required = set(current.get("required", [])) - set(published.get("required", []))
    for name in sorted(newly_required):
        problems.append(f"{path + '.' if path else ''}{name}: became required")
    return problems


def _type_of(schema: dict[str, Any]) -> str:
    if "type" in schema:
        return str(schema["type"])
    if "anyOf" in schema:
        return "|".join(sorted(_type_of(s) for s in schema["anyOf"]))
    if "$ref" in schema:
        return str(schema["$ref"])
    if "const" in schema:
        return "const"
    return "any"
