"""The worklist page: today's open steps with filters, bulk selection, per-row actions and the message preview.

A blueprint beside ``dashboard.pages`` (registered by ``create_app``); its sibling ``dashboard.debtor_pages`` adds
the debtors, debtor, invoice and search pages to the same blueprint. Reads and commands go through
``connector.worklist`` (and ``connector.queries`` for the tabs it shares with the overview), scoped to the member's
organisation (``dashboard.access``); every post needs a controller, carries the CSRF token, is recorded with the
member's e-mail (``worklist.acting_as``) and answers with a redirect and a one-line notice in the user's language
(docs/worklist.md).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, get_flashed_messages, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from connector import queries, worklist
from connector.errors import ConnectorError, NotFound
from dashboard.access import current_org_id, current_user, requires
from dashboard.common import page, services

bp = Blueprint("worklist", __name__, template_folder="templates")

STATUSES = {
    "pending": _l("queued"),
    "awaiting_approval": _l("to approve"),
    "task_open": _l("to do"),
    "failed": _l("failed"),
    "done": _l("done"),
    "skipped": _l("skipped"),
}
CHANNELS = {
    "email": _l("e-mail"),
    "letter": _l("letter"),
    "phone": _l("phone"),
    "provider": _l("accounting package"),
    "task": _l("task"),
    "note": _l("note"),
}
TAB_LABELS = {
    "today": _l("Today"),
    "approval": _l("To approve"),
    "phone": _l("Calls"),
    "snoozed": _l("Snoozed"),
    "tomorrow": _l("Tomorrow"),
    "credit_stops": _l("Credit stops"),
    "over_limit": _l("Over limit"),
}


def labels() -> dict[str, Any]:
    """What every page of the blueprint passes its templates: the words for codes."""
    return {"statuses": STATUSES, "channels": CHANNELS, "notices": get_flashed_messages(with_categories=True)}


def actor() -> str:
    member = current_user()
    return (member.email if member and member.email else None) or "operator"


def _int(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


@bp.get("/worklist", endpoint="worklist")
def worklist_view() -> Response:
    ctx, org_id = services(), current_org_id()
    rt = ctx.runtime
    tab = request.args.get("tab", "today")
    if tab not in worklist.TABS:
        tab = "today"
    today = rt.today(org_id)
    query = worklist.WorklistQuery(
        tab=tab,
        administration_id=_int("administration"),
        step=request.args.get("step") or None,
        channel=request.args.get("channel") or None,
        debtor_id=_int("debtor"),
        search=(request.args.get("q") or "").strip()[:100] or None,
        after=_int("after"),
    )
    result = worklist.worklist_page(rt, org_id, query, today)
    extra: dict[str, Any] = {}
    if tab == "tomorrow":
        extra["tomorrow"] = queries.tomorrow(rt, org_id, today)
    elif tab == "credit_stops":
        extra["credit_stops"] = queries.credit_stops(rt, org_id)
    elif tab == "over_limit":
        extra["over_limit"] = queries.over_credit_limit(rt, org_id)
    return page(
        "worklist.html",
        section="worklist",
        tab=tab,
        tabs=TAB_LABELS,
        query=query,
        result=result,
        today=today,
        args={k: v for k, v in request.args.items() if k not in ("after", "lang")},
        **labels(),
        **extra,
    )


def _back() -> Any:
    target = request.form.get("back", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("worklist.worklist")
    return redirect(target)


def _report(result: worklist.BulkResult, done_text: str) -> None:
    if result.done:
        flash(done_text % {"count": len(result.done)}, "ok")
    if result.refused:
        refused = len(result.refused)
        flash(_("%(count)d could not be changed: they were sent or closed meanwhile.", count=refused), "bad")


@bp.post("/worklist/act")
@requires("controller")
def act() -> Any:
    """One form for a row's buttons and the bulk bar: ``action`` on the ticked (or the one named) items."""
    rt, org_id = services().runtime, current_org_id()
    ids = [int(v) for v in request.form.getlist("item") if v.isdigit()][:500]
    action = request.form.get("action", "")
    row_action, _sep, row_id = request.form.get("row", "").partition(":")
    if row_id.isdigit():  # a row's own button: that row only, whatever else is ticked
        action, ids = row_action, [int(row_id)]
    if not ids:
        flash(_("Tick one or more rows first."), "bad")
        return _back()
    with worklist.acting_as(actor()):
        if action == "approve":
            _report(worklist.approve_many(rt, org_id, ids), _("Approved: %(count)d."))
        elif action == "skip":
            reason = " ".join(request.form.get("reason", "").split())
            if not reason:
                flash(_("Say why the step is skipped."), "bad")
                return _back()
            _report(worklist.skip_many(rt, org_id, ids, reason), _("Skipped: %(count)d."))
        elif action == "snooze":
            until = _day(request.form.get("until"))
            if until is None or until <= rt.today(org_id):
                flash(_("Choose a day after today to snooze to."), "bad")
                return _back()
            _report(worklist.snooze_many(rt, org_id, ids, until), _("Snoozed: %(count)d."))
        else:
            abort(400)
    return _back()


@bp.get("/worklist/<int:item_id>/preview")
def message_preview(item_id: int) -> Response:
    rt, org_id = services().runtime, current_org_id()
    try:
        shown = worklist.preview(rt, org_id, item_id)
    except NotFound:
        abort(404)
    except ConnectorError:
        return page("worklist_preview.html", section="worklist", shown=None, item_id=item_id, **labels())
    return page("worklist_preview.html", section="worklist", shown=shown, item_id=item_id, **labels())


@bp.get("/worklist/<int:item_id>/letter.pdf")
def letter_pdf(item_id: int) -> Response:
    rt, org_id = services().runtime, current_org_id()
    try:
        shown = worklist.preview(rt, org_id, item_id)
    except ConnectorError:
        abort(404)
    if shown.letter_pdf is None:
        abort(404)
    headers = {"Content-Disposition": f'inline; filename="{shown.letter_filename}"'}
    return Response(shown.letter_pdf, mimetype="application/pdf", headers=headers)
