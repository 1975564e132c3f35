"""The dashboard's pages behind the login: overview and worklist, tomorrow's actions, dead letters, safe mode.

Every page reads through ``connector.queries`` and changes state through ``connector.services``, scoped to the
signed-in member's organisation (``dashboard.access``); forms post with a CSRF token and need a controller.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from connector import onboarding, queries, services
from connector.errors import ConnectorError
from connector.reports.build import headline
from dashboard.access import current_org_id, requires
from dashboard.common import page
from dashboard.common import services as app_services

bp = Blueprint("pages", __name__, template_folder="templates")
STATUSES = {  # an outbox item's status as the worklist names it
    "pending": _l("queued"),
    "done": _l("sent"),
    "skipped": _l("skipped (paid meanwhile)"),
    "failed": _l("failed"),
    "awaiting_approval": _l("awaiting approval"),
    "task_open": _l("open task"),
}


@bp.get("/")
def index() -> Response:
    ctx, org_id = app_services(), current_org_id()
    return page(
        "index.html",
        administrations=queries.administrations(ctx.runtime, org_id),
        worklist=queries.worklist(ctx.runtime, org_id),
        previews=queries.previews(ctx.runtime, org_id),
        dead=queries.dead_letters(ctx.runtime, org_id),
        phone_tasks=queries.phone_tasks(ctx.runtime, org_id),
        credit_stops=queries.credit_stops(ctx.runtime, org_id),
        over_limit=queries.over_credit_limit(ctx.runtime, org_id),
        statuses=STATUSES,
        figures=headline(ctx.runtime, org_id, ctx.runtime.today(org_id)),
        onboarding_open=not onboarding.finished(ctx.runtime, org_id),
        open_actions=queries.todays_actions(ctx.runtime, org_id),
    )


@bp.get("/tomorrow")
def tomorrow() -> Response:
    """Tomorrow's actions (dry run): what the next daily run would send, for a last look before it happens."""
    ctx, org_id = app_services(), current_org_id()
    return page("tomorrow.html", actions=queries.tomorrow(ctx.runtime, org_id, ctx.runtime.today(org_id)))


@bp.post("/administrations/<int:administration_id>/safe-mode")
@requires("owner")
def safe_mode(administration_id: int) -> Any:
    ctx = app_services()
    try:
        services.set_safe_mode(ctx.runtime, current_org_id(), administration_id, request.form.get("enabled") == "1")
    except ConnectorError:
        abort(404)
    return redirect(url_for("pages.index"))


@bp.get("/dead-letters")
def dead_letters() -> Response:
    ctx = app_services()
    return page(
        "dead_letters.html",
        dead=queries.dead_letters(ctx.runtime, current_org_id()),
        unrouted=queries.dead_letters(ctx.runtime, None),  # the operator's: no organisation holds their tenant
    )


@bp.post("/dead-letters/replay")
@requires("controller")
def replay() -> Any:
    from connector.inbox import replay_dead

    ctx, org_id = app_services(), current_org_id()
    for event_id in replay_dead(ctx.runtime, org_id):
        ctx.queue.enqueue("process_event", f"event:{event_id}", {"org_id": org_id, "event_id": event_id})
    return redirect(url_for("pages.dead_letters"))
