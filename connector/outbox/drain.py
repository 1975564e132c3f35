"""Drain: executes queued outbox items exactly once, after a last look at the provider.

The step after ``connector.decide`` (which queues the items). For each pending item: re-read its invoices from
the provider (freshness gate: an invoice paid, credited or disputed since the decision drops out; if none is left
the item is ``skipped``), pause the package's own reminders first when the decision asks for it, then write
through the adapter (the provider sends the reminder where it can, with a note naming the level) with the item's
idempotency key. What to write is ``connector.outbox.writes``; our own e-mail, letter and phone channels are
``connector.outbox.deliver``. Transient failures back off, a lost grant parks the item until the user
reconnects, permanent failures are recorded with their reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from connector.errors import ConnectorError, NotSupported, PermanentError, RateLimited, ReauthRequired, TransientError
from connector.model import Capability, Invoice, InvoiceStatus, WriteAction, WriteResult
from connector.outbox.deliver import Delivered, deliver, record_evidence
from connector.outbox.writes import OWN_CHANNEL_ACTIONS, document_write, manual_write, provider_sends, reminder_writes
from connector.ports import AccountingAdapter
from connector.runtime import Runtime
from connector.snapshots import PAUSED_BY_US
from connector.storage import repos, tables
from connector.storage.db import transaction
from connector.sync import refresh_invoices

log = structlog.get_logger(__name__)
BACKOFF = (timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))


@dataclass
class DrainReport:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    retry_later: int = 0
    writebacks: int = 0
    api_calls: int = 0
    details: list[str] = field(default_factory=list)


def _still_due(rt: Runtime, adm: tables.Administration, invoices: list[Invoice]) -> list[Invoice]:
    with rt.sessions() as s:
        states = repos.reminder_states(s, adm.org_id, adm.id, [i.provider_ref for i in invoices])
    keep = []
    for inv in invoices:
        state = states.get(inv.provider_ref)
        held = state is not None and (state.hold_reason or state.handed_over)
        if inv.status is InvoiceStatus.OPEN and inv.open_amount > 0 and not inv.disputed and not held:
            keep.append(inv)
    return keep


def _deliver_once(
    rt: Runtime, item: tables.OutboxItem, adm: tables.Administration, due: list[Invoice], debtor: tables.Debtor | None
) -> Delivered | None:
    """Send through our own channel unless an earlier attempt already did (recorded in its own transaction, so a
    crash after sending and before the write-back never sends the message twice)."""
    if item.payload.get("delivered"):
        return None
    today = rt.clock().astimezone(ZoneInfo(adm.timezone)).date()
    delivered = deliver(rt, adm, item, due, debtor, today)
    record_evidence(rt, adm, item, delivered, today)
    with transaction(rt.sessions) as s:
        row = s.get(tables.OutboxItem, item.id)
        if row is not None:
            record = {"channel": delivered.channel, "detail": delivered.detail, "status": delivered.status}
            row.payload = {**row.payload, "delivered": record | delivered.record}
            item.payload = row.payload
    return delivered


def process_item(
    rt: Runtime,
    item: tables.OutboxItem,
    adapter: AccountingAdapter,
    adm: tables.Administration,
    report: DrainReport,
    fresh: dict[str, Invoice] | None = None,
) -> None:
    if item.payload.get("manual"):
        _process_manual(rt, item, adapter, adm, report)
        return
    if fresh is None:
        fresh = {i.provider_ref: i for i in refresh_invoices(rt, adapter, adm, list(item.invoice_refs))}
    due = _still_due(rt, adm, [fresh[r] for r in item.invoice_refs if r in fresh])
    if not due:
        _finish(rt, item, "skipped", "freshness gate: paid, credited, disputed or held since the decision", [])
        report.skipped += 1
        return
    with rt.sessions() as s:
        debtor = repos.get_debtors(s, adm.org_id, adm.id, [item.debtor_ref]).get(item.debtor_ref)
    by_provider = provider_sends(item, adapter)
    delivered = None
    if not by_provider and item.action in OWN_CHANNEL_ACTIONS:
        delivered = _deliver_once(rt, item, adm, due, debtor)
    writes = reminder_writes(item, adapter, due, debtor.email if debtor else None)
    if delivered is not None and delivered.letter is not None and Capability.WRITE_DOCUMENT in adapter.capabilities:
        writes.append(document_write(item, due, delivered))  # exact.md §6: the letter as a Document
    results: list[WriteResult] = []
    for write in writes:
        results.append(adapter.write_reminder_status(adm.provider_tenant_id, write))
        report.writebacks += 0 if results[-1].already_done else 1
    record = item.payload.get("delivered") or {}
    detail = "sent by the accounting package" if by_provider else str(record.get("detail") or "written back")
    status = "task_open" if record.get("status") == "task_open" else "done"
    refs = [r for res in results for r in res.provider_refs]
    paused = any(w.action is WriteAction.PAUSE_PROVIDER_REMINDERS for w in writes)
    _finish(rt, item, status, detail, refs, provider_sent=by_provider, invoices=due, paused_by_us=paused)
    report.done += 1


def _process_manual(
    rt: Runtime, item: tables.OutboxItem, adapter: AccountingAdapter, adm: tables.Administration, report: DrainReport
) -> None:
    """A write-back a person caused (hold, release, arrangement, credit stop, write-off, hand-over): no freshness
    gate (a hold note is exactly for an invoice that is held) and no message to the debtor; only the write-back."""
    write = manual_write(item, adapter)
    if write is None:
        _finish(rt, item, "skipped", f"{adm.provider} takes no notes: recorded here only", [])
        report.skipped += 1
        return
    result = adapter.write_reminder_status(adm.provider_tenant_id, write)
    report.writebacks += 0 if result.already_done else 1
    _finish(rt, item, "done", result.detail or f"{write.action.value} written back", list(result.provider_refs))
    report.done += 1


def _finish(
    rt: Runtime,
    item: tables.OutboxItem,
    status: str,
    detail: str,
    refs: list[str],
    *,
    provider_sent: bool = False,
    invoices: list[Invoice] | None = None,
    paused_by_us: bool = False,
) -> None:
    with transaction(rt.sessions) as s:
        row = s.get(tables.OutboxItem, item.id)
        if row is None or row.org_id != item.org_id:
            return
        row.status, row.done_at, row.provider_refs, row.last_error = status, rt.clock(), refs, None
        if status == "done" and row.action == "hand_over":
            for inv in invoices or []:  # P16: handed over to the agency, our own reminders stop
                repos.reminder_state(s, row.org_id, row.administration_id, inv.provider_ref).handed_over = True
        if paused_by_us:
            for inv in invoices or []:  # our own pause (double-chase guard) is no stop sign for our ladder
                state = repos.reminder_state(s, row.org_id, row.administration_id, inv.provider_ref)
                if PAUSED_BY_US not in (state.provider_reminded_levels or []):
                    state.provider_reminded_levels = [*(state.provider_reminded_levels or []), PAUSED_BY_US]
        if provider_sent:
            for inv in invoices or []:
                state = repos.reminder_state(s, row.org_id, row.administration_id, inv.provider_ref)
                # count our provider-sent reminders so the package's own ones can be told apart (dunning.py)
                state.provider_reminded_levels = [
                    *(state.provider_reminded_levels or []),
                    {"level": row.level, "by": "us"},
                ]
        repos.audit(
            s,
            row.org_id,
            f"outbox_{status}",
            f"{row.level_name}: {detail}",
            administration_id=row.administration_id,
            debtor_ref=row.debtor_ref,
            data={"invoices": list(row.invoice_refs), "provider_refs": refs, "idempotency_key": row.idempotency_key},
        )


def _failed(rt: Runtime, item: tables.OutboxItem, connection_id: int, exc: Exception, report: DrainReport) -> None:
    with transaction(rt.sessions) as s:
        row = s.get(tables.OutboxItem, item.id)
        if row is None:
            return
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if isinstance(exc, RateLimited) and exc.until is not None:
            row.next_attempt_at, outcome = exc.until, "retry"
        elif isinstance(exc, ReauthRequired):
            repos.set_connection_status(
                s,
                row.org_id,
                connection_id,
                "needs_reauth",
                reason="the provider refused our token: reconnect with `dunning connect`",
            )
            outcome = "retry"
        elif isinstance(exc, TransientError) and row.attempts <= len(BACKOFF):
            row.next_attempt_at, outcome = rt.clock() + BACKOFF[row.attempts - 1], "retry"
        else:
            row.status, outcome = "failed", "failed"
        repos.audit(
            s,
            row.org_id,
            "outbox_error",
            row.last_error,
            administration_id=row.administration_id,
            debtor_ref=row.debtor_ref,
            data={"idempotency_key": row.idempotency_key, "outcome": outcome},
        )
    if outcome == "failed":
        report.failed += 1
    else:
        report.retry_later += 1


def drain(rt: Runtime, org_id: int, *, now: datetime | None = None) -> DrainReport:
    report = DrainReport()
    with rt.sessions() as s:
        items = repos.pending_outbox(s, org_id, now or rt.clock())
        administrations = {a.id: a for a in repos.list_administrations(s, org_id)}
        connections = {c.id: c for c in repos.list_connections(s, org_id)}
    adapters: dict[int, AccountingAdapter] = {}
    fresh: dict[int, dict[str, Invoice]] = {}
    for item in items:
        adm = administrations[item.administration_id]
        connection = connections[adm.connection_id]
        if connection.status != "active":
            report.retry_later += 1
            continue
        adapter = adapters.setdefault(connection.id, rt.adapter_for(connection))
        before = rt.calls_for(connection.id)
        try:
            if adm.id not in fresh:  # freshness gate: one re-read per administration right before sending
                refs = sorted({r for i in items if i.administration_id == adm.id for r in i.invoice_refs})
                fresh[adm.id] = {i.provider_ref: i for i in refresh_invoices(rt, adapter, adm, refs)}
            process_item(rt, item, adapter, adm, report, fresh[adm.id])
        except (ConnectorError, OSError) as exc:
            log.warning("outbox.item_failed", item_id=item.id, error=type(exc).__name__)
            _failed(
                rt, item, connection.id, exc if not isinstance(exc, NotSupported) else PermanentError(str(exc)), report
            )
        report.api_calls += rt.calls_for(connection.id) - before
    return report
