"""Drain: executes queued outbox items exactly once, after a last look at the provider.

The step after ``connector.decide`` (which queues the items). For each pending item: re-read its invoices from
the provider (freshness gate: an invoice paid, credited or disputed since the decision drops out; if none is left
the item is ``skipped``), pause the package's own reminders first when the decision asks for it, then write
through the adapter (the provider sends the reminder where it can, with a note naming the level) with the item's
idempotency key. What to write is ``connector.outbox.writes``; our own e-mail, letter and phone channels are
``connector.outbox.deliver``. Transient failures back off, a lost grant parks the item until the user
reconnects, permanent failures are recorded with their reason. Every drain, from any process (the CLI, a worker,
the demo), claims each item before working it, so two drains at once never send the same step twice; a claim
whose process died lapses after ``CLAIM`` and the next drain completes the item
(docs/architecture.md#the-outbox-claims-each-item).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import structlog

from connector import clock
from connector.errors import ConnectorError, NotSupported, PermanentError, RateLimited, ReauthRequired, TransientError
from connector.model import Capability, Invoice, InvoiceStatus, WriteAction, WriteResult
from connector.model.api import EventType
from connector.model.outbox import OWN_CHANNEL_ACTIONS, REMINDER_ACTIONS, OutboxAction, OutboxItem, OutboxStatus
from connector.outbox.deliver import Delivered, deliver, package_message, record_evidence
from connector.outbox.writes import document_write, manual_write, provider_sends, reminder_writes
from connector.ports import AccountingAdapter
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import Session, transaction
from connector.sync import refresh_invoices

log = structlog.get_logger(__name__)
BACKOFF = (timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))
CLAIM = timedelta(minutes=10)  # how long one item stays ours while we work it; longer than any send takes


@dataclass
class DrainReport:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    retry_later: int = 0
    writebacks: int = 0
    api_calls: int = 0
    details: list[str] = field(default_factory=list)


def _answered(s: Session, adm: tables.Administration, today: date) -> set[str]:
    """Invoices the debtor answered about on its page and nobody resolved yet (docs/portal.md#answers): a message
    decided before the answer does not go out (a question only while its pause lasts)."""
    return {
        str(ref)
        for answer in repos.open_portal_answers(s, adm.org_id, adm.id)
        if answer.kind != "question" or answer.check_on is None or answer.check_on >= today
        for ref in answer.invoice_refs
    }


def _still_due(rt: Runtime, adm: tables.Administration, invoices: list[Invoice]) -> list[Invoice]:
    with rt.sessions() as s:
        states = repos.reminder_states(s, adm.org_id, adm.id, [i.provider_ref for i in invoices])
        answered = _answered(s, adm, clock.today(adm.timezone, clock=rt.clock))
    keep = []
    for inv in invoices:
        state = states.get(inv.provider_ref)
        held = (state is not None and (state.hold_reason or state.handed_over)) or inv.provider_ref in answered
        if inv.status is InvoiceStatus.OPEN and inv.open_amount > 0 and not inv.disputed and not held:
            keep.append(inv)
    return keep


def _deliver_once(
    rt: Runtime, item: OutboxItem, adm: tables.Administration, due: list[Invoice], debtor: tables.Debtor | None
) -> tuple[OutboxItem, Delivered | None]:
    """Send through our own channel unless an earlier attempt already did (recorded in its own transaction, so a
    crash after sending and before the write-back never sends the message twice)."""
    if item.payload.delivered is not None:
        return item, None
    today = clock.today(adm.timezone, clock=rt.clock)
    delivered = deliver(rt, adm, item, due, debtor, today)
    record_evidence(rt, adm, item, delivered, today)
    with transaction(rt.sessions) as s:
        current = repos.get_outbox_item(s, item.org_id, item.id)
        if current is not None:
            payload = current.payload.model_copy(update={"delivered": delivered.part})
            item = repos.update_outbox_item(s, item.org_id, item.id, payload=payload) or item
    return item, delivered


def process_item(
    rt: Runtime,
    item: OutboxItem,
    adapter: AccountingAdapter,
    adm: tables.Administration,
    report: DrainReport,
    fresh: dict[str, Invoice] | None = None,
) -> None:
    """Work one pending item: a person's write-back as it is, a dunning step after the freshness gate."""
    if item.payload.manual:
        _process_manual(rt, item, adapter, adm, report)
        return
    if fresh is None:
        fresh = {i.provider_ref: i for i in refresh_invoices(rt, adapter, adm, list(item.invoice_refs))}
    due = _still_due(rt, adm, [fresh[r] for r in item.invoice_refs if r in fresh])
    if not due:
        _finish(rt, item, OutboxStatus.SKIPPED, "freshness gate: paid, credited, disputed or held since the decision")
        report.skipped += 1
        return
    with rt.sessions() as s:
        debtor = repos.get_debtors(s, adm.org_id, adm.id, [item.debtor_ref]).get(item.debtor_ref)
    by_provider = provider_sends(item, adapter)
    delivered = None
    if not by_provider and item.action in OWN_CHANNEL_ACTIONS:
        item, delivered = _deliver_once(rt, item, adm, due, debtor)
    message = ""
    if by_provider:  # the package sends it: with our text and the debtor's link (docs/portal.md#links)
        message = package_message(rt, adm, item, due, debtor, clock.today(adm.timezone, clock=rt.clock))
    writes = reminder_writes(item, adapter, due, debtor.email if debtor else None, message)
    if delivered is not None and delivered.letter is not None and Capability.WRITE_DOCUMENT in adapter.capabilities:
        # docs/providers/exact.md#write-back: the letter as a Document
        writes.append(document_write(item, due, delivered))
    results: list[WriteResult] = []
    for write in writes:
        results.append(adapter.write_reminder_status(adm.provider_tenant_id, write))
        report.writebacks += 0 if results[-1].already_done else 1
    record = item.payload.delivered
    detail = "sent by the accounting package" if by_provider else ((record.detail if record else "") or "written back")
    waiting = record is not None and record.status is OutboxStatus.TASK_OPEN
    status = OutboxStatus.TASK_OPEN if waiting else OutboxStatus.DONE
    refs = [r for res in results for r in res.provider_refs]
    paused = any(w.action is WriteAction.PAUSE_PROVIDER_REMINDERS for w in writes)
    _finish(rt, item, status, detail, refs, provider_sent=by_provider, invoices=due, paused_by_us=paused)
    report.done += 1


def _process_manual(
    rt: Runtime, item: OutboxItem, adapter: AccountingAdapter, adm: tables.Administration, report: DrainReport
) -> None:
    """A write-back a person caused (hold, release, arrangement, credit stop, write-off, hand-over): no freshness
    gate (a hold note is exactly for an invoice that is held) and no message to the debtor; only the write-back."""
    write = manual_write(item, adapter)
    if write is None:
        _finish(rt, item, OutboxStatus.SKIPPED, f"{adm.provider} takes no notes: recorded here only")
        report.skipped += 1
        return
    result = adapter.write_reminder_status(adm.provider_tenant_id, write)
    report.writebacks += 0 if result.already_done else 1
    detail = result.detail or f"{write.action.value} written back"
    _finish(rt, item, OutboxStatus.DONE, detail, list(result.provider_refs))
    report.done += 1


def _finish(
    rt: Runtime,
    item: OutboxItem,
    status: OutboxStatus,
    detail: str,
    refs: list[str] | None = None,
    *,
    provider_sent: bool = False,
    invoices: list[Invoice] | None = None,
    paused_by_us: bool = False,
) -> None:
    refs = refs or []
    with transaction(rt.sessions) as s:
        row = repos.update_outbox_item(
            s,
            item.org_id,
            item.id,
            status=status,
            done_at=rt.clock(),
            provider_refs=refs,
            last_error=None,
            claimed_by=None,
            claimed_until=None,
        )
        if row is None:
            return
        org_id, adm_id = row.org_id, row.administration_id
        invoice_refs = [inv.provider_ref for inv in invoices or []]
        if status is OutboxStatus.DONE and row.action is OutboxAction.HAND_OVER:
            # docs/credit-management.md#hand-over: with the agency, our reminders stop
            repos.mark_handed_over(s, org_id, adm_id, invoice_refs)
        if status is OutboxStatus.DONE and row.action in REMINDER_ACTIONS:
            repos.emit_event(
                s,
                org_id,
                EventType.REMINDER_SENT,
                {
                    "administration_id": adm_id,
                    "debtor_ref": row.debtor_ref,
                    "invoices": list(row.invoice_refs),
                    "level": row.level,
                    "level_name": row.level_name,
                    "channel": row.channel.value,
                },
            )
        if paused_by_us:
            repos.mark_paused_by_us(s, org_id, adm_id, invoice_refs)  # our own pause is no stop sign for our ladder
        if provider_sent:
            for ref in invoice_refs:  # counted, so the package's own reminders can be told apart (connector.decide)
                repos.record_provider_reminder(s, org_id, adm_id, ref, row.level, by="us")
        repos.audit(
            s,
            org_id,
            f"outbox_{status.value}",
            f"{row.level_name}: {detail}",
            administration_id=adm_id,
            debtor_ref=row.debtor_ref,
            data={"invoices": list(row.invoice_refs), "provider_refs": refs, "idempotency_key": row.idempotency_key},
        )


def _failed(rt: Runtime, item: OutboxItem, connection_id: int, exc: Exception, report: DrainReport) -> None:
    """Count a failed attempt: retry after a back-off (or at the provider's reset), park it until the user
    reconnects, or mark it failed for good."""
    with transaction(rt.sessions) as s:
        current = repos.get_outbox_item(s, item.org_id, item.id)
        if current is None:
            return
        attempts, error = current.attempts + 1, f"{type(exc).__name__}: {exc}"[:2000]
        changes: repos.OutboxChanges = {
            "attempts": attempts,
            "last_error": error,
            "claimed_by": None,
            "claimed_until": None,
        }
        outcome = "retry"
        if isinstance(exc, RateLimited) and exc.until is not None:
            changes["next_attempt_at"] = exc.until
        elif isinstance(exc, ReauthRequired):
            reason = "the provider refused our token: reconnect with `dunning connect`"
            repos.set_connection_status(s, item.org_id, connection_id, "needs_reauth", reason=reason)
        elif isinstance(exc, TransientError) and attempts <= len(BACKOFF):
            changes["next_attempt_at"] = rt.clock() + BACKOFF[attempts - 1]
        else:
            changes["status"], outcome = OutboxStatus.FAILED, "failed"
        repos.update_outbox_item(s, item.org_id, item.id, **changes)
        repos.audit(
            s,
            item.org_id,
            "outbox_error",
            error,
            administration_id=current.administration_id,
            debtor_ref=current.debtor_ref,
            data={"idempotency_key": current.idempotency_key, "outcome": outcome},
        )
    if outcome == "failed":
        report.failed += 1
    else:
        report.retry_later += 1


def _claim(rt: Runtime, item: OutboxItem, holder: str, at: datetime) -> OutboxItem | None:
    """The item as it now is, ours for ``CLAIM``; None when another drain holds it or finished it meanwhile."""
    with transaction(rt.sessions) as s:
        return repos.claim_outbox_item(s, item.org_id, item.id, holder, at + CLAIM, at)


def drain(
    rt: Runtime, org_id: int, *, now: datetime | None = None, administration_id: int | None = None
) -> DrainReport:
    """Work every pending item of the organisation (or of one administration) that is due, one re-read of the
    provider per administration; each item claimed first, and skipped when another drain holds it (it reports it)."""
    report = DrainReport()
    at = now or rt.clock()
    holder = f"{os.getpid()}:{secrets.token_hex(8)}"  # this drain, in this process
    with rt.sessions() as s:
        items = repos.pending_outbox(s, org_id, at, administration_id)
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
        claimed = _claim(rt, item, holder, at)
        if claimed is None:
            continue  # another drain works it (or finished it since we listed it)
        item = claimed
        adapter = adapters.setdefault(connection.id, rt.adapter_for(connection))
        before = rt.calls_for(connection.id)
        try:
            if adm.id not in fresh:  # freshness gate: one re-read per administration right before sending
                refs = sorted({r for i in items if i.administration_id == adm.id for r in i.invoice_refs})
                fresh[adm.id] = {i.provider_ref: i for i in refresh_invoices(rt, adapter, adm, refs)}
            process_item(rt, item, adapter, adm, report, fresh[adm.id])
        except (ConnectorError, OSError) as exc:
            # waiting for a provider's limit is expected at scale (docs/operations.md#capacity), not a warning
            (log.info if isinstance(exc, RateLimited) else log.warning)(
                "outbox.item_failed", item_id=item.id, error=type(exc).__name__
            )
            _failed(
                rt, item, connection.id, exc if not isinstance(exc, NotSupported) else PermanentError(str(exc)), report
            )
        report.api_calls += rt.calls_for(connection.id) - before
    return report
