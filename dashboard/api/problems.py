"""RFC 9457 problem details: the one shape of every error the API answers, 4xx and 5xx alike.

``Problem`` is raised by handlers and the route registry (``dashboard.api.spec``); ``problem_response`` renders it
as ``application/problem+json``; ``http_problem`` turns Flask's own errors (unknown route, wrong method, a body
over the limit) into the same shape for every path under ``/api/`` (docs/api.md#errors).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from pydantic import BaseModel, Field, ValidationError

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


class FieldError(BaseModel):
    field: str
    message: str


class ProblemDetails(BaseModel):
    """An error as RFC 9457 describes it; ``errors`` lists the fields at fault for a 422."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


class Problem(Exception):
    def __init__(self, status: int, detail: str, *, errors: list[FieldError] | None = None, **headers: str) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors or [], headers


def problem_response(status: int, detail: str, *, errors: list[FieldError] | None = None, **headers: Any) -> Response:
    body = ProblemDetails(
        title=TITLES.get(status, "Error"), status=status, detail=detail, instance=request.path, errors=errors or []
    )
    response = Response(body.model_dump_json(), status, mimetype="application/problem+json")
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = str(value)
    return response


def problem_from_validation(exc: ValidationError) -> Problem:
    errors = [
        FieldError(field=".".join(str(p) for p in e["loc"]) or "body", message=e["msg"]) for e in exc.errors()[:20]
    ]
    names = ", ".join(e.field for e in errors)
    return Problem(422, f"Fix these fields and send it again: {names}.", errors=errors)
