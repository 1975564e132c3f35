"""The dashboard's pages behind the login: overview and worklist, tomorrow's actions, dead letters, safe mode.

Every page reads through ``connector.queries`` and changes state through ``connector.services``, scoped to the
app's organisation; forms post with a CSRF token (``dashboard.common.guard``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, request, url_for

from connector import queries, services
from connector.errors import ConnectorError
from dashboard.common import guard, money, page
from dashboard.common import services as app_services

bp = Blueprint("pages", __name__, template_folder="templates")
bp.before_request(guard)
bp.add_app_template_filter(money, "money")


@bp.get("/")
def index() -> Response:
    ctx = app_services()
    return page(
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
    ctx = app_services()
    return page("tomorrow.html", actions=queries.tomorrow(ctx.runtime, ctx.org_id, ctx.runtime.today(ctx.org_id)))


@bp.post("/administrations/<int:administration_id>/safe-mode")
def safe_mode(administration_id: int) -> Any:
    ctx = app_services()
    try:
        services.set_safe_mode(ctx.runtime, ctx.org_id, administration_id, request.form.get("enabled") == "1")
    except ConnectorError:
        abort(404)
    return redirect(url_for("pages.index"))


@bp.get("/dead-letters")
def dead_letters() -> Response:
    ctx = app_services()
    return page("dead_letters.html", dead=queries.dead_letters(ctx.runtime, ctx.org_id))


@bp.post("/dead-letters/replay")
def replay() -> Any:
    from connector.inbox import replay_dead

    ctx = app_services()
    for event_id in replay_dead(ctx.runtime, ctx.org_id):
        ctx.queue.enqueue("process_event", f"event:{event_id}", {"org_id": ctx.org_id, "event_id": event_id})
    return redirect(url_for("pages.dead_letters"))
