"""The OpenAPI 3.1 document of /api/mobile/v1, built from the route table and the pydantic
schemas (requests) and read models (responses): what is served is what is described."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from mobile_api.responses import ErrorOut
from mobile_api.schemas import KEY_PATTERN

REF = "#/components/schemas/{model}"
INT32 = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
ERRORS = {
    304: "Not modified: the ETag still matches (If-None-Match)",
    400: "Malformed JSON, a missing or invalid Idempotency-Key",
    401: "No or bad access token",
    403: "Your role may not do this (`role-not-allowed`), or not on this order (`not-assigned-engineer`)",
    404: "No such object, or one you may not see",
    409: "The state moved on (invalid transition, final, taken, signed...), or the Idempotency-Key is in use",
    412: "If-Match names an old version",
    413: "Body, image or photo over the limit",
    415: "Not application/json",
    422: "Schema or rule violation; an Idempotency-Key reused with a different request; a future occurred_at",
}


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: Any, mode: str) -> dict[str, Any]:
        schema = TypeAdapter(model).json_schema(mode=mode, ref_template=REF)  # type: ignore[arg-type]
        self.schemas.update(schema.pop("$defs", {}))
        name = model.__name__
        self.schemas[name] = schema
        return {"$ref": REF.format(model=name)}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """Query parameters are absent or present: ``anyOf [X, null]`` becomes X."""
    options = schema.get("anyOf")
    if options:
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            merged = {k: v for k, v in schema.items() if k != "anyOf"}
            return {**merged, **rest[0]}
    return schema


def _parameters(op: Any) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in ("id", "photo_id", "device_id"):
        if "{" + name + "}" in op.path:
            params.append({"name": name, "in": "path", "required": True, "schema": INT32})
    if op.query is not None:
        schema = TypeAdapter(op.query).json_schema()
        for name, prop in schema["properties"].items():
            prop = _without_null({k: v for k, v in prop.items() if k != "title" and (k, v) != ("default", None)})
            params.append({"name": name, "in": "query", "required": name in schema.get("required", []),
                           "schema": prop})
    if op.idempotent:
        params.append({"name": "Idempotency-Key", "in": "header", "required": True,
                       "description": "A UUID per user intent; kept at least 72 h", "schema": {
                           "type": "string", "pattern": KEY_PATTERN}})
    if op.if_match:
        params.append({"name": "If-Match", "in": "header", "required": False,
                       "description": 'The order version you read, as its ETag ("7")', "schema": {"type": "string"}})
    if op.conditional_get:
        params.append({"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}})
    return params


def _responses(op: Any, components: _Components) -> dict[str, Any]:
    if isinstance(op.ok, str):
        ok: dict[str, Any] = {"description": "OK", "content": {op.ok: {"schema": {
            "type": "string", "contentMediaType": op.ok}}}}
    else:
        ok = {"description": "OK", "content": {"application/json": {"schema": components.ref(op.ok, "serialization")}}}
    if op.idempotent:
        ok["headers"] = {"Idempotent-Replayed": {"description": "true when this is the stored first response",
                                                 "schema": {"type": "string", "enum": ["true"]}}}
    responses: dict[str, Any] = {str(op.ok_status): ok}
    codes = {401, 403}
    if "{" in op.path:
        codes.add(404)
    if op.query is not None or op.body is not None:
        codes.add(422)
    if op.body is not None or op.idempotent:
        codes |= {400, 409, 413, 415, 422}
    if op.if_match:
        codes.add(412)
    error = {"application/json": {"schema": components.ref(ErrorOut, "serialization")}}
    for code in sorted(codes):
        responses[str(code)] = {"description": ERRORS[code], "content": error}
    if op.conditional_get:
        responses["304"] = {"description": ERRORS[304]}
    return responses


def document(operations: list[Any], prefix: str = "/api/mobile/v1") -> dict[str, Any]:
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        entry: dict[str, Any] = {
            "operationId": op.operation_id, "summary": op.summary, "tags": op.tags,
            "description": f"Roles: {op.roles}.", "parameters": _parameters(op),
            "responses": _responses(op, components),
        }
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": components.ref(op.body, "validation")}}}
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "Fieldline mobile API", "version": "1",
                 "description": "The field engineers' API: offline-safe work-order actions (Idempotency-Key, "
                                "occurred_at, batch replay), signatures, photos, devices and push. "
                                "See docs/mobile-api.md."},
        "servers": [{"url": prefix}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": components.schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
