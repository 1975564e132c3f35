"""Dashboard pages, OAuth connect/callback routes and the read-only JSON API (bearer tokens)."""

from __future__ import annotations

import hmac
import json
import secrets
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_currency
from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, session, url_for

from connector import queries, services
from connector.connect import complete_connect, start_connect
from connector.errors import ConnectorError
from connector.registry import ADAPTERS
from dashboard.errors import PageError

bp = Blueprint("dashboard", __name__, template_folder="templates")
TRANSLATIONS = Path(__file__).parent / "translations"


@cache
def _messages(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((TRANSLATIONS / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def _lang() -> str:
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen not in ("nl", "en"):
        chosen = request.accept_languages.best_match(["nl", "en"]) or "nl"
    return chosen


OPEN_PATHS = ("/oauth/", "/api/v1/")  # the provider's redirect lands in the user's browser; the API has bearer tokens


@bp.before_app_request
def _guard() -> Response | None:
    """Dashboard login (HTTP Basic with DUNNING_DASHBOARD_PASSWORD, compared in constant time) and CSRF on posts.

    Webhooks are not this blueprint's (signed by the provider); the JSON API checks its own bearer tokens.
    """
    if request.blueprint != "dashboard":
        return None
    password = _ctx().runtime.settings.dashboard_password.get_secret_value()
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


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def _ctx() -> Any:
    return current_app.extensions["dunning"]


@bp.app_template_filter("money")
def money(amount: Any, currency: str | None = "EUR") -> str:
    """An amount as the user reads it: ``€ 69.212,49`` in Dutch, ``€69,212.49`` in English (babel)."""
    if amount in (None, ""):
        return ""
    locale = "nl_NL" if _lang() == "nl" else "en_GB"
    return format_currency(Decimal(str(amount)), currency or "EUR", locale=locale)


def _page(template: str, **context: Any) -> Response:
    lang = _lang()
    body = render_template(
        template, t=_messages(lang), lang=lang, providers=sorted(ADAPTERS), csrf=_csrf_token(), **context
    )
    response = Response(body)
    response.set_cookie("lang", lang, samesite="Lax")
    return response


@bp.get("/")
def index() -> Response:
    ctx = _ctx()
    return _page(
        "index.html",
        administrations=queries.administrations(ctx.runtime, ctx.org_id),
        worklist=queries.worklist(ctx.runtime, ctx.org_id),
        previews=queries.previews(ctx.runtime, ctx.org_id),
        dead=queries.dead_letters(ctx.runtime, ctx.org_id),
        phone_tasks=queries.phone_tasks(ctx.runtime, ctx.org_id),
        credit_stops=queries.credit_stops(ctx.runtime, ctx.org_id),
        over_limit=queries.over_credit_limit(ctx.runtime, ctx.org_id),
    )


@bp.get("/tomorrow")
def tomorrow() -> Response:
    """Tomorrow's actions (dry run): what the next daily run would send, for a last look before it happens."""
    ctx = _ctx()
    today = ctx.runtime.clock().astimezone(ZoneInfo("Europe/Amsterdam")).date()
    return _page("tomorrow.html", actions=queries.tomorrow(ctx.runtime, ctx.org_id, today))


@bp.post("/administrations/<int:administration_id>/safe-mode")
def safe_mode(administration_id: int) -> Any:
    ctx = _ctx()
    try:
        services.set_safe_mode(ctx.runtime, ctx.org_id, administration_id, request.form.get("enabled") == "1")
    except ConnectorError:
        abort(404)
    return redirect(url_for("dashboard.index"))


@bp.get("/dead-letters")
def dead_letters() -> Response:
    ctx = _ctx()
    return _page("dead_letters.html", dead=queries.dead_letters(ctx.runtime, ctx.org_id))


@bp.post("/dead-letters/replay")
def replay() -> Any:
    from connector.inbox import replay_dead

    ctx = _ctx()
    for event_id in replay_dead(ctx.runtime, ctx.org_id):
        ctx.queue.enqueue("process_event", f"event:{event_id}", {"org_id": ctx.org_id, "event_id": event_id})
    return redirect(url_for("dashboard.dead_letters"))


@bp.get("/connect/<provider>")
def connect(provider: str) -> Any:
    if provider not in ADAPTERS:
        choices = ", ".join(ADAPTERS[p].name for p in sorted(ADAPTERS))
        raise PageError(404, "not_found_title", "unknown_provider", provider=provider, choices=choices)
    ctx = _ctx()
    callback = url_for("dashboard.callback", provider=provider, _external=True)
    return redirect(start_connect(ctx.runtime, ctx.org_id, provider, callback))


@bp.get("/oauth/<provider>/callback")
def callback(provider: str) -> Any:
    ctx = _ctx()
    if request.args.get("error"):
        return _page(
            "message.html",
            title="connect_failed",
            detail=request.args.get("error_description") or request.args["error"],
        ), 400
    code, state = request.args.get("code"), request.args.get("state")
    if not code or not state:
        return _page("message.html", title="connect_failed", detail="missing code or state"), 400
    try:
        connected = complete_connect(ctx.runtime, provider, code, state, expected_org=ctx.org_id)
    except ConnectorError as exc:
        return _page("message.html", title="connect_failed", detail=str(exc)), 400
    ctx.queue.enqueue(
        "sync_connection",
        f"sync:{connected.connection_id}",
        {"org_id": ctx.org_id, "connection_id": connected.connection_id, "full": True},
    )
    return _page("message.html", title="connected", detail=f"{connected.administrations}")


def _authorised() -> bool:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip().encode()
    tokens = [t.get_secret_value().encode() for t in _ctx().runtime.settings.api_tokens]
    return bool(token) and any(hmac.compare_digest(token, t) for t in tokens)


@bp.get("/api/v1/administrations")
def api_administrations() -> Any:
    if not _authorised():
        return jsonify(error="missing or wrong bearer token: set DUNNING_API_TOKENS and send it"), 401
    ctx = _ctx()
    return jsonify(queries.as_dicts(queries.administrations(ctx.runtime, ctx.org_id)))


@bp.get("/api/v1/worklist")
def api_worklist() -> Any:
    if not _authorised():
        return jsonify(error="missing or wrong bearer token: set DUNNING_API_TOKENS and send it"), 401
    ctx = _ctx()
    return jsonify(queries.worklist(ctx.runtime, ctx.org_id))
