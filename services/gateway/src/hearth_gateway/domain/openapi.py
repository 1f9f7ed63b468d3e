"""One OpenAPI document for the whole public API, merged from each service's document.

Only `/v1` paths the gateway actually routes to that service are kept. Components are
merged; a name two services use for different things is prefixed with the service name
(`alerts_Page`) and every `$ref` to it rewritten. Every operation gets the gateway's
bearer-token security (none on public routes) and the error responses the gateway itself
may give. Services that could not be reached are listed as unavailable.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from hearth_gateway.domain.routes import API_PREFIX, InvalidPath, is_public, match_route

JsonObject = dict[str, Any]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MERGED_SECTIONS = (
    "schemas",
    "responses",
    "parameters",
    "requestBodies",
    "headers",
    "examples",
    "links",
    "callbacks",
)
SECURITY_SCHEME = "bearerAuth"
ERROR_SCHEMA = "GatewayError"

_ERROR_SCHEMA: JsonObject = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}
_GATEWAY_RESPONSES = {
    "400": "Malformed request",
    "401": "Missing, expired or invalid access token",
    "403": "Token belongs to another council, or origin not allowed",
    "413": "Request body too large",
    "429": "Rate limit exceeded; see Retry-After",
    "503": "The owning service is unavailable",
    "504": "The owning service did not answer in time",
}
_PUBLIC_RESPONSES = ("400", "413", "429", "503", "504")


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    """A copy of node with `$ref`s to renamed components pointing at their new names."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value in renames:
                out[key] = renames[value]
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _ref(section: str, name: str) -> str:
    return f"#/components/{section}/{name}"


def _plan_renames(
    service: str, components: Mapping[str, Any], merged: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """Old ref -> new ref for this service's components that clash with merged ones."""
    renames: dict[str, str] = {}
    changed = True
    while changed:  # renaming one schema changes the schemas that refer to it
        changed = False
        for section in _MERGED_SECTIONS:
            entries = components.get(section)
            if not isinstance(entries, dict):
                continue
            taken = merged.get(section, {})
            for name, value in entries.items():
                old = _ref(section, name)
                if old in renames or name not in taken:
                    continue
                if taken[name] == _rewrite_refs(value, renames):
                    continue
                new_name = f"{service}_{name}"
                suffix = 2
                while new_name in taken or new_name in entries:
                    new_name = f"{service}_{name}_{suffix}"
                    suffix += 1
                renames[old] = _ref(section, new_name)
                changed = True
    return renames


def _owned_paths(service: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        return {}
    kept: dict[str, Any] = {}
    for path, item in paths.items():
        if not isinstance(path, str) or not isinstance(item, dict):
            continue
        if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            continue
        try:
            owner = match_route(path)
        except InvalidPath:
            continue
        if owner is not None and owner.service.value == service:
            kept[path] = item
    return kept


def _decorate_operation(
    path: str, method: str, op: JsonObject, service: str, op_ids: set[str]
) -> None:
    public = is_public(method, path)
    op["security"] = [] if public else [{SECURITY_SCHEME: []}]
    if not op.get("tags"):
        op["tags"] = [service]
    op_id = op.get("operationId")
    if isinstance(op_id, str):
        if op_id in op_ids:
            op_id = f"{service}_{op_id}"
            op["operationId"] = op_id
        op_ids.add(op_id)
    responses = op.setdefault("responses", {})
    codes = _PUBLIC_RESPONSES if public else tuple(_GATEWAY_RESPONSES)
    for code in codes:
        if code not in responses:
            schema = {"$ref": _ref("schemas", ERROR_SCHEMA)}
            responses[code] = {
                "description": _GATEWAY_RESPONSES[code],
                "content": {"application/json": {"schema": schema}},
            }


def merge_openapi(
    documents: Mapping[str, JsonObject | None],
    *,
    title: str = "Hearth API",
    version: str = "1",
    deepcopy: Callable[[Any], Any] = copy.deepcopy,
) -> JsonObject:
    """Merge service documents (None for a service that could not be reached)."""
    merged_components: dict[str, dict[str, Any]] = {"schemas": {ERROR_SCHEMA: _ERROR_SCHEMA}}
    merged_paths: dict[str, Any] = {}
    status: dict[str, str] = {}
    op_ids: set[str] = set()
    for service in sorted(documents):
        doc = documents[service]
        if not isinstance(doc, dict):
            status[service] = "unavailable"
            continue
        status[service] = "available"
        doc = deepcopy(doc)
        components = doc.get("components")
        if not isinstance(components, dict):
            components = {}
        renames = _plan_renames(service, components, merged_components)
        for section in _MERGED_SECTIONS:
            entries = components.get(section)
            if not isinstance(entries, dict):
                continue
            target = merged_components.setdefault(section, {})
            for name, value in entries.items():
                new_ref = renames.get(_ref(section, name), _ref(section, name))
                target.setdefault(new_ref.rsplit("/", 1)[1], _rewrite_refs(value, renames))
        for path, item in _owned_paths(service, doc).items():
            item = _rewrite_refs(item, renames)
            for method in _METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    _decorate_operation(path, method, op, service, op_ids)
            merged_paths.setdefault(path, item)
    merged_components["securitySchemes"] = {
        SECURITY_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    unavailable = sorted(s for s, v in status.items() if v == "unavailable")
    description = "Hearth public API, served through the gateway."
    if unavailable:
        description += " Unavailable now: " + ", ".join(unavailable) + "."
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": dict(sorted(merged_paths.items())),
        "components": merged_components,
        "security": [{SECURITY_SCHEME: []}],
        "x-hearth-services": status,
    }
