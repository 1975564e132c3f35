"""Error pages of the web app: what went wrong in the user's language, never a bare "Internal Server Error".

Registered by ``create_app``. A page raises ``PageError`` for a refusal it can explain (an unknown provider in
``/connect/<provider>``); anything unexpected is logged with its traceback for the operator and shown to the user
as a short page that says what to do. A broken setting (an invalid policy file, a missing key) names the problem,
since the person looking is usually the one who can fix it. An expired form (CSRF), a missing login or role get a
page of their own. The JSON API answers RFC 9457 problem details (``dashboard.api.api_error``), the webhook
receiver plain status codes.
"""

from __future__ import annotations

from typing import Any

import structlog
from flask import Flask, Response, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from connector.errors import ConfigurationError, PolicyError
from dashboard.api import api_error
from dashboard.common import page

log = structlog.get_logger(__name__)
MACHINE_PATHS = ("/api/", "/webhooks/")
TITLES = {  # the page's title per status, for the refusals werkzeug raises (abort(403), a 405, ...)
    400: _l("This request could not be handled"),
    401: _l("Please log in"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Not allowed"),
    413: _l("Too large"),
}
DETAILS = {
    400: _l("Go back, reload the page and try again."),
    401: _l("Log in to see this page."),
    403: _l("Your role in this organisation does not allow this. Ask an owner of the organisation."),
    404: _l("There is no page at this address."),
    405: _l("This address cannot be used this way. Go back and use the page's buttons."),
    413: _l("What you sent is too large for this page."),
}


class PageError(Exception):
    """A refusal a page explains: HTTP status, title and text, both already in the user's language."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def _render(status: int, title: str, detail: str) -> Any:
    try:
        return page("message.html", title=title, detail=detail), status
    except Exception:  # noqa: BLE001 - the error page itself failed: plain text, still in the user's language
        log.exception("dashboard.error_page_failed")
        return Response(f"{title}\n{detail}\n", status, mimetype="text/plain"), status


def _page_error(exc: PageError) -> Any:
    return _render(exc.status, exc.title, exc.detail)


def _expired_form(_exc: CSRFError) -> Any:
    return _render(400, _("This form has expired"), _("Reload the page and try again."))


def _unexpected(exc: Exception) -> Any:
    answered = api_error(exc)
    if answered is not None:
        return answered
    if isinstance(exc, HTTPException):
        if request.path.startswith(MACHINE_PATHS) or exc.code not in TITLES:
            return exc
        return _render(exc.code or 500, str(TITLES[exc.code]), str(DETAILS[exc.code]))
    log.exception("dashboard.error", path=request.path, error=type(exc).__name__)
    if request.path.startswith(MACHINE_PATHS):
        return jsonify(error="internal error: the operator can find the details in the server log"), 500
    if isinstance(exc, PolicyError | ConfigurationError):
        return _render(
            500,
            _("Something went wrong"),
            f"{_('This page could not be shown because of a problem in the settings:')} {exc}",
        )
    return _render(
        500,
        _("Something went wrong"),
        _(
            "This page could not be shown. Try again in a moment; if it keeps happening, ask whoever runs this "
            "installation to look at its log."
        ),
    )


def register_error_pages(app: Flask) -> None:
    app.register_error_handler(PageError, _page_error)
    app.register_error_handler(CSRFError, _expired_form)
    app.register_error_handler(Exception, _unexpected)
