"""Debtor flags set by a person: credit stop (docs/credit-management.md#credit-stop), insolvency
(docs/law.md#insolvency), credit limit (docs/credit-management.md#screening-and-credit-limits), segment override and
collection status (docs/credit-management.md#classification), and writing an invoice off as uncollectible.

Like the holds (``connector.debtors.holds``), each is one transaction over our own dunning state that writes an
audit entry with the reason and queues what the accounting package must learn in the outbox (``credit_stop`` /
``credit_release``, ``mark_uncollectible``). ``connector.snapshots`` reads the flags into each
``InvoiceSnapshot``; the engine then stops the ladder (insolvency, write-off) or adapts it (segment).
"""

from __future__ import annotations

import enum
from decimal import Decimal

from connector.debtors.common import debtor_row, invoice_row, open_invoice_refs, queue_writeback, today_for
from connector.errors import PermanentError
from connector.model import Money, Segment
from connector.model.outbox import OutboxAction
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction


class CollectionStatus(str, enum.Enum):
    COLLECTIBLE = "collectible"
    DOUBTFUL = "doubtful"
    UNCOLLECTIBLE = "uncollectible"


def set_credit_stop(
    rt: Runtime, org_id: int, administration_id: int, debtor_ref: str, *, stop: bool, reason: str = "by hand"
) -> bool:
    """Set or lift a credit stop by hand (docs/credit-management.md#credit-stop); written back as
    ``credit_stop``/``credit_release``.

    Returns False when the debtor already is in that state.
    """
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        if debtor.credit_stop == stop:
            return False
        kind = "credit_stop" if stop else "credit_release"
        text = f"Kredietstop: {reason}" if stop else f"Kredietstop opgeheven: {reason}"
        queue_writeback(
            s,
            adm,
            action=OutboxAction(kind),
            kind=kind,
            debtor_ref=debtor.provider_ref,
            invoice_refs=open_invoice_refs(s, org_id, administration_id, debtor.provider_ref),
            subject=f"debtor:{debtor.provider_ref}",
            text=text,
            today=today_for(rt, adm),
        )
        debtor.credit_stop = stop
        repos.audit(
            s,
            org_id,
            kind,
            text,
            administration_id=administration_id,
            debtor_ref=debtor.provider_ref,
            data={"reason": reason},
        )
    return True


def set_insolvent(
    rt: Runtime, org_id: int, administration_id: int, debtor_ref: str, insolvent: bool, *, note: str = ""
) -> None:
    """docs/law.md#insolvency: bankruptcy, suspension of payments or WSNP puts the debtor on a legal hold (file the
    claim instead)."""
    with transaction(rt.sessions) as s:
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        debtor.insolvent = insolvent
        text = "insolvent: legal hold, file the claim with the trustee" if insolvent else "insolvency flag lifted"
        repos.audit(
            s,
            org_id,
            "insolvency",
            f"{text} {note}".strip(),
            administration_id=administration_id,
            debtor_ref=debtor.provider_ref,
        )


def set_credit_limit(rt: Runtime, org_id: int, administration_id: int, debtor_ref: str, limit: Decimal | None) -> None:
    """docs/credit-management.md#screening-and-credit-limits: the credit granted to a debtor; the worklist flags the
    debtor while its open items exceed it."""
    if limit is not None and limit < 0:
        raise PermanentError("a credit limit is a positive amount (or none)")
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        debtor.credit_limit_minor = (
            Money(amount=limit, currency=adm.currency).quantized().to_minor() if limit is not None else None
        )
        repos.audit(
            s,
            org_id,
            "credit_limit",
            f"credit limit {f'{limit} {adm.currency}' if limit is not None else 'removed'}",
            administration_id=administration_id,
            debtor_ref=debtor.provider_ref,
        )


