"""A worklist item's message as it will go out: the rendered e-mail and, for a letter step, the PDF with its dates.

Sits next to ``connector.worklist.actions``; renders with the same context and templates the outbox uses when it
sends (``connector.outbox.deliver.message_context``, ``connector.channels``), for today in the administration's
time zone, so the 14-day letter shows the receipt date and the last day to pay it would state if it went out now.
Nothing is sent or stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from connector import clock
from connector.channels.context import LETTER_KINDS, MessageKind
from connector.channels.email import render_email
from connector.channels.letters import render_letter
from connector.errors import NotFound, PermanentError
from connector.model.outbox import OutboxChannel
from connector.outbox.deliver import KIND_BY_ACTION, message_context
from connector.rules.snapshot import LetterChannel
from connector.runtime import Runtime
from connector.storage import repos


@dataclass(frozen=True)
class MessagePreview:
    item_id: int
    language: str
    to: str | None
    subject: str
    text: str
    html: str
    by_post: bool  # the letter goes by post (no e-mail address, or the level is a letter only)
    letter_title: str | None
    letter_text: str | None
    letter_pdf: bytes | None
    letter_filename: str | None
    receipt_date: date | None  # the 14-day letter's: when it counts as received
    deadline: date | None  # ... and the last day to pay


def preview(rt: Runtime, org_id: int, item_id: int) -> MessagePreview:
    """Render item ``item_id`` of ``org_id``; ``NotFound`` for another organisation's item, ``PermanentError`` for
    an item that sends no message (a phone task, a note)."""
    with rt.sessions() as s:
        item = repos.get_outbox_item(s, org_id, item_id)
        if item is None:
            raise NotFound(f"there is no worklist item {item_id}")
        if item.channel not in (OutboxChannel.EMAIL, OutboxChannel.LETTER, OutboxChannel.PROVIDER):
            raise PermanentError(f"item {item_id} sends no message")
        adm = repos.get_administration(s, org_id, item.administration_id)
        rows = repos.get_invoices(s, org_id, adm.id, list(item.invoice_refs))
        invoices = [repos.invoice_row_to_model(row) for row in rows]
        debtor_row = repos.get_debtors(s, org_id, adm.id, [item.debtor_ref]).get(item.debtor_ref)
        debtor = repos.debtor_row_to_model(debtor_row, item.debtor_ref)
        today = clock.today(adm.timezone, clock=rt.clock)
    kind = KIND_BY_ACTION.get(item.action, MessageKind.REMINDER)
    by_email = bool(debtor.email) and (
        item.channel is not OutboxChannel.LETTER or item.payload.email_may_replace_letter
    )
    ctx = message_context(adm, item, invoices, debtor, today, LetterChannel.EMAIL if by_email else LetterChannel.POST)
    email = render_email(kind, ctx)
    letter = render_letter(kind, ctx) if kind in LETTER_KINDS else None
    return MessagePreview(
        item_id=item.id,
        language=email.language,
        to=email.to,
        subject=email.subject,
        text=email.text,
        html=email.html,
        by_post=not by_email,
        letter_title=letter.title if letter else None,
        letter_text=letter.text if letter else None,
        letter_pdf=letter.pdf if letter else None,
        letter_filename=letter.filename if letter else None,
        receipt_date=ctx.receipt_date,
        deadline=ctx.deadline,
    )
