"""Write-back: what the outbox tells the accounting package for one item, as ``ReminderWrite``s for the adapter.

Part of the outbox step (``connector.outbox.drain`` calls these and hands the writes to the adapter's
``write_reminder_status`` with the item's idempotency key). Decides who sends a reminder (the package itself
where it can and no amounts must be stated, else our own channels), and turns the step into the package's
vocabulary: pause its own reminders, send the reminder, set a credit hold, store a letter, or add a note.
"""

from __future__ import annotations

from connector.model import Capability, Invoice, ReminderWrite, WriteAction
from connector.model.outbox import REMINDER_ACTIONS, OutboxAction, OutboxChannel, OutboxItem
from connector.outbox.deliver import Delivered
from connector.ports import AccountingAdapter


def reminder_writes(
    item: OutboxItem, adapter: AccountingAdapter, invoices: list[Invoice], email: str | None, message: str = ""
) -> list[ReminderWrite]:
    """What to write back for one reminder step: pause the package's own reminders first when asked, then the
    reminder itself (sent by the package with ``message``, our text with the debtor's link), a credit hold, or a
    note naming the level."""
    refs = [i.provider_ref for i in invoices]
    base = dict(
        debtor_ref=item.debtor_ref,
        invoice_refs=refs,
        level=item.level,
        level_name=item.level_name,
        channel=item.channel.value,
        email=email,
    )
    writes: list[ReminderWrite] = []
    caps = adapter.capabilities
    if item.payload.needs_provider_pause and Capability.PAUSE_PROVIDER_REMINDERS in caps:
        writes.append(
            ReminderWrite(
                action=WriteAction.PAUSE_PROVIDER_REMINDERS, idempotency_key=item.idempotency_key + ":pause", **base
            )
        )
    if provider_sends(item, adapter):
        writes.append(
            ReminderWrite(
                action=WriteAction.SEND_REMINDER, idempotency_key=item.idempotency_key, message=message, **base
            )
        )
    elif item.action is OutboxAction.CREDIT_STOP and Capability.CREDIT_HOLD in caps:
        writes.append(
            ReminderWrite(
                action=WriteAction.CREDIT_HOLD,
                idempotency_key=item.idempotency_key,
                text=f"Kredietstop: {item.level_name}",
                **base,
            )
        )
    elif Capability.WRITE_NOTE in caps:
        writes.append(
            ReminderWrite(
                action=WriteAction.NOTE,
                idempotency_key=item.idempotency_key,
                text=item.payload.note or f"Aanmaningsstap {item.level}: {item.level_name} ({item.channel.value})",
                **base,
            )
        )
    return writes


def provider_sends(item: OutboxItem, adapter: AccountingAdapter) -> bool:
    """The accounting package itself sends this step (Moneybird ``send_reminders``); else our own channels do.

    A step that charges collection costs or interest, states the costs of a 14-day letter, or is the notice of
    default, always goes through our own templates: the package's reminder would not state the amounts the debtor
    is charged, nor put the debtor in default.
    """
    return (
        item.action in REMINDER_ACTIONS
        and item.channel in (OutboxChannel.PROVIDER, OutboxChannel.EMAIL)
        and Capability.SEND_REMINDER in adapter.capabilities
        and not item.payload.needs_our_text
    )


MANUAL_WRITES = {
    # what a person decided (connector.debtors), written back as the package allows it; a note otherwise
    OutboxAction.CREDIT_STOP: (WriteAction.CREDIT_HOLD, Capability.CREDIT_HOLD),
    OutboxAction.CREDIT_RELEASE: (WriteAction.CREDIT_RELEASE, Capability.CREDIT_HOLD),
    OutboxAction.MARK_UNCOLLECTIBLE: (WriteAction.MARK_UNCOLLECTIBLE, Capability.MARK_UNCOLLECTIBLE),
}


def manual_write(item: OutboxItem, adapter: AccountingAdapter) -> ReminderWrite | None:
    """What a person decided, written back as the package allows it; a note otherwise; None when it takes none."""
    action, needs = MANUAL_WRITES.get(item.action, (WriteAction.NOTE, Capability.WRITE_NOTE))
    if needs not in adapter.capabilities:
        action = WriteAction.NOTE
    if action is WriteAction.NOTE and Capability.WRITE_NOTE not in adapter.capabilities:
        return None
    return ReminderWrite(
        action=action,
        debtor_ref=item.debtor_ref,
        invoice_refs=list(item.invoice_refs),
        level=item.level,
        level_name=item.level_name,
        channel=item.channel.value,
        text=item.payload.text or item.level_name,
        idempotency_key=item.idempotency_key,
    )


def document_write(item: OutboxItem, due: list[Invoice], delivered: Delivered) -> ReminderWrite:
    """The letter we sent, stored as a document with the invoices (Exact)."""
    letter = delivered.letter
    return ReminderWrite(
        action=WriteAction.DOCUMENT,
        debtor_ref=item.debtor_ref,
        invoice_refs=[i.provider_ref for i in due],
        level=item.level,
        level_name=item.level_name,
        channel=item.channel.value,
        text=f"{item.level_name} (PDF)",
        attachment_name=letter.filename if letter else None,
        attachment=letter.pdf if letter else None,
        idempotency_key=item.idempotency_key + ":document",
    )
