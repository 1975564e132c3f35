"""Storage -> the rules' input: one frozen ``InvoiceSnapshot`` per open invoice of an administration.

The first half of the decide step (``connector.decide``): reads the synced invoices and debtors together with our
own dunning state (levels reached, holds, promises, payment arrangements, 14-day-letter evidence) and flattens
them into the snapshots ``connector.rules`` evaluates. Debtor management (``connector.debtors``) reuses the same
snapshots for the hand-over claim, so the engine and the dossier always see the same facts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from connector.model import InvoiceStatus, Money, Segment
from connector.rules.snapshot import (
    Arrangement,
    FourteenDayLetterEvidence,
    Installment,
    InvoiceSnapshot,
    LetterChannel,
)
from connector.runtime import Runtime
from connector.storage import repos, tables


def build_snapshots(rt: Runtime, adm: tables.Administration, *, debtor_ref: str | None = None) -> list[InvoiceSnapshot]:
    """Every open invoice of ``adm`` as the engine sees it, with the last message to each debtor (any invoice);
    with ``debtor_ref`` only that debtor's (what one invoice's page needs, without reading the whole ledger)."""
    with rt.sessions() as s:
        if debtor_ref is None:
            invoices = repos.get_invoices(s, adm.org_id, adm.id, open_only=True)
            debtors = repos.get_debtors(s, adm.org_id, adm.id)
            states = repos.reminder_states(s, adm.org_id, adm.id)
        else:
            invoices = [
                row
                for row in repos.debtor_invoices(s, adm.org_id, adm.id, debtor_ref)
                if row.status == InvoiceStatus.OPEN.value
            ]
            invoices.sort(key=lambda row: (row.due_date, row.id))  # the order get_invoices gives
            debtors = repos.get_debtors(s, adm.org_id, adm.id, [debtor_ref])
            states = repos.reminder_states(s, adm.org_id, adm.id, [row.provider_ref for row in invoices])
        plans = _load_arrangements(s, adm)
        letters = _load_fourteen_day_letters(s, adm)
        answered = _load_portal_answers(s, adm)
    last_message: dict[str, date] = {}
    for inv in invoices:
        state = states.get(inv.provider_ref)
        if state and state.last_message_on:
            current = last_message.get(inv.debtor_ref)
            last_message[inv.debtor_ref] = max(current, state.last_message_on) if current else state.last_message_on
    return [
        _snapshot(
            adm,
            inv,
            debtors.get(inv.debtor_ref),
            states.get(inv.provider_ref),
            last_message,
            arrangement=plans.get(inv.provider_ref),
            letter=letters.get(inv.provider_ref),
            answered=answered.get(inv.provider_ref),
        )
        for inv in invoices
    ]


def _load_arrangements(s: Any, adm: tables.Administration) -> dict[str, Arrangement]:
    """Active payment arrangements (docs/credit-management.md#payment-arrangements) by invoice ref; a broken, completed
    or cancelled one no longer pauses."""
    active = repos.arrangements(s, adm.org_id, adm.id, status="active")
    schedules = repos.installments(s, adm.org_id, [plan.id for plan in active])
    by_invoice: dict[str, Arrangement] = {}
    for plan in active:
        rows = schedules.get(plan.id) or []
        if not rows:
            continue
        arrangement = Arrangement(
            installments=[
                Installment(
                    due_date=row.due_date, amount=Money.from_minor(row.amount_minor, row.currency).amount, paid=row.paid
                )
                for row in rows
            ]
        )
        for ref in plan.invoice_refs:
            by_invoice[str(ref)] = arrangement  # plans are ordered by id: the newest active plan wins
    return by_invoice


def _load_fourteen_day_letters(s: Any, adm: tables.Administration) -> dict[str, FourteenDayLetterEvidence]:
    """The latest 14-day letter covering each invoice (the last one made, posted or still waiting for the post), as
    the evidence the cost gate checks."""
    by_invoice: dict[str, FourteenDayLetterEvidence] = {}
    for row in repos.letter_evidence(s, adm.org_id, adm.id, kind="fourteen_day_letter"):  # oldest first
        evidence = FourteenDayLetterEvidence(
            sent_on=row.sent_on,
            channel=LetterChannel(row.channel),
            received_on=row.received_on,
            stated_costs=(
                Money.from_minor(row.stated_costs_minor, row.currency).amount
                if row.stated_costs_minor is not None
                else None
            ),
            printed_term_ends=row.printed_term_ends,
            text_counts_from_receipt=row.text_counts_from_receipt,
            document_ref=row.document_ref,
        )
        for ref in row.invoice_refs:
            by_invoice[str(ref)] = evidence
    return by_invoice


def _load_portal_answers(s: Any, adm: tables.Administration) -> dict[str, tuple[str, date | None]]:
    """What the debtor answered on its page and a person has not resolved (docs/portal.md#answers), as a hold per
    invoice: (reason, last day or None). A question pauses until its ``check_on``; the rest until resolved."""
    by_invoice: dict[str, tuple[str, date | None]] = {}
    for row in repos.open_portal_answers(s, adm.org_id, adm.id):
        until = row.check_on if row.kind == "question" else None
        for ref in row.invoice_refs:
            by_invoice[str(ref)] = (f"portal_{row.kind}", until)
    return by_invoice


def _hold(
    state: tables.ReminderState | None,
    debtor: tables.Debtor | None,
    answered: tuple[str, date | None] | None = None,
) -> tuple[bool, str | None, date | None]:
    """Invoice hold first, then an open answer on the debtor's page, else the debtor's hold
    (docs/credit-management.md#holds-and-disputes): (on hold, reason, last day of the hold or None)."""
    if state and state.hold_reason:
        return True, state.hold_reason, state.hold_until
    if answered is not None:
        return True, answered[0], answered[1]
    if debtor and debtor.on_hold_reason:
        return True, debtor.on_hold_reason, debtor.hold_until
    return False, None, None


def _snapshot(
    adm: tables.Administration,
    inv: tables.Invoice,
    debtor: tables.Debtor | None,
    state: tables.ReminderState | None,
    last_message: dict[str, date],
    *,
    arrangement: Arrangement | None = None,
    letter: FourteenDayLetterEvidence | None = None,
    answered: tuple[str, date | None] | None = None,
) -> InvoiceSnapshot:
    on_hold, hold_reason, hold_until = _hold(state, debtor, answered)
    return InvoiceSnapshot(
        invoice_ref=inv.provider_ref,
        debtor_ref=inv.debtor_ref,
        administration_ref=str(adm.id),
        segment=Segment(debtor.segment_override or debtor.segment) if debtor else None,
        currency=inv.currency,
        due_date=inv.due_date,
        invoice_date=inv.invoice_date,
        open_amount=Money.from_minor(inv.open_minor, inv.currency).amount,
        total=Money.from_minor(inv.total_minor, inv.currency).amount,
        status=InvoiceStatus(inv.status),
        current_level=state.level if state else None,
        level_reached_on=state.level_reached_on if state else None,
        last_message_to_debtor_on=last_message.get(inv.debtor_ref),
        provider_reminders_active=adm.provider_reminders_active,
        provider_reminder_count=inv.provider_reminder_count,
        paused_at_provider=inv.paused_at_provider,
        provider_pause_ours=repos.paused_by_us(state),
        disputed=inv.disputed,
        on_hold=on_hold,
        hold_reason=hold_reason,
        hold_until=hold_until,
        insolvent=bool(debtor and debtor.insolvent),
        promise_to_pay_date=(state.promise_date if state else None) or (debtor.promise_date if debtor else None),
        arrangement=arrangement,
        handed_over=bool(state and state.handed_over),
        uncollectible=bool((debtor and debtor.collectible == "uncollectible") or (state and state.written_off_on)),
        invoice_policy=state.policy_override if state else None,
        debtor_policy=debtor.policy_override if debtor else None,
        fourteen_day_letter=letter,
        default_needs_notice=debtor.default_needs_notice if debtor else None,
        notice_of_default_on=state.notice_of_default_on if state else None,
        synced_at=inv.synced_at,
    )
