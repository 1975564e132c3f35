"""The public API under ``/api/v1``: API keys, per-key rate limit, problem+json errors, ETags, OpenAPI.

Every request but the OpenAPI document needs ``Authorization: Bearer dk_...``; the key decides the organisation
and whether it may write (``connector.apikeys``). Routes are declared once in ``dashboard.api.spec`` with their
pydantic models (``models``) and live by theme in ``reads``, ``actions`` and ``hooks``; errors of any path under
``/api/`` are RFC 9457 problem details (``problems``). See docs/api.md.
"""

from __future__ import annotations

from typing import Any

import structlog
from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from connector import apikeys, notify
from connector.errors import NotFound, PermanentError
from dashboard.api import actions, hooks, reads, reports, work  # noqa: F401 - importing a theme registers its routes
from dashboard.api.paging import with_etag
from dashboard.api.problems import Problem, problem_response
from dashboard.api.spec import ERRORS, MAX_ID, PREFIX, bp, openapi
from dashboard.common import services

log = structlog.get_logger(__name__)
OPEN = (f"{PREFIX}/openapi.json",)


@bp.before_request
def _authorise() -> Response | None:
    if request.path in OPEN:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    rt = services().runtime
    try:
        if scheme.lower() != "bearer":
            raise apikeys.InvalidKey(ERRORS[401])
        caller = apikeys.authenticate(rt, key.strip())
    except apikeys.InvalidKey:
        response = problem_response(401, "Send a valid API key as 'Authorization: Bearer dk_...'.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="dunning-connector"'
        return response
    wait = apikeys.count_call(rt, caller, rt.settings.api_rate_limit_per_minute)
    if wait:
        return problem_response(429, f"Too many calls with this key: try again in {wait} seconds.", Retry_After=wait)
    g.api_caller = caller
    return None


@bp.after_request
def _etag(response: Response) -> Response:
    return with_etag(response)


@bp.get("/openapi.json")
def openapi_document() -> Any:
    return jsonify(openapi("dunning-connector API", "1.0.0"))


def _problem(exc: Problem) -> Response:
    return problem_response(exc.status, exc.detail, errors=exc.errors, **exc.headers)


def _not_found(exc: NotFound) -> Response:
    return problem_response(404, str(exc))


def _conflict(exc: PermanentError) -> Response:
    return problem_response(409, str(exc))


def _invalid(exc: notify.InvalidSubscription) -> Response:
    return problem_response(422, f"{str(exc)[:1].upper()}{str(exc)[1:]}.")


bp.register_error_handler(Problem, _problem)
bp.register_error_handler(NotFound, _not_found)
bp.register_error_handler(PermanentError, _conflict)
bp.register_error_handler(notify.InvalidSubscription, _invalid)


def api_error(exc: Exception) -> Response | None:
    """The problem+json answer for an error under ``/api/`` (unknown route, method, size, crash); else None."""
    if not request.path.startswith("/api/"):
        return None
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        if status == 405 and any(part.isdigit() and int(part) > MAX_ID for part in request.path.split("/")):
            status = 404  # werkzeug answers 405 when two methods' rules share a path and its id is out of range
        detail = {
            404: "There is no such resource: see /api/v1/openapi.json for the paths.",
            405: f"{request.method} is not allowed here: see /api/v1/openapi.json.",
            413: "The request body is too large.",
        }.get(status, exc.description or "The request could not be handled.")
        return problem_response(status, detail)
    log.exception("api.error", path=request.path, error=type(exc).__name__)
    return problem_response(500, "Internal error: the operator can find the details in the server log.")


def register(app: Flask) -> None:
    app.register_blueprint(bp)


__all__ = ["api_error", "bp", "register"]
