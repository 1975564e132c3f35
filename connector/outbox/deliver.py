"""Deliver: our own channels, for every step the accounting package cannot send itself: e-mail, letter, phone task.

Part of the outbox step: ``connector.outbox.drain`` calls ``deliver`` for an item whose provider lacks
``SEND_REMINDER`` (Xero, Exact) or whose step is a letter or a phone call. It builds the template context from
storage (debtor, the invoices that passed the freshness gate, the costs and interest the rules computed), renders
it with ``connector.channels``, then: e-mails the message (``connector.outbox.smtp``, with the letter PDF attached
for letter steps); sends a letter to the post queue (``var/letters/``) when the debtor has no e-mail address; or
opens a phone task in the worklist. The 14-day letter gets its evidence recorded (L2).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.channels.context import (
    LETTER_KINDS,
    DebtorInfo,
    InstallmentInfo,
    InvoiceLine,
    MessageContext,
    MessageKind,
    Organisation,
)
from connector.channels.email import Attachment, render_email
from connector.channels.letters import RenderedLetter, render_letter
from connector.channels.phone import HistoryLine, build_phone_task
from connector.errors import PermanentError
from connector.model import Debtor, Invoice, Money
from connector.outbox.smtp import send_email
from connector.rules.law import presumed_receipt
from connector.rules.snapshot import LetterChannel
from connector.runtime import Runtime
from connector.storage import repos, tables

KIND_BY_ACTION = {
    "friendly_reminder": MessageKind.FRIENDLY_REMINDER,
    "reminder": MessageKind.REMINDER,
    "demand_letter": MessageKind.DEMAND_LETTER,
    "fourteen_day_letter": MessageKind.FOURTEEN_DAY_LETTER,
    "final_notice": MessageKind.FINAL_NOTICE,
    "phone_task": MessageKind.PHONE_SCRIPT,
    "credit_stop": MessageKind.CREDIT_STOP_NOTICE,
    "hand_over": MessageKind.HAND_OVER_NOTICE,
    "installment_reminder": MessageKind.INSTALLMENT_REMINDER,
}
FOURTEEN_DAYS = timedelta(days=14)


@dataclass
class Delivered:
    """What our channel did; ``status`` is ``done``, or ``task_open`` for a phone task waiting for a person."""

    detail: str
    channel: str
    status: str = "done"
    message_id: str | None = None
    letter: RenderedLetter | None = None
    record: dict[str, Any] = field(default_factory=dict)


def _amount(payload: dict[str, Any], key: str, part: str) -> Decimal | None:
    line = payload.get(key)
    return Decimal(line[part]) if isinstance(line, dict) and line.get(part) is not None else None


def message_context(
    adm: tables.Administration,
    item: tables.OutboxItem,
    invoices: list[Invoice],
    debtor: Debtor,
    today: date,
    letter_channel: LetterChannel = LetterChannel.EMAIL,
) -> MessageContext:
    """The template context: the step's costs and interest as the rules computed them, never recomputed here."""
    kind = KIND_BY_ACTION.get(item.action, MessageKind.REMINDER)
    payload = item.payload
    costs_key = "letter_costs" if kind is MessageKind.FOURTEEN_DAY_LETTER else "costs"
    receipt = presumed_receipt(today, letter_channel) if kind is MessageKind.FOURTEEN_DAY_LETTER else None
    interest = payload.get("interest")
    return MessageContext(
        organisation=Organisation(name=adm.name, administration_name=adm.name),
        debtor=DebtorInfo.from_debtor(debtor),
        invoices=tuple(InvoiceLine.from_invoice(inv, today) for inv in invoices),
        level_name=item.level_name,
        issued_on=today,
        currency=invoices[0].currency if invoices else adm.currency,
        collection_costs=_amount(payload, costs_key, "fee"),
        vat_on_costs=_amount(payload, costs_key, "vat") or None,
        interest=Decimal(interest) if interest is not None and kind is not MessageKind.FOURTEEN_DAY_LETTER else None,
        interest_until=today if interest is not None else None,
        contact=None,  # no named person to reply to or ask for: the signature is the organisation's
        receipt_date=receipt,
        deadline=receipt + FOURTEEN_DAYS if receipt else None,
        reference=item.idempotency_key[:12],
        installment=_installment(payload),
    )


def _installment(payload: dict[str, Any]) -> InstallmentInfo | None:
    part = payload.get("installment")
    if not isinstance(part, dict):
        return None
    return InstallmentInfo(
        number=int(part["number"]),
        of=int(part["of"]),
        due_date=date.fromisoformat(part["due_date"]),
        amount=Decimal(part["amount"]),
    )


