"""The API's route registry: each endpoint declares its models once, and Flask and OpenAPI both read that.

``endpoint(...)`` registers a view on the API blueprint that parses the query string and the JSON body into the
declared pydantic models (a 422 problem when they do not fit), checks the key's scope, calls the handler and
serialises its pydantic result. ``openapi()`` builds the OpenAPI 3.1 document from the same registry, with the
models' JSON Schemas under ``components/schemas``: nothing in the document is written by hand
(docs/api.md#openapi).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, g, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from dashboard.api.problems import FieldError, Problem, ProblemDetails, problem_from_validation
from dashboard.inputs import unstorable_fields

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)

ERRORS = {
    400: "The request could not be read.",
    401: "Missing, unknown or revoked API key.",
    403: "The key may only read: this needs a write key.",
    404: "Not found in this organisation.",
    409: "The item is not in a state that allows this.",
    413: "The request body is too large.",
    422: "A parameter or the body does not fit the schema.",
    429: "Too many calls for this key this minute: wait Retry-After seconds.",
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # OpenAPI form: /debtors/{debtor_id}
    handler: Callable[..., Any]
    summary: str
    tag: str
    response: type[BaseModel] | None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    write: bool = False
    status: int = 200
    errors: tuple[int, ...] = field(default=())


ROUTES: list[Route] = []
_PARAM = re.compile(r"\{(\w+)\}")


MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL: a larger one is a 404, never a database error


def _flask_rule(path: str) -> str:
    return _PARAM.sub(rf"<int(max={MAX_ID}):\1>", path)


def endpoint(
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    response: type[BaseModel] | None,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``handler(**path_ids, query=..., body=...)``; writes (anything but GET) need a write key."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        route = Route(method, path, handler, summary, tag, response, query, body, method != "GET", status, errors)
        ROUTES.append(route)

        def view(**ids: int) -> Any:
            if route.write and not g.api_caller.may_write():
                raise Problem(403, ERRORS[403])
            kwargs: dict[str, Any] = dict(ids)
            try:
                if route.query is not None:
                    kwargs["query"] = route.query.model_validate(_storable(request.args.to_dict()))
                if route.body is not None:
                    data = request.get_json(silent=True)
                    if not isinstance(data, dict):
                        raise Problem(422, "Send a JSON object as the body (Content-Type: application/json).")
                    kwargs["body"] = route.body.model_validate(_storable(data))
            except ValidationError as exc:
                raise problem_from_validation(exc) from None
            result = handler(**kwargs)
            if result is None:
                return Response(status=route.status)
            return Response(result.model_dump_json(), route.status, mimetype="application/json")

        view.__name__ = f"{handler.__name__}_{method.lower()}"
        bp.add_url_rule(_flask_rule(path), endpoint=view.__name__, view_func=view, methods=[method])
        return handler

    return register


def _storable(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` unchanged, or a 422 naming each field whose text no database can store (a NUL, a lone surrogate)."""
    fields = unstorable_fields(data)
    if fields:
        errors = [FieldError(field=f, message="Remove the NUL or unpaired surrogate character.") for f in fields[:20]]
        raise Problem(422, f"Fix these fields and send it again: {', '.join(e.field for e in errors)}.", errors=errors)
    return data


def _parameters(route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}
        for name in _PARAM.findall(route.path)
    ]
    if route.query is not None:
        schema = route.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            prop = {k: v for k, v in prop.items() if k != "title"}
            entry = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                entry["description"] = prop["description"]
            params.append(entry)
    if route.method == "GET":
        params.append({"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}})
    return params


def _problem(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": ERRORS[status],
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
    }
    if status == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}}
    return response


def openapi(title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered route, schemas from the routes' own models."""
    models: set[type[BaseModel]] = {ProblemDetails}
    for route in ROUTES:
        models.update(m for m in (route.response, route.body) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, schemas = models_json_schema(
        [(m, "serialization") for m in ordered], ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        responses: dict[str, Any] = {}
        if route.response is None:
            responses[str(route.status)] = {"description": "Done."}
        else:
            ref = {"$ref": f"#/components/schemas/{route.response.__name__}"}
            responses[str(route.status)] = {
                "description": route.summary,
                "content": {"application/json": {"schema": ref}},
            }
        if route.method == "GET":
            responses["304"] = {"description": "Not modified since the ETag given in If-None-Match."}
        codes = {401, 404, 422, 429, *route.errors}
        if route.write:
            codes.add(403)
        if route.body is not None:
            codes.add(413)
        for code in sorted(codes):
            responses[str(code)] = _problem(code)
        operation: dict[str, Any] = {
            "operationId": route.handler.__name__ + ("" if route.method == "GET" else f"_{route.method.lower()}"),
            "summary": route.summary,
            "tags": [route.tag],
            "parameters": _parameters(route),
            "responses": responses,
        }
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}}},
            }
        if route.write:
            operation["description"] = "Needs a key with the write scope."
        paths.setdefault(PREFIX + route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": "See docs/api.md."},
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "dk_... API key"}},
        },
    }
