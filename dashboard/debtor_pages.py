"""The debtors list, the debtor page (with its inline actions), the invoice page and the global search.

Views on the ``worklist`` blueprint of ``dashboard.worklist`` (same labels, same notices). The pages read through
``connector.worklist`` and ``connector.queries``; the inline actions are ``connector.debtors``'s services (a call
with its outcome and reason, a promise to pay, a hold with a reason code, an arrangement, the credit stop), called
inside ``worklist.acting_as`` so the audit trail says who acted. A form's wrong input comes back as a notice in the
user's language; another organisation's id is a 404 (docs/worklist.md#the-debtor-page).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from connector import debtors, queries, worklist
from connector.errors import ConnectorError, NotFound
from dashboard.access import current_org_id, requires
from dashboard.common import page, services
from dashboard.worklist import actor, bp, labels

__all__ = ["bp"]

HOLD_REASONS = {
    "dispute": _l("dispute about the invoice"),
    "complaint": _l("complaint"),
    "awaiting_credit_note": _l("waiting for a credit note"),
    "payment_claimed": _l("says it has paid"),
    "talk_first": _l("talk first"),
    "insolvency": _l("insolvency"),
    "factored": _l("sold to a factor"),
    "other": _l("other"),
}
OUTCOMES = {
    "promise_to_pay": _l("promises to pay"),
    "payment_arrangement": _l("wants an arrangement"),
    "dispute": _l("disputes the invoice"),
    "already_paid": _l("says it has paid"),
    "call_back": _l("call back"),
    "no_answer": _l("no answer"),
    "voicemail": _l("voicemail"),
    "wrong_number": _l("wrong number"),
    "refused": _l("refuses to pay"),
}
LATE_REASONS = {
    "miscommunication": _l("miscommunication"),
    "dissatisfied": _l("dissatisfied"),
    "financial_trouble": _l("financial trouble"),
    "negligence": _l("forgot or neglected"),
    "other": _l("other"),
}
EVENTS = {  # a timeline entry's kind (connector.worklist.debtor.TimelineEntry)
    "invoice": _l("Invoice sent"),
    "paid": _l("Invoice paid"),
    "payment": _l("Payment received"),
    "contact": _l("Message"),
    "call": _l("Call"),
    "decision": _l("Step decided"),
    "skipped": _l("Step recorded without a message"),
    "provider_step": _l("Step sent by the accounting package"),
    "non_decision": _l("No step"),
    "hold": _l("Invoice on hold"),
    "release": _l("Hold released"),
    "debtor_hold": _l("Debtor on hold"),
    "debtor_release": _l("Debtor's hold released"),
    "promise": _l("Promise to pay"),
    "arrangement": _l("Payment arrangement"),
    "installment_paid": _l("Instalment paid"),
    "credit_stop": _l("Credit stop"),
    "credit_limit": _l("Credit limit changed"),
    "approved": _l("Step approved"),
    "task_done": _l("Task done"),
    "worklist_skip": _l("Step skipped"),
    "worklist_snooze": _l("Step snoozed"),
    "hand_over": _l("Handed over"),
    "letter_posted": _l("Letter posted"),
    "letter_printed": _l("Letter printed"),
    "letter_received": _l("Letter received"),
    "uncollectible": _l("Marked uncollectible"),
    "insolvency": _l("Insolvency"),
    "segment": _l("Segment changed"),
    "portal_answer": _l("Answer on the debtor's page"),
    "risk_class": _l("Risk class changed"),
}
WAIT_REASONS = {  # why the rules send nothing today (connector.rules.decisions.Reason)
    "no_policy": _l("No policy applies to this invoice."),
    "before_start": _l("It was due before dunning started, and you chose to skip that history."),
    "draft": _l("It is a draft."),
    "paid": _l("It is paid."),
    "credited": _l("It is credited."),
    "voided": _l("It is void."),
    "uncollectible": _l("It is marked uncollectible."),
    "handed_over": _l("It is handed over for collection."),
    "insolvent": _l("The debtor is insolvent: file the claim, do not chase."),
    "disputed": _l("It is disputed."),
    "on_hold": _l("It is on hold."),
    "paused_at_provider": _l("Reminders are paused in the accounting package."),
    "promise_pending": _l("A promise to pay is running."),
    "arrangement_active": _l("A payment arrangement is running."),
    "below_tolerance": _l("What is left is too small to chase."),
    "already_today": _l("It already had its step today."),
    "terminal": _l("The last step is reached: a person decides what comes next."),
    "not_due": _l("The next step is not due yet."),
    "fourteen_day_term": _l("The 14 days of the letter are still running."),
    "not_in_default": _l("The debtor is not in default yet, so the 14-day letter waits."),
    "letter_not_posted": _l("The 14-day letter waits to be marked as posted."),
    "new_letter_proposed": _l("The letter on record falls short; a new one waits for approval."),
    "provider_chases": _l("The accounting package sends its own reminders."),
    "interval": _l("Too soon after the last message to this debtor."),
}


def _words() -> dict[str, Any]:
    return {
        **labels(),
        "hold_reasons": HOLD_REASONS,
        "outcomes": OUTCOMES,
        "late_reasons": LATE_REASONS,
        "events": EVENTS,
        "wait_reasons": WAIT_REASONS,
    }


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.form.get(name) or "")
    except ValueError:
        return None


@bp.get("/debtors", endpoint="debtors")
def debtors_list() -> Response:
    ctx, org_id = services(), current_org_id()
    chosen = request.args.get("administration", "")  # the cockpit's drill-down names one administration
    administration_id = int(chosen) if chosen.isdigit() and len(chosen) < 12 else None
    try:
        rows = queries.debtors(ctx.runtime, org_id, ctx.runtime.today(org_id), administration_id=administration_id)
    except NotFound:
        abort(404)
    return page("debtors.html", section="debtors", rows=rows[:500], total=len(rows), **_words())


@bp.get("/debtors/<int:debtor_id>")
def debtor(debtor_id: int) -> Response:
    ctx, org_id = services(), current_org_id()
    try:
        view = worklist.debtor_view(ctx.runtime, org_id, debtor_id)
    except NotFound:
        abort(404)
    today = ctx.runtime.today(org_id)
    return page("debtor.html", section="debtors", d=view, today=today, **_words())


@bp.get("/invoices/<int:invoice_id>")
def invoice(invoice_id: int) -> Response:
    ctx, org_id = services(), current_org_id()
    try:
        view = worklist.invoice_view(ctx.runtime, org_id, invoice_id)
    except NotFound:
        abort(404)
    return page("invoice.html", section="debtors", inv=view, **_words())


@bp.get("/search")
def search() -> Response:
    ctx, org_id = services(), current_org_id()
    text = (request.args.get("q") or "").strip()[:100]
    hits = worklist.search(ctx.runtime, org_id, text) if text else []
    if len(hits) == 1:
        hit = hits[0]
        if hit.kind == "invoice":
            return redirect(url_for("worklist.invoice", invoice_id=hit.id))  # type: ignore[return-value]
        return redirect(url_for("worklist.debtor", debtor_id=hit.id))  # type: ignore[return-value]
    return page("search.html", section="debtors", text=text, hits=hits, **_words())


def _target(debtor_id: int) -> worklist.DebtorView:
    try:
        return worklist.debtor_view(services().runtime, current_org_id(), debtor_id)
    except NotFound:
        abort(404)


def _done(debtor_id: int, ok: str) -> Any:
    flash(ok, "ok")
    return redirect(url_for("worklist.debtor", debtor_id=debtor_id) + "#timeline")


def _refused(debtor_id: int, text: str) -> Any:
    flash(text, "bad")
    return redirect(url_for("worklist.debtor", debtor_id=debtor_id))


def _invoice_ref(view: worklist.DebtorView) -> str | None:
    """The invoice a form names (by row id), if it is one of this debtor's."""
    wanted = request.form.get("invoice", "")
    for inv in view.invoices:
        if str(inv.id) == wanted:
            return inv.number
    return None