def _history(rt: Runtime, org_id: int, debtor_ref: str) -> list[HistoryLine]:
    with rt.sessions() as s:
        entries = [e for e in repos.audit_trail(s, org_id, limit=500) if e.debtor_ref == debtor_ref]
    return [HistoryLine(on=e.created_at.date(), channel=e.kind, summary=e.message[:120]) for e in entries[:20]]


def _post_queue(rt: Runtime, item: tables.OutboxItem, letter: RenderedLetter) -> Path:
    folder = rt.settings.var_dir / "letters" / str(item.org_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{item.idempotency_key[:24]}-{letter.filename}"
    path.write_bytes(letter.pdf)
    return path


def deliver(
    rt: Runtime,
    adm: tables.Administration,
    item: tables.OutboxItem,
    invoices: list[Invoice],
    debtor_row: tables.Debtor | None,
    today: date,
) -> Delivered:
    """Send one outbox item through our own channels (see the module docstring)."""
    debtor = repos.debtor_row_to_model(debtor_row, item.debtor_ref)
    kind = KIND_BY_ACTION.get(item.action, MessageKind.REMINDER)
    if kind is MessageKind.PHONE_SCRIPT or item.channel == "phone":
        ctx = message_context(adm, item, invoices, debtor, today)
        task = build_phone_task(ctx, debtor_ref=item.debtor_ref, history=_history(rt, item.org_id, item.debtor_ref))
        return Delivered(
            detail=f"phone task for {task.debtor_name} ({task.phone or 'no phone number on file'})",
            channel="phone",
            status="task_open",
            record={
                "task": {
                    "phone": task.phone,
                    "script": task.script,
                    "invoices": list(task.invoice_numbers),
                    "total_open": str(task.total_open),
                    "outcomes": [o.value for o in task.outcomes],
                }
            },
        )
    letter_channel = LetterChannel.EMAIL if debtor.email else LetterChannel.POST
    ctx = message_context(adm, item, invoices, debtor, today, letter_channel)
    letter = render_letter(kind, ctx) if kind in LETTER_KINDS else None
    if not debtor.email:
        if letter is None:
            raise PermanentError(
                f"debtor {debtor.name} has no e-mail address and this step has no letter: add an e-mail address "
                "in the accounting package or give the level a letter channel"
            )
        path = _post_queue(rt, item, letter)
        return Delivered(
            detail=f"letter queued for post: {path.name}",
            channel="post",
            letter=letter,
            record={"post_file": str(path)},
        )
    rendered = render_email(kind, ctx)
    attachments = [Attachment(letter.filename, letter.pdf)] if letter else []
    sent = send_email(
        rt.settings.smtp,
        rendered,
        idempotency_key=item.idempotency_key,
        attachments=attachments,
        clock=rt.clock,
        timeout=rt.settings.http_timeout_seconds,
    )
    return Delivered(
        detail=f"e-mailed to {', '.join(sent.recipients)}",
        channel="email",
        message_id=sent.message_id,
        letter=letter,
        record={"message_id": sent.message_id, "subject": sent.subject},
    )


def record_evidence(
    rt: Runtime, adm: tables.Administration, item: tables.OutboxItem, delivered: Delivered, today: date
) -> None:
    """Store what was sent, when and how (L2 evidence for letters; a contact moment for every message)."""
    with rt.sessions.begin() as s:
        repos.record_contact_moment(
            s,
            item.org_id,
            adm.id,
            debtor_ref=item.debtor_ref,
            at=rt.clock(),
            channel=delivered.channel,
            level=item.level,
            note=f"{item.level_name}: {delivered.detail}"[:500],
            document_sha256=hashlib.sha256(delivered.letter.pdf).hexdigest() if delivered.letter else None,
        )
        if delivered.letter is None or item.action not in ("fourteen_day_letter", "demand_letter", "final_notice"):
            return
        stated = item.payload.get("letter_costs") if item.action == "fourteen_day_letter" else item.payload.get("costs")
        stated_minor = None
        if isinstance(stated, dict) and stated.get("fee") is not None:
            total = Decimal(stated["fee"]) + Decimal(stated.get("vat") or "0")
            stated_minor = Money(amount=total, currency=adm.currency).quantized().to_minor()
        repos.record_letter_evidence(
            s,
            item.org_id,
            adm.id,
            debtor_ref=item.debtor_ref,
            invoice_refs=list(item.invoice_refs),
            kind=item.action,
            sent_on=today,
            channel=LetterChannel.POST.value if delivered.channel == "post" else LetterChannel.EMAIL.value,
            stated_costs_minor=stated_minor,
            currency=adm.currency,
            sha256=hashlib.sha256(delivered.letter.pdf).hexdigest(),
            message_id=delivered.message_id,
            document_ref=delivered.record.get("post_file"),
        )
