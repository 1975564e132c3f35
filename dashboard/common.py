"""What every page of the web app shares: the request's organisation and services, its language, the login and
CSRF guard, the money filter and the page renderer.

Used by the ``pages`` and ``oauth`` blueprints (``dashboard.pages``, ``dashboard.oauth``); the JSON API
(``dashboard.api``) checks its own bearer tokens and the webhook receiver (``webhooks``) its signatures.
"""

from __future__ import annotations

import hmac
import json
import secrets
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.numbers import format_currency
from flask import Response, current_app, render_template, request, session

from connector.registry import ADAPTERS

TRANSLATIONS = Path(__file__).parent / "translations"
OPEN_PATHS = ("/oauth/",)  # the provider's redirect lands in the user's browser, which may not be logged in


def services() -> Any:
    """The runtime, queue and organisation ``create_app`` put on the app."""
    return current_app.extensions["dunning"]


@cache
def messages(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((TRANSLATIONS / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def lang() -> str:
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen not in ("nl", "en"):
        chosen = request.accept_languages.best_match(["nl", "en"]) or "nl"
    return chosen


def guard() -> Response | None:
    """Login (HTTP Basic with DUNNING_DASHBOARD_PASSWORD, compared in constant time) and CSRF on every post."""
    password = services().runtime.settings.dashboard_password.get_secret_value()
    if password and not request.path.startswith(OPEN_PATHS):
        given = (request.authorization.password if request.authorization else None) or ""
        if not hmac.compare_digest(given.encode(), password.encode()):
            return Response(
                "Log in with the dashboard password (DUNNING_DASHBOARD_PASSWORD).",
                401,
                {"WWW-Authenticate": 'Basic realm="dunning-connector"'},
            )
    if request.method == "POST":
        expected = session.get("csrf", "")
        if not expected or not hmac.compare_digest(str(request.form.get("csrf", "")).encode(), expected.encode()):
            return Response("This form has expired: reload the page and try again.", 400)
    return None


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def money(amount: Any, currency: str | None = "EUR") -> str:
    """An amount as the user reads it: ``€ 69.212,49`` in Dutch, ``€69,212.49`` in English (babel)."""
    if amount in (None, ""):
        return ""
    locale = "nl_NL" if lang() == "nl" else "en_GB"
    return format_currency(Decimal(str(amount)), currency or "EUR", locale=locale)


def page(template: str, **context: Any) -> Response:
    """Render ``template`` in the user's language (remembered in a cookie) with the CSRF token for its forms."""
    chosen = lang()
    body = render_template(
        template, t=messages(chosen), lang=chosen, providers=sorted(ADAPTERS), csrf=csrf_token(), **context
    )
    response = Response(body)
    response.set_cookie("lang", chosen, samesite="Lax")
    return response