@bp.post("/debtors/<int:debtor_id>/call")
@requires("controller")
def log_call(debtor_id: int) -> Any:
    view = _target(debtor_id)
    outcome = request.form.get("outcome", "")
    reason = request.form.get("reason") or None
    promise = _day("promise_date")
    if outcome not in OUTCOMES or (reason is not None and reason not in LATE_REASONS):
        return _refused(debtor_id, _("Choose the call's outcome from the list."))
    if outcome == "promise_to_pay" and promise is None:
        return _refused(debtor_id, _("A promise to pay needs the promised date."))
    try:
        with worklist.acting_as(actor()):
            debtors.record_call_outcome(
                services().runtime,
                current_org_id(),
                view.administration_id,
                view.reference,
                outcome,
                reason=reason,
                promise_date=promise if outcome == "promise_to_pay" else None,
                invoice_ref=_invoice_ref(view),
                note=(request.form.get("note") or "")[:1000],
            )
    except ConnectorError:
        return _refused(debtor_id, _("The call could not be saved: check the date (not before today)."))
    return _done(debtor_id, _("Call saved."))


@bp.post("/debtors/<int:debtor_id>/promise")
@requires("controller")
def promise(debtor_id: int) -> Any:
    view = _target(debtor_id)
    day = _day("promise_date")
    if day is None:
        return _refused(debtor_id, _("A promise to pay needs the promised date."))
    rt, org_id, ref = services().runtime, current_org_id(), _invoice_ref(view)
    note = (request.form.get("note") or "")[:500]
    try:
        with worklist.acting_as(actor()):
            if ref:
                debtors.promise_invoice(rt, org_id, view.administration_id, ref, day, note=note)
            else:
                debtors.promise_debtor(rt, org_id, view.administration_id, view.reference, day, note=note)
    except ConnectorError:
        return _refused(debtor_id, _("The promise could not be saved: the date must be today or later."))
    return _done(debtor_id, _("Promise to pay saved."))


