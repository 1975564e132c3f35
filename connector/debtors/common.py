"""Shared plumbing of the debtor-management services: finding the invoice or debtor a person means, today's date in
the administration's time zone, and queuing a write-back (note, credit stop, uncollectible) in the outbox.

Every service in ``connector.debtors`` changes our own dunning state in one transaction, writes an audit entry
with the reason, and leaves anything the accounting package must learn to the outbox drainer
(``connector.outbox``) through an item with a deterministic idempotency key.
"""

from __future__ import annotations

import hashlib
from datetime import date

from connector import clock
from connector.errors import NotFound, PermanentError
from connector.model.outbox import OutboxAction, OutboxChannel, OutboxPayload
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import Session


def today_for(rt: Runtime, adm: tables.Administration) -> date:
    """The administration's calendar day now (due dates and promise dates are local dates)."""
    return clock.today(adm.timezone, clock=rt.clock)


def resolve_invoice(rt: Runtime, org_id: int, invoice_ref: str, administration_id: int | None = None) -> int:
    """The administration holding ``invoice_ref`` (by provider ref or invoice number); ambiguity is refused."""
    with rt.sessions() as s:
        found = {row.administration_id for row in repos.find_invoices(s, org_id, invoice_ref, administration_id)}
    return _one(found, "invoice", invoice_ref)


def resolve_debtor(rt: Runtime, org_id: int, debtor_ref: str, administration_id: int | None = None) -> int:
    """The administration holding ``debtor_ref`` (by provider ref or customer number); ambiguity is refused."""
    with rt.sessions() as s:
        found = {row.administration_id for row in repos.find_debtors(s, org_id, debtor_ref, administration_id)}
    return _one(found, "debtor", debtor_ref)


def _one(administrations: set[int], what: str, ref: str) -> int:
    found = sorted(administrations)
    if not found:
        raise NotFound(f"{what} {ref!r} not found")
    if len(found) > 1:
        ids = ", ".join(str(i) for i in found)
        raise PermanentError(f"{what} {ref!r} exists in administrations {ids}: pass --administration ID")
    return found[0]


def invoice_row(s: Session, org_id: int, administration_id: int, ref: str) -> tables.Invoice:
    """The invoice by provider ref, or by its number when no provider ref matches."""
    rows = repos.get_invoices(s, org_id, administration_id, [ref])
    if not rows:
        rows = [row for row in repos.find_invoices(s, org_id, ref, administration_id) if row.number == ref]
    if not rows:
        raise NotFound(f"invoice {ref!r} not found in administration {administration_id}")
    return rows[0]


def debtor_row(s: Session, org_id: int, administration_id: int, ref: str) -> tables.Debtor:
    """The debtor by provider ref, or by customer number when no provider ref matches."""
    found = repos.get_debtors(s, org_id, administration_id, [ref]).get(ref)
    if found is None:
        by_number = [row for row in repos.find_debtors(s, org_id, ref, administration_id) if row.customer_number == ref]
        found = by_number[0] if by_number else None
    if found is None:
        raise NotFound(f"debtor {ref!r} not found in administration {administration_id}")
    return found


def open_invoice_refs(s: Session, org_id: int, administration_id: int, debtor_ref: str) -> list[str]:
    return [
        row.provider_ref
        for row in repos.get_invoices(s, org_id, administration_id, open_only=True)
        if row.debtor_ref == debtor_ref
    ]


def queue_writeback(
    s: Session,
    adm: tables.Administration,
    *,
    action: OutboxAction,
    kind: str,
    debtor_ref: str,
    invoice_refs: list[str],
    subject: str,
    text: str,
    today: date,
    level: int = 0,
) -> str:
    """Queue a write-back (``note``, ``credit_stop``, ``credit_release``, ``mark_uncollectible``) for the outbox.

    The idempotency key is derived from what happened and how often it happened before (the count of earlier
    audit entries of ``kind`` for the debtor), so a hold, a release and a second hold are three notes, while
    replaying the same transaction cannot create a second item. Call it *before* writing the audit entry.
    """
    seq = repos.audit_count(s, adm.org_id, adm.id, kind, debtor_ref=debtor_ref)
    digest = hashlib.sha256(f"{adm.id}|{kind}|{subject}|{seq}".encode()).hexdigest()[:32]
    key = f"dm:{kind}:{adm.id}:{digest}"
    repos.add_outbox_item(
        s,
        adm.org_id,
        adm.id,
        idempotency_key=key,
        action=action,
        debtor_ref=debtor_ref,
        invoice_refs=invoice_refs,
        level=level,
        level_name=text[:100],
        channel=OutboxChannel.NOTE,
        run_date=today,
        payload=OutboxPayload(text=text, kind=kind, manual=True),
    )
    return key
