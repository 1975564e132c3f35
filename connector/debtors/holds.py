"""Holds and promises set by a person: dispute/on-hold (docs/credit-management.md#holds-and-disputes) on an invoice or a
whole debtor, and promises to pay (docs/credit-management.md#promises-to-pay).

Each function is one transaction over our own dunning state (``reminder_states`` per invoice, the debtor row for
a debtor-wide hold), writes an audit entry with the reason and queues a note for the accounting package in the
outbox. ``connector.snapshots`` reads them into each ``InvoiceSnapshot``; the engine then pauses the ladder until
the hold is released or lapses, or the promised day has passed. The debtor's other flags are
``connector.debtors.flags``.
"""

from __future__ import annotations

import enum
from datetime import date

from connector.debtors.common import debtor_row, invoice_row, open_invoice_refs, queue_writeback, today_for
from connector.errors import PermanentError
from connector.model.api import EventType
from connector.model.outbox import OutboxAction
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import Session, transaction


class HoldReason(str, enum.Enum):
    """Why an invoice or debtor is on hold (docs/credit-management.md#holds-and-disputes): talk first, do not chase."""

    DISPUTE = "dispute"  # the debtor contests the invoice (goods, service, amount)
    COMPLAINT = "complaint"  # dissatisfied; a person handles the complaint first
    AWAITING_CREDIT_NOTE = "awaiting_credit_note"  # we owe a correction
    # the debtor says it paid; check the bank first (docs/credit-management.md#reminders-for-paid-invoices)
    PAYMENT_CLAIMED = "payment_claimed"
    # key account or sensitive relationship (docs/credit-management.md#keeping-the-relationship)
    TALK_FIRST = "talk_first"
    INSOLVENCY = "insolvency"  # docs/law.md#insolvency: file the claim, do not chase
    # docs/credit-management.md#factoring: sold to a factor, who collects it; our own dunning stops
    FACTORED = "factored"
    OTHER = "other"


def _reason(code: str) -> HoldReason:
    try:
        return HoldReason(code)
    except ValueError:
        allowed = ", ".join(r.value for r in HoldReason)
        raise PermanentError(f"unknown hold reason {code!r}: use one of {allowed}") from None


def hold_invoice(
    rt: Runtime, org_id: int, administration_id: int, invoice_ref: str, reason: str, *, until: date | None = None
) -> bool:
    """Put one invoice on hold (docs/credit-management.md#holds-and-disputes): no reminders until released or until
    ``until`` has passed.

    Writes a note to the accounting package. Returns False (and changes nothing) when the invoice is already on
    hold for the same reason and term.
    """
    code = _reason(reason)
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        today = today_for(rt, adm)
        _check_until(until, today)
        return apply_invoice_hold(s, adm, invoice_row(s, org_id, administration_id, invoice_ref), code, until, today)


def _check_until(until: date | None, today: date) -> None:
    if until is not None and until < today:
        raise PermanentError(f"the hold's last day {until.isoformat()} lies in the past: give today or a later day")


def apply_invoice_hold(
    s: Session, adm: tables.Administration, inv: tables.Invoice, code: HoldReason, until: date | None, today: date
) -> bool:
    state = repos.reminder_state(s, adm.org_id, adm.id, inv.provider_ref)
    if state.hold_reason == code.value and state.hold_until == until:
        return False
    text = f"Aanmaningen gepauzeerd (on hold): {code.value}" + (f" tot en met {until.isoformat()}" if until else "")
    queue_writeback(
        s,
        adm,
        action=OutboxAction.NOTE,
        kind="hold",
        debtor_ref=inv.debtor_ref,
        invoice_refs=[inv.provider_ref],
        subject=f"invoice:{inv.provider_ref}",
        text=text,
        today=today,
        level=state.level or 0,
    )
    state.hold_reason, state.hold_until, state.updated_at = code.value, until, repos.now(s)
    if code is HoldReason.DISPUTE:
        repos.emit_event(
            s,
            adm.org_id,
            EventType.INVOICE_DISPUTED,
            {"administration_id": adm.id, "debtor_ref": inv.debtor_ref, "invoices": [inv.provider_ref]},
        )
    repos.audit(
        s,
        adm.org_id,
        "hold",
        f"on hold: {code.value}",
        administration_id=adm.id,
        invoice_ref=inv.provider_ref,
        debtor_ref=inv.debtor_ref,
        data={"reason": code.value, "until": until.isoformat() if until else None},
    )
    return True


def release_invoice(rt: Runtime, org_id: int, administration_id: int, invoice_ref: str, *, note: str = "") -> bool:
    """Lift an invoice's hold: the ladder resumes on the next run (a note is written). False when not on hold."""
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        inv = invoice_row(s, org_id, administration_id, invoice_ref)
        return apply_invoice_release(s, adm, inv, today_for(rt, adm), note=note)