@bp.post("/debtors/<int:debtor_id>/hold")
@requires("controller")
def hold(debtor_id: int) -> Any:
    view = _target(debtor_id)
    reason = request.form.get("reason", "")
    if reason not in HOLD_REASONS:
        return _refused(debtor_id, _("Choose why it is on hold."))
    rt, org_id, ref, until = services().runtime, current_org_id(), _invoice_ref(view), _day("until")
    try:
        with worklist.acting_as(actor()):
            if ref:
                debtors.hold_invoice(rt, org_id, view.administration_id, ref, reason, until=until)
            else:
                debtors.hold_debtor(rt, org_id, view.administration_id, view.reference, reason, until=until)
    except ConnectorError:
        return _refused(debtor_id, _("The hold could not be saved: an end date must be after today."))
    return _done(debtor_id, _("On hold: no reminders until it is released."))


@bp.post("/debtors/<int:debtor_id>/release")
@requires("controller")
def release(debtor_id: int) -> Any:
    view = _target(debtor_id)
    rt, org_id, ref = services().runtime, current_org_id(), _invoice_ref(view)
    with worklist.acting_as(actor()):
        if ref:
            debtors.release_invoice(rt, org_id, view.administration_id, ref)
        else:
            debtors.release_debtor(rt, org_id, view.administration_id, view.reference)
    return _done(debtor_id, _("Released: the reminders resume."))


@bp.post("/debtors/<int:debtor_id>/arrangement")
@requires("controller")
def arrangement(debtor_id: int) -> Any:
    view = _target(debtor_id)
    first = _day("first_due")
    count = request.form.get("installments", "")
    every = request.form.get("every_days", "30")
    open_refs = [i.number for i in view.invoices if i.days_overdue is not None]
    if first is None or not count.isdigit() or not every.isdigit() or not open_refs:
        return _refused(debtor_id, _("An arrangement needs open invoices, a number of terms and a first due date."))
    try:
        with worklist.acting_as(actor()):
            debtors.create_arrangement(
                services().runtime,
                current_org_id(),
                view.administration_id,
                view.reference,
                open_refs,
                installments=int(count),
                first_due=first,
                every_days=int(every),
                note=(request.form.get("note") or "")[:500] or None,
            )
    except ConnectorError:
        return _refused(debtor_id, _("The arrangement could not be saved: check the terms and the first due date."))
    return _done(debtor_id, _("Payment arrangement saved: reminders pause while it is kept."))


@bp.post("/debtors/<int:debtor_id>/credit-stop")
@requires("controller")
def credit_stop(debtor_id: int) -> Any:
    view = _target(debtor_id)
    stop = request.form.get("stop") == "1"
    reason = " ".join((request.form.get("reason") or "").split())[:200] or "by hand"
    with worklist.acting_as(actor()):
        debtors.set_credit_stop(
            services().runtime, current_org_id(), view.administration_id, view.reference, stop=stop, reason=reason
        )
    return _done(debtor_id, _("Credit stop set.") if stop else _("Credit stop lifted."))
