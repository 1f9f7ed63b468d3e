"""Merging the services' OpenAPI documents into the gateway's one document."""

from __future__ import annotations

from typing import Any

from hearth_gateway.domain.openapi import ERROR_SCHEMA, SECURITY_SCHEME, merge_openapi


def doc(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "x", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas or {}},
    }


def op(ref: str | None = None, op_id: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"responses": {"200": {"description": "ok"}}}
    if ref:
        operation["responses"]["200"]["content"] = {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}
        }
    if op_id:
        operation["operationId"] = op_id
    return operation


def test_keeps_only_v1_paths_the_gateway_routes_to_that_service() -> None:
    merged = merge_openapi(
        {
            "identity": doc(
                {
                    "/v1/me": {"get": op()},
                    "/healthz": {"get": op()},
                    "/v1/alerts": {"get": op()},  # alerts owns this path, not identity
                    "/v1/nowhere": {"get": op()},
                }
            ),
            "alerts": doc({"/v1/alerts": {"get": op(op_id="list_alerts")}}),
        }
    )
    assert set(merged["paths"]) == {"/v1/me", "/v1/alerts"}
    assert merged["paths"]["/v1/alerts"]["get"]["operationId"] == "list_alerts"


def test_identical_components_are_shared_and_clashing_ones_prefixed() -> None:
    same = {"type": "string"}
    merged = merge_openapi(
        {
            "identity": doc(
                {"/v1/me": {"get": op("Page")}}, {"Page": {"type": "object"}, "Id": same}
            ),
            "alerts": doc(
                {"/v1/alerts": {"get": op("Page")}}, {"Page": {"type": "array"}, "Id": same}
            ),
        }
    )
    schemas = merged["components"]["schemas"]
    assert schemas["Id"] == same
    assert schemas["Page"] == {"type": "array"}  # services merge in name order: alerts first
    assert schemas["identity_Page"] == {"type": "object"}
    me = merged["paths"]["/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]
    assert me["schema"]["$ref"] == "#/components/schemas/identity_Page"
    alerts = merged["paths"]["/v1/alerts"]["get"]["responses"]["200"]["content"]
    assert alerts["application/json"]["schema"]["$ref"] == "#/components/schemas/Page"


def test_renaming_follows_references_between_schemas() -> None:
    # identity's Wrapper is textually identical to alerts' Wrapper but refers to a Page
    # that clashes, so it must be renamed too.
    wrapper = {"type": "object", "properties": {"page": {"$ref": "#/components/schemas/Page"}}}
    merged = merge_openapi(
        {
            "alerts": doc(
                {"/v1/alerts": {"get": op("Wrapper")}},
                {"Wrapper": wrapper, "Page": {"type": "array"}},
            ),
            "identity": doc(
                {"/v1/me": {"get": op("Wrapper")}},
                {"Wrapper": wrapper, "Page": {"type": "object"}},
            ),
        }
    )
    schemas = merged["components"]["schemas"]
    assert schemas["identity_Wrapper"]["properties"]["page"]["$ref"] == (
        "#/components/schemas/identity_Page"
    )
    assert schemas["Wrapper"]["properties"]["page"]["$ref"] == "#/components/schemas/Page"


def test_security_public_routes_and_gateway_errors() -> None:
    merged = merge_openapi(
        {
            "identity": doc(
                {"/v1/auth/token": {"post": op()}, "/v1/me": {"get": op()}},
            )
        }
    )
    assert merged["components"]["securitySchemes"][SECURITY_SCHEME]["scheme"] == "bearer"
    assert merged["security"] == [{SECURITY_SCHEME: []}]
    token = merged["paths"]["/v1/auth/token"]["post"]
    me = merged["paths"]["/v1/me"]["get"]
    assert token["security"] == []
    assert me["security"] == [{SECURITY_SCHEME: []}]
    assert "401" in me["responses"] and "401" not in token["responses"]
    for code in ("413", "429", "503", "504"):
        assert code in token["responses"]
    error_ref = me["responses"]["503"]["content"]["application/json"]["schema"]["$ref"]
    assert error_ref == f"#/components/schemas/{ERROR_SCHEMA}"
    assert me["tags"] == ["identity"]


def test_a_services_own_error_responses_are_kept() -> None:
    mine = {"description": "mine"}
    merged = merge_openapi({"identity": doc({"/v1/me": {"get": {"responses": {"401": mine}}}})})
    assert merged["paths"]["/v1/me"]["get"]["responses"]["401"] == mine


def test_unavailable_services_are_listed_not_fatal() -> None:
    merged = merge_openapi({"identity": doc({"/v1/me": {"get": op()}}), "chat": None})
    assert merged["x-hearth-services"] == {"chat": "unavailable", "identity": "available"}
    assert "chat" in merged["info"]["description"]
    assert "/v1/me" in merged["paths"]


def test_duplicate_operation_ids_are_made_unique() -> None:
    merged = merge_openapi(
        {
            "identity": doc({"/v1/me": {"get": op(op_id="read")}}),
            "chat": doc({"/v1/conversations": {"get": op(op_id="read")}}),
        }
    )
    ids = {
        merged["paths"]["/v1/me"]["get"]["operationId"],
        merged["paths"]["/v1/conversations"]["get"]["operationId"],
    }
    assert ids == {"read", "identity_read"}


def test_inputs_are_not_modified() -> None:
    source = doc({"/v1/me": {"get": op("Page")}}, {"Page": {"type": "object"}})
    snapshot = repr(source)
    merge_openapi({"identity": source, "alerts": doc({}, {"Page": {"type": "array"}})})
    assert repr(source) == snapshot


def test_garbage_documents_do_not_break_the_merge() -> None:
    merged = merge_openapi(
        {
            "identity": {"paths": "nope", "components": []},
            "alerts": {"paths": {"/v1/alerts": "nope", 7: {}}},
        }
    )
    assert merged["paths"] == {}
    assert merged["x-hearth-services"] == {"alerts": "available", "identity": "available"}