def apply_invoice_release(
    s: Session, adm: tables.Administration, inv: tables.Invoice, today: date, *, note: str = ""
) -> bool:
    state = repos.reminder_state(s, adm.org_id, adm.id, inv.provider_ref)
    if not state.hold_reason:
        return False
    previous = state.hold_reason
    queue_writeback(
        s,
        adm,
        action=OutboxAction.NOTE,
        kind="release",
        debtor_ref=inv.debtor_ref,
        invoice_refs=[inv.provider_ref],
        subject=f"invoice:{inv.provider_ref}",
        text=f"Aanmaningen hervat (hold {previous} opgeheven)",
        today=today,
        level=state.level or 0,
    )
    state.hold_reason, state.hold_until, state.updated_at = None, None, repos.now(s)
    repos.audit(
        s,
        adm.org_id,
        "release",
        f"hold lifted ({previous}) {note}".strip(),
        administration_id=adm.id,
        invoice_ref=inv.provider_ref,
        debtor_ref=inv.debtor_ref,
        data={"previous_reason": previous},
    )
    return True


def hold_debtor(
    rt: Runtime, org_id: int, administration_id: int, debtor_ref: str, reason: str, *, until: date | None = None
) -> bool:
    """Put every invoice of a debtor on hold (docs/credit-management.md#holds-and-disputes); one note goes to the
    package naming its open invoices."""
    code = _reason(reason)
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        today = today_for(rt, adm)
        _check_until(until, today)
        return apply_debtor_hold(s, adm, debtor_row(s, org_id, administration_id, debtor_ref), code, until, today)


def apply_debtor_hold(
    s: Session, adm: tables.Administration, debtor: tables.Debtor, code: HoldReason, until: date | None, today: date
) -> bool:
    if debtor.on_hold_reason == code.value and debtor.hold_until == until:
        return False
    text = f"Debiteur on hold: {code.value}" + (f" tot en met {until.isoformat()}" if until else "")
    queue_writeback(
        s,
        adm,
        action=OutboxAction.NOTE,
        kind="debtor_hold",
        debtor_ref=debtor.provider_ref,
        invoice_refs=open_invoice_refs(s, adm.org_id, adm.id, debtor.provider_ref),
        subject=f"debtor:{debtor.provider_ref}",
        text=text,
        today=today,
    )
    debtor.on_hold_reason, debtor.hold_until = code.value, until
    repos.audit(
        s,
        adm.org_id,
        "debtor_hold",
        f"debtor on hold: {code.value}",
        administration_id=adm.id,
        debtor_ref=debtor.provider_ref,
        data={"reason": code.value, "until": until.isoformat() if until else None},
    )
    return True


def release_debtor(rt: Runtime, org_id: int, administration_id: int, debtor_ref: str) -> bool:
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        return apply_debtor_release(s, adm, debtor_row(s, org_id, administration_id, debtor_ref), today_for(rt, adm))


def apply_debtor_release(s: Session, adm: tables.Administration, debtor: tables.Debtor, today: date) -> bool:
    if not debtor.on_hold_reason:
        return False
    previous = debtor.on_hold_reason
    queue_writeback(
        s,
        adm,
        action=OutboxAction.NOTE,
        kind="debtor_release",
        debtor_ref=debtor.provider_ref,
        invoice_refs=open_invoice_refs(s, adm.org_id, adm.id, debtor.provider_ref),
        subject=f"debtor:{debtor.provider_ref}",
        text=f"Aanmaningen debiteur hervat (hold {previous} opgeheven)",
        today=today,
    )
    debtor.on_hold_reason, debtor.hold_until = None, None
    repos.audit(
        s,
        adm.org_id,
        "debtor_release",
        f"debtor hold lifted ({previous})",
        administration_id=adm.id,
        debtor_ref=debtor.provider_ref,
    )
    return True


def promise_invoice(
    rt: Runtime, org_id: int, administration_id: int, invoice_ref: str, promise_date: date, *, note: str = ""
) -> None:
    """Record a promise to pay (docs/credit-management.md#promises-to-pay): the ladder pauses through ``promise_date``
    and resumes by itself after it."""
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        inv = invoice_row(s, org_id, administration_id, invoice_ref)
        apply_promise(s, adm, inv.debtor_ref, inv, promise_date, today_for(rt, adm), note=note)


def promise_debtor(
    rt: Runtime, org_id: int, administration_id: int, debtor_ref: str, promise_date: date, *, note: str = ""
) -> None:
    """A promise covering all of a debtor's invoices (docs/credit-management.md#promises-to-pay)."""
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        apply_promise(s, adm, debtor.provider_ref, None, promise_date, today_for(rt, adm), note=note)


def apply_promise(
    s: Session,
    adm: tables.Administration,
    debtor_ref: str,
    inv: tables.Invoice | None,
    promise_date: date,
    today: date,
    *,
    note: str = "",
) -> None:
    """Store a promise on the invoice, or on the debtor when ``inv`` is None (then it covers every invoice)."""
    if promise_date < today:
        raise PermanentError(f"the promised date {promise_date.isoformat()} lies in the past")
    if inv is not None:
        state = repos.reminder_state(s, adm.org_id, adm.id, inv.provider_ref)
        state.promise_date, state.updated_at = promise_date, repos.now(s)
    else:
        debtor_row(s, adm.org_id, adm.id, debtor_ref).promise_date = promise_date
    subject = f"invoice {inv.provider_ref}" if inv is not None else "all invoices"
    repos.audit(
        s,
        adm.org_id,
        "promise",
        f"promise to pay by {promise_date.isoformat()} ({subject}) {note}".strip(),
        administration_id=adm.id,
        invoice_ref=inv.provider_ref if inv is not None else None,
        debtor_ref=debtor_ref,
        data={"promise_date": promise_date.isoformat()},
    )
