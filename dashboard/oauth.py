"""Connecting an accounting package from the browser: ``/connect/<provider>`` and the provider's redirect back.

The start of the pipeline for the web app (``dunning connect`` is the same for the command line): the flow itself
is ``connector.connect``; after it completes, the first full sync of the new connection is enqueued.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for

from connector.connect import complete_connect, start_connect
from connector.errors import ConnectorError
from connector.registry import ADAPTERS
from dashboard.common import guard, page, services
from dashboard.errors import PageError

bp = Blueprint("oauth", __name__, template_folder="templates")
bp.before_request(guard)  # /connect needs the login; the redirect back (/oauth/...) lands without one


@bp.get("/connect/<provider>")
def connect(provider: str) -> Any:
    if provider not in ADAPTERS:
        choices = ", ".join(ADAPTERS[p].name for p in sorted(ADAPTERS))
        raise PageError(404, "not_found_title", "unknown_provider", provider=provider, choices=choices)
    ctx = services()
    callback = url_for("oauth.callback", provider=provider, _external=True)
    return redirect(start_connect(ctx.runtime, ctx.org_id, provider, callback))


@bp.get("/oauth/<provider>/callback")
def callback(provider: str) -> Any:
    ctx = services()
    if request.args.get("error"):
        return page(
            "message.html",
            title="connect_failed",
            detail=request.args.get("error_description") or request.args["error"],
        ), 400
    code, state = request.args.get("code"), request.args.get("state")
    if not code or not state:
        return page("message.html", title="connect_failed", detail="missing code or state"), 400
    try:
        connected = complete_connect(ctx.runtime, provider, code, state, expected_org=ctx.org_id)
    except ConnectorError as exc:
        return page("message.html", title="connect_failed", detail=str(exc)), 400
    ctx.queue.enqueue(
        "sync_connection",
        f"sync:{connected.connection_id}",
        {"org_id": ctx.org_id, "connection_id": connected.connection_id, "full": True},
    )
    return page("message.html", title="connected", detail=f"{connected.administrations}")
