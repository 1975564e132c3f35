"""Dunning status written back into Xero: History notes per reminder step and a credit-stop contact group.

Called by ``XeroAdapter.write_reminder_status`` when the outbox drains. Every write first re-reads what it
would create (the invoice's History, the group's members) and answers ``already_done`` when our marker or the
membership is already there, so a retried outbox row never writes twice; the PUTs also carry an
``Idempotency-Key`` (docs/providers/xero.md#write-back). Notes are append-only and kept under 250 characters, safe for
both documented limits.
"""

from __future__ import annotations

import hashlib

from adapters.xero.client import XeroClient
from connector.errors import NotSupported
from connector.model import ReminderWrite, WriteAction, WriteResult

NOTE_LIMIT = 250  # docs/providers/xero.md#write-back: 2,500 today, 250 in older docs


def marker(idempotency_key: str) -> str:
    """The tag we append to our notes: short, stable, and findable in History."""
    return f"[dunning {hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]}]"


def note_text(write: ReminderWrite) -> str:
    tag = marker(write.idempotency_key)
    text = write.text.strip() or f"Reminder {write.level} ({write.level_name})"
    return f"{text[: NOTE_LIMIT - len(tag) - 1]} {tag}"


def header_key(idempotency_key: str, suffix: str) -> str:
    # ≤128 chars (docs/providers/xero.md#write-back)
    return hashlib.sha256(f"{idempotency_key}:{suffix}".encode()).hexdigest()


def write(client: XeroClient, tenant: str, item: ReminderWrite, credit_stop_group: str) -> WriteResult:
    start = client.calls
    if item.action is WriteAction.NOTE:
        result = _notes(client, tenant, item)
    elif item.action in (WriteAction.CREDIT_HOLD, WriteAction.CREDIT_RELEASE):
        result = _credit_stop(client, tenant, item, credit_stop_group)
    else:
        raise NotSupported(f"xero cannot {item.action.value}")
    return result.model_copy(update={"api_calls": client.calls - start})


def _notes(client: XeroClient, tenant: str, item: ReminderWrite) -> WriteResult:
    tag = marker(item.idempotency_key)
    written, skipped = [], []
    for invoice_id in item.invoice_refs:
        if any(tag in str(r.get("Details") or "") for r in client.history(tenant, invoice_id)):
            skipped.append(invoice_id)
            continue
        client.add_history(tenant, invoice_id, note_text(item), header_key(item.idempotency_key, invoice_id))
        written.append(invoice_id)
    return WriteResult(
        ok=True,
        provider_refs=written + skipped,
        already_done=not written,
        detail=f"history notes: {len(written)} written, {len(skipped)} already there",
    )


def _credit_stop(client: XeroClient, tenant: str, item: ReminderWrite, group_name: str) -> WriteResult:
    hold = item.action is WriteAction.CREDIT_HOLD
    group = next(
        (
            g
            for g in client.contact_groups(tenant)
            if str(g.get("Name", "")).lower() == group_name.lower() and g.get("Status", "ACTIVE") == "ACTIVE"
        ),
        None,
    )
    if group is None:
        if not hold:
            return WriteResult(ok=True, already_done=True, detail=f"no contact group {group_name!r}")
        group = client.create_contact_group(tenant, group_name, header_key(item.idempotency_key, "group"))
    group_id = str(group["ContactGroupID"])
    members = {str(c.get("ContactID")) for c in client.contact_group(tenant, group_id).get("Contacts") or []}
    if (item.debtor_ref in members) == hold:
        return WriteResult(
            ok=True,
            provider_refs=[group_id],
            already_done=True,
            detail=f"contact already {'in' if hold else 'out of'} {group_name!r}",
        )
    if hold:
        client.add_to_group(tenant, group_id, item.debtor_ref, header_key(item.idempotency_key, "member"))
    else:
        client.remove_from_group(tenant, group_id, item.debtor_ref)
    return WriteResult(
        ok=True, provider_refs=[group_id], detail=f"contact {'added to' if hold else 'removed from'} {group_name!r}"
    )
