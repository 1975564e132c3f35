"""The cockpit page: every client administration of a practice in one table, the portfolio's totals and aging,
and the bulk actions over a selection.

A page blueprint beside ``dashboard.pages`` (registered by ``create_app``; the navigation offers it to a practice
or an organisation with more than one administration). It reads through ``connector.cockpit`` scoped to the
member's organisation (``dashboard.access``): a page costs a fixed number of SQL queries whatever the number of
administrations. The bulk form posts with the CSRF token; pausing and assigning a policy need a controller, safe mode
an owner (as the overview's safe-mode switch); each change is audited with the member's e-mail (docs/cockpit.md).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, Response, abort, flash, get_flashed_messages, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from connector import cockpit as work
from connector.errors import ConnectorError, NotFound
from connector.registry import ADAPTERS
from dashboard.access import current_org_id, current_user
from dashboard.charts import PALETTE, Series, bar_chart
from dashboard.common import page, services
from dashboard.i18n import money
from dashboard.reports import BUCKETS

bp = Blueprint("cockpit", __name__, template_folder="templates")
COLUMNS = {
    "name": _l("Client"),
    "package": _l("Package"),
    "open": _l("Open"),
    "overdue": _l("Overdue"),
    "dso": _l("DSO"),
    "actions": _l("Today's actions"),
    "last_sync": _l("Last sync"),
}
HEALTH = {
    "reauth": _l("needs re-authorisation"),
    "parked": _l("parked by a daily limit"),
    "webhooks_failing": _l("webhooks failing"),
    "dead_letters": _l("dead letters"),
    "safe_mode": _l("safe mode on"),
    "paused": _l("dunning paused"),
    "healthy": _l("all well"),
}
ACTIONS = {
    "pause": _l("Pause dunning"),
    "resume": _l("Resume dunning"),
    "safe_mode_on": _l("Safe mode on"),
    "safe_mode_off": _l("Safe mode off"),
    "assign_policy": _l("Assign policy"),
}
OWNER_ONLY = {"safe_mode_on", "safe_mode_off"}  # as pages.safe_mode: switching safe mode is an owner's call


def _query() -> work.CockpitQuery:
    args = request.args
    page_no = args.get("page", "")
    number = int(page_no) if page_no.isdigit() and 0 < int(page_no) < 100_000 else 1
    return work.CockpitQuery(
        sort=str(args.get("sort")) if args.get("sort") in COLUMNS else "name",
        descending=args.get("dir") == "desc",
        package=args.get("package") if args.get("package") in ADAPTERS else None,
        health=args.get("health") if args.get("health") in HEALTH else None,
        search=(args.get("q") or "").strip()[:100] or None,
        offset=(number - 1) * work.PAGE_SIZE,
        limit=work.PAGE_SIZE,
    )


def _charts(totals: list[work.PortfolioTotal]) -> list[Any]:
    labels = [str(label) for label in BUCKETS.values()]
    return [
        bar_chart(
            chart_id=f"portfolio-aging-{t.currency}",
            title=_("Portfolio aging in %(currency)s", currency=t.currency),
            categories=labels,
            series=[Series(_("Open"), list(t.buckets), PALETTE[0])],
            fmt=partial(money, currency=t.currency),
        )
        for t in totals
    ]


@bp.get("/cockpit")
def cockpit() -> Response:
    ctx, org_id = services(), current_org_id()
    query = _query()
    result = work.cockpit(ctx.runtime, org_id, query, ctx.runtime.today(org_id))
    member = current_user()
    args = {k: v for k, v in request.args.items() if k in ("sort", "dir", "package", "health", "q")}
    return page(
        "cockpit.html",
        section="cockpit",
        result=result,
        query=query,
        page_no=query.offset // work.PAGE_SIZE + 1,
        pages=max(1, -(-result.total // work.PAGE_SIZE)),
        args=args,
        columns=COLUMNS,
        health=HEALTH,
        actions={k: v for k, v in ACTIONS.items() if k not in OWNER_ONLY or (member and member.may("owner"))},
        policies=work.policy_names(ctx.runtime, org_id) if member and member.may("controller") else [],
        charts=_charts(result.totals),
        bucket_labels=list(BUCKETS.values()),
        notices=get_flashed_messages(with_categories=True),
        packages=sorted(ADAPTERS),
    )


def _back() -> Any:
    target = request.form.get("back", "")
    if not target.startswith("/cockpit") or target.startswith("//"):
        target = url_for("cockpit.cockpit")
    return redirect(target)


@bp.post("/cockpit/bulk")
def bulk() -> Any:
    """Pause or resume dunning, switch safe mode or assign a policy for the ticked administrations."""
    action = request.form.get("action", "")
    if action not in ACTIONS:
        flash(_("Choose what to do with the ticked administrations."), "bad")
        return _back()
    member = current_user()
    if action in OWNER_ONLY and not (member and member.may("owner")):
        abort(403)
    raw = request.form.getlist("administration")
    if not raw:
        flash(_("Tick the administrations to change first."), "bad")
        return _back()
    if not all(value.isdigit() and len(value) < 12 for value in raw):
        abort(404)
    who = (member.email if member and member.email else None) or "operator"
    try:
        with work.acting_as(who):
            count = work.bulk(
                services().runtime,
                current_org_id(),
                action,
                [int(v) for v in raw],
                who=who,
                policy=request.form.get("policy") or None,
            )
    except NotFound:
        abort(404)  # another organisation's administration: nothing changed
    except ConnectorError:
        flash(_("That policy cannot be assigned: choose one from the list."), "bad")
        return _back()
    flash(_("%(action)s: %(count)d administrations changed.", action=ACTIONS[action], count=count), "ok")
    return _back()
