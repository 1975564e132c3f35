"""Contact moments (docs/credit-management.md#late-payment-reasons, docs/credit-management.md#the-debtor-file): calls
with their outcome and late-payment reason, notes, and proof of receipt of a letter (docs/law.md#the-14-day-letter).

A call outcome (``connector.channels.phone.CallOutcome``) is stored as a contact moment with its reason code
(``LateReason``) and then acts on the dunning state in the same transaction: a promise to pay pauses the ladder
until the promised date (docs/credit-management.md#promises-to-pay), a dispute puts the invoice or debtor on hold
(docs/credit-management.md#holds-and-disputes), a claimed payment holds the invoice for a week so the bank can be
checked (docs/credit-management.md#reminders-for-paid-invoices). The hand-over dossier lists every contact moment.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from connector.channels.phone import CallOutcome, LateReason
from connector.clock import local_date
from connector.debtors.common import debtor_row, invoice_row, today_for
from connector.debtors.holds import HoldReason, apply_debtor_hold, apply_invoice_hold, apply_promise
from connector.errors import PermanentError
from connector.model.outbox import OutboxAction, OutboxStatus
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction

CHANNELS = frozenset({"email", "letter", "phone", "provider", "note"})
PAYMENT_CHECK_DAYS = 7  # a claimed payment holds the invoice this long while the bank is checked


def _late_reason(code: str | None) -> str | None:
    if code is None:
        return None
    try:
        return LateReason(code).value
    except ValueError:
        allowed = ", ".join(r.value for r in LateReason)
        raise PermanentError(f"unknown late-payment reason {code!r}: use one of {allowed}") from None


def record_call_outcome(
    rt: Runtime,
    org_id: int,
    administration_id: int,
    debtor_ref: str,
    outcome: str,
    *,
    at: datetime | None = None,
    reason: str | None = None,
    promise_date: date | None = None,
    invoice_ref: str | None = None,
    note: str = "",
) -> int:
    """Store a call (docs/credit-management.md#channels, docs/credit-management.md#late-payment-reasons) and act on its
    outcome; returns the contact moment's id.

    ``promise_to_pay`` needs ``promise_date`` (not before the call); a promise date with any other outcome is
    refused. With ``invoice_ref`` the promise or dispute concerns that invoice, otherwise the whole debtor.
    """
    try:
        result = CallOutcome(outcome)
    except ValueError:
        allowed = ", ".join(o.value for o in CallOutcome)
        raise PermanentError(f"unknown call outcome {outcome!r}: use one of {allowed}") from None
    late = _late_reason(reason)
    called_at = at or rt.clock()
    if called_at.tzinfo is None:
        raise PermanentError("the call time must be timezone-aware")
    if result is CallOutcome.PROMISE_TO_PAY and promise_date is None:
        raise PermanentError("a promise to pay needs the promised date: add --promise YYYY-MM-DD")
    if promise_date is not None and result is not CallOutcome.PROMISE_TO_PAY:
        raise PermanentError(f"a promise date only goes with the outcome {CallOutcome.PROMISE_TO_PAY.value}")
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        inv = invoice_row(s, org_id, administration_id, invoice_ref) if invoice_ref else None
        if inv is not None and inv.debtor_ref != debtor.provider_ref:
            raise PermanentError(f"invoice {invoice_ref} belongs to another debtor")
        today = today_for(rt, adm)
        moment = repos.record_contact_moment(
            s,
            org_id,
            administration_id,
            debtor_ref=debtor.provider_ref,
            invoice_ref=inv.provider_ref if inv else None,
            at=called_at,
            channel="phone",
            direction="out",
            reason_code=late,
            outcome=result.value,
            note=note or None,
            promise_date=promise_date,
        )
        for task in repos.outbox_items(s, org_id, status=OutboxStatus.TASK_OPEN):  # the worklist's call is done
            if (
                task.action is OutboxAction.PHONE_TASK
                and task.administration_id == administration_id
                and task.debtor_ref == debtor.provider_ref
            ):
                payload = task.payload.model_copy(update={"outcome": result.value, "contact_moment": moment})
                repos.update_outbox_item(
                    s, org_id, task.id, status=OutboxStatus.DONE, done_at=called_at, payload=payload
                )
        if result is CallOutcome.PROMISE_TO_PAY and promise_date is not None:
            apply_promise(s, adm, debtor.provider_ref, inv, promise_date, today, note="(phone)")
        elif result is CallOutcome.DISPUTE:
            if inv is not None:
                apply_invoice_hold(s, adm, inv, HoldReason.DISPUTE, None, today)
            else:
                apply_debtor_hold(s, adm, debtor, HoldReason.DISPUTE, None, today)
        elif result is CallOutcome.ALREADY_PAID and inv is not None:
            until = today + timedelta(days=PAYMENT_CHECK_DAYS)
            apply_invoice_hold(s, adm, inv, HoldReason.PAYMENT_CLAIMED, until, today)
        repos.audit(
            s,
            org_id,
            "call",
            f"call: {result.value}" + (f", reason {late}" if late else ""),
            administration_id=administration_id,
            debtor_ref=debtor.provider_ref,
            invoice_ref=inv.provider_ref if inv else None,
            data={
                "contact_moment": moment,
                "outcome": result.value,
                "reason": late,
                "promise_date": promise_date.isoformat() if promise_date else None,
            },
        )
    return moment


def record_contact(
    rt: Runtime,
    org_id: int,
    administration_id: int,
    debtor_ref: str,
    *,
    channel: str,
    note: str,
    direction: str = "in",
    reason: str | None = None,
    invoice_ref: str | None = None,
    at: datetime | None = None,
) -> int:
    """Any other contact moment: a reply by e-mail, a letter received, an internal note
    (docs/credit-management.md#the-debtor-file)."""
    if channel not in CHANNELS:
        raise PermanentError(f"unknown channel {channel!r}: use one of {', '.join(sorted(CHANNELS))}")
    if direction not in ("in", "out"):
        raise PermanentError("direction is 'in' or 'out'")
    late = _late_reason(reason)
    with transaction(rt.sessions) as s:
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        moment = repos.record_contact_moment(
            s,
            org_id,
            administration_id,
            debtor_ref=debtor.provider_ref,
            invoice_ref=invoice_ref,
            at=at or rt.clock(),
            channel=channel,
            direction=direction,
            reason_code=late,
            note=note,
        )
        repos.audit(
            s,
            org_id,
            "contact",
            f"{channel} {direction}: {note}"[:500],
            administration_id=administration_id,
            debtor_ref=debtor.provider_ref,
            invoice_ref=invoice_ref,
            data={"contact_moment": moment},
        )
    return moment


def record_letter_receipt(rt: Runtime, org_id: int, evidence_id: int, received_on: date) -> None:
    """Proven receipt of a letter (track & trace): the 14-day term then runs from the day after it. A receipt later
    than the letter assumed can make it defective (its printed end date too early): the engine then proposes a new
    letter."""
    with transaction(rt.sessions) as s:
        row = repos.set_letter_received(s, org_id, evidence_id, received_on)
        if row.sent_on is None:
            raise PermanentError(f"letter {evidence_id} is not marked posted yet: mark it posted first")
        if received_on < row.sent_on:
            raise PermanentError("a letter cannot be received before it was sent")
        repos.audit(
            s,
            org_id,
            "letter_received",
            f"{row.kind} received on {received_on.isoformat()}",
            administration_id=row.administration_id,
            debtor_ref=row.debtor_ref,
            data={"letter_evidence": evidence_id},
        )


def late_reasons(rt: Runtime, org_id: int) -> list[dict[str, str | int]]:
    """docs/credit-management.md#late-payment-reasons: how often each late-payment reason was recorded, per
    administration and month (of the contact)."""
    counts: dict[tuple[int, str, str], int] = {}
    with rt.sessions() as s:
        for adm in repos.list_administrations(s, org_id):
            for moment in repos.contact_moments(s, org_id, adm.id):
                if moment.reason_code:
                    key = (adm.id, local_date(moment.at, adm.timezone).strftime("%Y-%m"), moment.reason_code)
                    counts[key] = counts.get(key, 0) + 1
    return [
        {"administration_id": adm_id, "month": month, "reason": reason, "count": count}
        for (adm_id, month, reason), count in sorted(counts.items())
    ]