def set_segment(rt: Runtime, org_id: int, administration_id: int, debtor_ref: str, segment: str | None) -> None:
    """Override the synced segment (b2b/b2c) of a debtor; ``None`` returns to what the package says
    (docs/credit-management.md#classification, docs/law.md#engine-rules-for-costs-and-interest)."""
    value = Segment(segment).value if segment else None
    with transaction(rt.sessions) as s:
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        debtor.segment_override = value
        repos.audit(
            s,
            org_id,
            "segment",
            f"segment override {value or 'removed'}",
            administration_id=administration_id,
            debtor_ref=debtor.provider_ref,
        )


def set_default_start(
    rt: Runtime, org_id: int, administration_id: int, debtor_ref: str, needs_notice: bool | None
) -> None:
    """Record how a consumer debtor's default starts: ``True`` when it needs a notice of default (art. 6:82 BW),
    ``False`` when the payment term is a fatal term (art. 6:83 sub a), ``None`` to follow the policy."""
    with transaction(rt.sessions) as s:
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        debtor.default_needs_notice = needs_notice
        text = {True: "needs a notice of default", False: "fatal payment term", None: "as the policy says"}
        repos.audit(
            s,
            org_id,
            "default_start",
            f"default starts: {text[needs_notice]}",
            administration_id=administration_id,
            debtor_ref=debtor.provider_ref,
        )


def set_collection_status(
    rt: Runtime, org_id: int, administration_id: int, debtor_ref: str, status: str, *, confirm: bool = False
) -> None:
    """Collectible, doubtful or uncollectible (docs/credit-management.md#classification). Uncollectible stops all
    reminders for the debtor and marks its open invoices uncollectible at the provider, so it needs ``confirm=True``."""
    value = CollectionStatus(status)
    if value is CollectionStatus.UNCOLLECTIBLE and not confirm:
        raise PermanentError(_confirm_text(f"debtor {debtor_ref}"))
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        if value is CollectionStatus.UNCOLLECTIBLE and debtor.collectible != value.value:
            refs = open_invoice_refs(s, org_id, administration_id, debtor.provider_ref)
            queue_writeback(
                s,
                adm,
                action=OutboxAction.MARK_UNCOLLECTIBLE,
                kind="collection_status",
                debtor_ref=debtor.provider_ref,
                invoice_refs=refs,
                subject=f"debtor:{debtor.provider_ref}",
                text="Oninbaar verklaard",
                today=today_for(rt, adm),
            )
        debtor.collectible = value.value
        repos.audit(
            s,
            org_id,
            "collection_status",
            f"collection status {value.value}",
            administration_id=administration_id,
            debtor_ref=debtor.provider_ref,
        )


def mark_invoice_uncollectible(
    rt: Runtime, org_id: int, administration_id: int, invoice_ref: str, *, confirm: bool = False
) -> None:
    """Write one invoice off as uncollectible: our reminders stop and the package is told (Moneybird's
    uncollectible state; a note elsewhere). Refused without ``confirm=True``: it cannot be undone at the provider."""
    if not confirm:
        raise PermanentError(_confirm_text(f"invoice {invoice_ref}"))
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        inv = invoice_row(s, org_id, administration_id, invoice_ref)
        state = repos.reminder_state(s, org_id, administration_id, inv.provider_ref)
        if state.written_off_on is not None:
            return
        today = today_for(rt, adm)
        queue_writeback(
            s,
            adm,
            action=OutboxAction.MARK_UNCOLLECTIBLE,
            kind="uncollectible",
            debtor_ref=inv.debtor_ref,
            invoice_refs=[inv.provider_ref],
            subject=f"invoice:{inv.provider_ref}",
            text="Oninbaar verklaard",
            today=today,
            level=state.level or 0,
        )
        state.written_off_on, state.updated_at = today, repos.now(s)
        repos.audit(
            s,
            org_id,
            "uncollectible",
            "marked uncollectible (confirmed)",
            administration_id=administration_id,
            invoice_ref=inv.provider_ref,
            debtor_ref=inv.debtor_ref,
            data={"open_minor": inv.open_minor, "currency": inv.currency},
        )


def _confirm_text(what: str) -> str:
    return (
        f"marking {what} uncollectible writes it off at the accounting package and stops all reminders; "
        "confirm explicitly (--confirm)"
    )
