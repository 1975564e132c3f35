"""Shared plumbing of the debtor-management services: finding the invoice or debtor a person means, today's date in
the administration's time zone, and queuing a write-back (note, credit stop, uncollectible) in the outbox.

Every service in ``connector.debtors`` changes our own dunning state in one transaction, writes an audit entry
with the reason, and leaves anything the accounting package must learn to the outbox drainer
(``connector.outbox``) through an item with a deterministic idempotency key.
"""

from __future__ import annotations

import hashlib
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from connector.errors import NotFound, PermanentError
from connector.model.outbox import OutboxAction, OutboxChannel, OutboxPayload
from connector.runtime import Runtime
from connector.storage import repos, tables


def today_for(rt: Runtime, adm: tables.Administration) -> date:
    """The administration's calendar day now (due dates and promise dates are local dates)."""
    return rt.clock().astimezone(ZoneInfo(adm.timezone)).date()


def resolve_invoice(rt: Runtime, org_id: int, invoice_ref: str, administration_id: int | None = None) -> int:
    """The administration holding ``invoice_ref`` (by provider ref or invoice number); ambiguity is refused."""
    query = select(tables.Invoice.administration_id).where(
        tables.Invoice.org_id == org_id,
        (tables.Invoice.provider_ref == invoice_ref) | (tables.Invoice.number == invoice_ref),
    )
    if administration_id is not None:
        query = query.where(tables.Invoice.administration_id == administration_id)
    return _one(rt, query, "invoice", invoice_ref)


def resolve_debtor(rt: Runtime, org_id: int, debtor_ref: str, administration_id: int | None = None) -> int:
    """The administration holding ``debtor_ref`` (by provider ref or customer number); ambiguity is refused."""
    query = select(tables.Debtor.administration_id).where(
        tables.Debtor.org_id == org_id,
        (tables.Debtor.provider_ref == debtor_ref) | (tables.Debtor.customer_number == debtor_ref),
    )
    if administration_id is not None:
        query = query.where(tables.Debtor.administration_id == administration_id)
    return _one(rt, query, "debtor", debtor_ref)


def _one(rt: Runtime, query: Select[int], what: str, ref: str) -> int:
    with rt.sessions() as s:
        found = sorted(set(s.scalars(query)))
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
        rows = list(
            s.scalars(
                select(tables.Invoice).where(
                    tables.Invoice.org_id == org_id,
                    tables.Invoice.administration_id == administration_id,
                    tables.Invoice.number == ref,
                )
            )
        )
    if not rows:
        raise NotFound(f"invoice {ref!r} not found in administration {administration_id}")
    return rows[0]


def debtor_row(s: Session, org_id: int, administration_id: int, ref: str) -> tables.Debtor:
    """The debtor by provider ref, or by customer number when no provider ref matches."""
    found = repos.get_debtors(s, org_id, administration_id, [ref]).get(ref)
    if found is None:
        found = s.scalar(
            select(tables.Debtor).where(
                tables.Debtor.org_id == org_id,
                tables.Debtor.administration_id == administration_id,
                tables.Debtor.customer_number == ref,
            )
        )
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
