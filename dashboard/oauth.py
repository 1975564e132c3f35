"""Connecting an accounting package from the browser: ``/connect/<provider>`` and the provider's redirect back.

The start of the pipeline for the web app (``dunning connect`` is the same for the command line): the flow itself
is ``connector.connect``; after it completes, the first full sync of the new connection is enqueued.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for
from flask_babel import gettext as _

from connector import onboarding
from connector.connect import complete_connect, redirect_uri, start_connect
from connector.errors import ConnectorError
from connector.registry import ADAPTERS
from dashboard.access import current_org_id, current_user, requires
from dashboard.common import page, services
from dashboard.connections import reconnecting
from dashboard.errors import PageError
from dashboard.onboarding import start_for
from dashboard.signup import signing_up

bp = Blueprint("oauth", __name__, template_folder="templates")
# /connect needs an owner; the redirect back (/oauth/...) lands without a login (dashboard.access.OPEN_PATHS)


@bp.get("/connect/<provider>")
@requires("owner")
def connect(provider: str) -> Any:
    if provider not in ADAPTERS:
        choices = ", ".join(ADAPTERS[p].name for p in sorted(ADAPTERS))
        raise PageError(
            404,
            _("Page not found"),
            _(
                "There is no accounting package called '%(provider)s' here. You can connect: %(choices)s.",
                provider=provider,
                choices=choices,
            ),
        )
    ctx = services()
    callback = redirect_uri(ctx.runtime, provider)  # from DUNNING_BASE_URL, never the request's Host
    return redirect(start_connect(ctx.runtime, current_org_id(), provider, callback))


@bp.get("/oauth/<provider>/callback")
def callback(provider: str) -> Any:
    ctx = services()
    if request.args.get("error"):
        return page(
            "message.html",
            title=_("Connecting failed – please connect again"),
            detail=request.args.get("error_description") or request.args["error"],
        ), 400
    code, state = request.args.get("code"), request.args.get("state")
    if not code or not state:
        return page(
            "message.html",
            title=_("Connecting failed – please connect again"),
            detail=_("The package sent no code or state back."),
        ), 400
    try:
        member = current_user()  # the state names the organisation; a signed-in browser must be of that one
        expected = member.org_id if member is not None and member.user_id is not None else signing_up()
        again = reconnecting(provider)
        waiting = onboarding.not_started(ctx.runtime, expected) if expected is not None else set()
        connected = complete_connect(ctx.runtime, provider, code, state, expected_org=expected, reconnect=again)
    except ConnectorError as exc:
        return page("message.html", title=_("Connecting failed – please connect again"), detail=str(exc)), 400
    ctx.queue.enqueue(
        "sync_connection",
        f"sync:{connected.connection_id}",
        {"org_id": connected.org_id, "connection_id": connected.connection_id, "full": True},
    )
    if again is not None:
        return redirect(url_for("connections.connections", reconnected=1))
    if signing_up() == connected.org_id:
        return redirect(url_for("signup.account"))
    added = onboarding.not_started(ctx.runtime, connected.org_id) - waiting
    if added and member is not None and member.user_id is not None:  # docs/onboarding.md#connections
        start_for(added)  # its new administrations go through the wizard; the others stay as they are
        return redirect(url_for("onboarding.wizard"))
    return page("message.html", title=_("Connected"), detail=f"{connected.administrations}")
