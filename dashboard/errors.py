"""Error pages of the web app: what went wrong in the user's language, never a bare "Internal Server Error".

Registered by ``create_app``. A page raises ``PageError`` for a refusal it can explain (an unknown provider in
``/connect/<provider>``); anything unexpected is logged with its traceback for the operator and shown to the user
as a short page that says what to do. A broken setting (an invalid policy file, a missing key) names the problem,
since the person looking is usually the one who can fix it. The JSON API and the webhook receiver keep answering
in JSON / plain status codes.
"""

from __future__ import annotations

from typing import Any

import structlog
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from connector.errors import ConfigurationError, PolicyError
from dashboard.common import lang, messages, page

log = structlog.get_logger(__name__)
MACHINE_PATHS = ("/api/", "/webhooks/")


class PageError(Exception):
    """A refusal a page explains: HTTP status, the translation keys of title and text, and the text's values."""

    def __init__(self, status: int, title: str, detail: str, **values: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.values = status, title, detail, values


def _render(status: int, title: str, detail: str) -> Any:
    try:
        return page("message.html", title=title, detail=detail), status
    except Exception:  # noqa: BLE001 - the error page itself failed: plain text, still in the user's language
        log.exception("dashboard.error_page_failed")
        texts = messages("nl" if "nl" in str(request.accept_languages) else "en")
        return Response(f"{texts[title]}\n{detail}\n", status, mimetype="text/plain"), status


def _translated(key: str, **values: str) -> str:
    return messages(lang())[key].format(**values)


def _page_error(exc: PageError) -> Any:
    return _render(exc.status, exc.title, _translated(exc.detail, **exc.values))


def _unexpected(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        if exc.code == 404 and not request.path.startswith(MACHINE_PATHS):
            return _render(404, "not_found_title", _translated("not_found_detail"))
        return exc
    log.exception("dashboard.error", path=request.path, error=type(exc).__name__)
    if request.path.startswith(MACHINE_PATHS):
        return jsonify(error="internal error: the operator can find the details in the server log"), 500
    if isinstance(exc, PolicyError | ConfigurationError):
        return _render(500, "error_title", f"{_translated('error_settings')} {exc}")
    return _render(500, "error_title", _translated("error_detail"))


def register_error_pages(app: Flask) -> None:
    app.register_error_handler(PageError, _page_error)
    app.register_error_handler(Exception, _unexpected)
