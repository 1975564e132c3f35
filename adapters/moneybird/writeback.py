"""Write-back to Moneybird (docs/providers/moneybird.md#write-back): reminders through ``send_reminders``, notes,
pause/resume, holds.

No Moneybird endpoint takes an idempotency key, so every write re-reads first: each write leaves a note that
carries our marker ``[dunning:<key>]``, and a reminder counts as sent when a ``sales_invoice_send_reminder_*``
event exists at or after that note. A retry after a crash between the two therefore neither loses nor doubles
the reminder.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from adapters.moneybird.client import MoneybirdClient
from connector.errors import NotSupported
from connector.model import ReminderWrite, WriteAction, WriteResult

OPEN_STATES = {"open", "pending_payment", "reminded", "late"}


def marker(write: ReminderWrite) -> str:
    """The whole idempotency key: a step's pause (``<key>:pause``) and the step itself share their first 64
    characters, so a shortened key let one take the other's note for its own."""
    return f"[dunning:{write.idempotency_key}]"


def _marked_note(record: dict[str, Any], tag: str) -> dict[str, Any] | None:
    return next((n for n in record.get("notes") or [] if tag in str(n.get("note", ""))), None)


def _reminded_since(record: dict[str, Any], since: str) -> bool:
    return any(
        str(e.get("action", "")).startswith("sales_invoice_send_reminder") and str(e.get("created_at", "")) >= since
        for e in record.get("events") or []
    )


def write(client: MoneybirdClient, tenant: str, write: ReminderWrite) -> WriteResult:
    match write.action:
        case WriteAction.SEND_REMINDER:
            return _send_reminder(client, tenant, write)
        case WriteAction.NOTE:
            return _note_on_invoices(client, tenant, write)
        case WriteAction.PAUSE_PROVIDER_REMINDERS | WriteAction.RESUME_PROVIDER_REMINDERS:
            return _pause_or_resume(client, tenant, write)
        case WriteAction.CREDIT_HOLD | WriteAction.CREDIT_RELEASE:
            return _contact_note(client, tenant, write)
        case WriteAction.MARK_UNCOLLECTIBLE:
            return _mark_uncollectible(client, tenant, write)
        case _:
            raise NotSupported(f"Moneybird write-back of {write.action.value}")


def _note_text(write: ReminderWrite) -> str:
    body = write.text or f"Herinnering niveau {write.level}: {write.level_name}"
    return f"{body} {marker(write)}"


def _post_note(client: MoneybirdClient, tenant: str, invoice_id: str, write: ReminderWrite) -> dict[str, Any]:
    created = client.post(tenant, f"sales_invoices/{invoice_id}/notes.json", {"note": {"note": _note_text(write)}})
    return created if isinstance(created, dict) else {}


def _note_on_invoices(client: MoneybirdClient, tenant: str, write: ReminderWrite) -> WriteResult:
    records = client.fetch(tenant, "sales_invoices", write.invoice_refs)
    tag, calls, refs = marker(write), len(records) and 1, []
    for record in records:
        if _marked_note(record, tag) is None:
            refs.append(str(_post_note(client, tenant, str(record["id"]), write).get("id", "")))
            calls += 1
    return WriteResult(ok=True, provider_refs=refs, already_done=not refs and bool(records), api_calls=calls)


def _send_reminder(client: MoneybirdClient, tenant: str, write: ReminderWrite) -> WriteResult:
    records = [r for r in client.fetch(tenant, "sales_invoices", write.invoice_refs) if r.get("state") in OPEN_STATES]
    calls = 1
    if not records:
        return WriteResult(ok=True, detail="no invoice is open any more; nothing sent", api_calls=calls)
    tag = marker(write)
    to_send: list[dict[str, Any]] = []
    for record in records:
        note = _marked_note(record, tag)
        if note is None:
            note = _post_note(client, tenant, str(record["id"]), write)
            calls += 1
        if not _reminded_since(record, str(note.get("created_at", ""))):
            to_send.append(record)
    if not to_send:
        return WriteResult(ok=True, already_done=True, detail="reminder already sent", api_calls=calls)
    identity = client.first_id(tenant, "identities.json")
    style = client.first_id(tenant, "document_styles.json")
    calls += 2
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for record in to_send:
        key = (
            str(record.get("workflow_id") or ""),
            str(record.get("document_style_id") or style or ""),
            str(record.get("identity_id") or identity or ""),
        )
        groups[key].append(str(record["id"]))
    reminders = []
    for (workflow_id, style_id, identity_id), ids in groups.items():
        reminder: dict[str, Any] = {
            "contact_id": write.debtor_ref,
            "workflow_id": workflow_id,
            "document_style_id": style_id,
            "identity_id": identity_id,
            "sales_invoice_ids": ids,
            # docs/providers/moneybird.md#write-back: Manual records a reminder we deliver ourselves (letter) without an
            # e-mail
            "delivery_method": "Manual" if write.channel == "letter" else "Email",
        }
        if write.message:  # our text with the debtor's personal link; without it, the workflow step's own text
            reminder["reminder_text"] = write.message
        if write.email and write.channel != "letter":
            reminder["email_address"] = write.email
        reminders.append(reminder)
    client.post(tenant, "sales_invoices/send_reminders.json", {"sales_invoice_reminders": reminders}, expect=int)
    return WriteResult(ok=True, provider_refs=[i for ids in groups.values() for i in ids], api_calls=calls + 1)


def _pause_or_resume(client: MoneybirdClient, tenant: str, write: ReminderWrite) -> WriteResult:
    pause = write.action is WriteAction.PAUSE_PROVIDER_REMINDERS
    records = client.fetch(tenant, "sales_invoices", write.invoice_refs)
    changed = []
    for record in records:
        if bool(record.get("paused")) != pause and record.get("state") in OPEN_STATES:
            client.post(tenant, f"sales_invoices/{record['id']}/{'pause' if pause else 'resume'}.json", {})
            changed.append(str(record["id"]))
    return WriteResult(ok=True, provider_refs=changed, already_done=not changed, api_calls=1 + len(changed))


def _contact_note(client: MoneybirdClient, tenant: str, write: ReminderWrite) -> WriteResult:
    # Moneybird has no credit-hold flag: the hold is a note on the contact (docs/providers/moneybird.md#write-back)
    contacts = client.fetch(tenant, "contacts", [write.debtor_ref])
    tag = marker(write)
    if contacts and any(tag in str(n.get("note", "")) for n in contacts[0].get("notes") or []):
        return WriteResult(ok=True, already_done=True, api_calls=1)
    created = client.post(tenant, f"contacts/{write.debtor_ref}/notes.json", {"note": {"note": _note_text(write)}})
    ref = str(created.get("id", "")) if isinstance(created, dict) else ""
    return WriteResult(ok=True, provider_refs=[ref], api_calls=2)


def _mark_uncollectible(client: MoneybirdClient, tenant: str, write: ReminderWrite) -> WriteResult:
    records = client.fetch(tenant, "sales_invoices", write.invoice_refs)
    done = []
    for record in records:
        if record.get("state") != "uncollectible":
            client.patch(tenant, f"sales_invoices/{record['id']}/mark_as_uncollectible.json", {})
            done.append(str(record["id"]))
    return WriteResult(ok=True, provider_refs=done, already_done=not done, api_calls=1 + len(done))
