"""Sync: provider pages -> connector.model -> storage, one page and its cursor per transaction.

A full sync and an incremental sync are the same loop: the adapter is given the stored cursor and a lookup of
stored versions, and yields pages; each page is upserted together with the cursor it carries, so a crash after
any page leaves a state the next run completes without duplicates. Webhook hints re-read single entities
(``apply_hint``) instead of trusting the payload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from connector.errors import RateLimited, ReauthRequired
from connector.model import Debtor, Invoice, Page, WebhookEvent
from connector.model.api import EventType
from connector.ports import AccountingAdapter
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import transaction

log = structlog.get_logger(__name__)
STREAMS = ("debtors", "invoices", "credit_notes", "payments")
Progress = Callable[[str, int], None]
UPSERTS: dict[str, Callable[..., int]] = {
    "debtors": repos.upsert_debtors,
    "invoices": repos.upsert_invoices,
    "credit_notes": repos.upsert_credit_notes,
    "payments": repos.upsert_payments,
}


@dataclass
class SyncReport:
    administrations: int = 0
    pages: int = 0
    changed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STREAMS, 0))
    api_calls: int = 0


def _iterator(adapter: AccountingAdapter, stream: str) -> Callable[..., Iterator[Any]]:
    return {
        "debtors": adapter.iter_debtor_pages,
        "invoices": adapter.iter_invoice_pages,
        "credit_notes": adapter.iter_credit_note_pages,
        "payments": adapter.iter_payment_pages,
    }[stream]


def store_page(rt: Runtime, adm: tables.Administration, stream: str, page: Page[Any], report: SyncReport) -> None:
    """Upsert one page (and what rides along with it) plus its cursor in one transaction."""
    now = rt.clock()
    payments = list(page.records) if stream == "payments" else list(page.payments)
    with transaction(rt.sessions) as s:
        known = repos.known_versions(s, adm.org_id, adm.id, "payments", [p.provider_ref for p in payments])
        report.changed[stream] += UPSERTS[stream](s, adm.org_id, adm.id, list(page.records), now)
        if page.payments:
            report.changed["payments"] += repos.upsert_payments(s, adm.org_id, adm.id, page.payments, now)
        new = [p for p in payments if p.provider_ref not in known]
        if new:  # docs/api.md#outbound-webhooks: a payment we had not seen before
            repos.emit_event(
                s,
                adm.org_id,
                EventType.PAYMENT_DETECTED,
                {
                    "administration_id": adm.id,
                    "payments": [
                        {
                            "reference": p.provider_ref,
                            "invoice": p.invoice_ref,
                            "date": p.payment_date.isoformat(),
                            "amount": str(p.amount),
                            "currency": p.currency,
                            "kind": p.kind,
                        }
                        for p in new
                    ],
                },
            )
        if page.credit_notes:
            report.changed["credit_notes"] += repos.upsert_credit_notes(s, adm.org_id, adm.id, page.credit_notes, now)
        if page.deleted_refs:
            repos.mark_deleted(s, adm.org_id, adm.id, stream, page.deleted_refs)
        if page.cursor is not None:
            repos.set_cursor(s, adm.org_id, adm.id, stream, page.cursor)
    report.pages += 1


# the invoice stream also carries credit notes (Moneybird credit invoices, Exact negative entries): their stored
# versions live in the credit-note table, and without them every incremental sync re-read every credit note
KNOWN_IN = {"invoices": ("invoices", "credit_notes")}


def _known(rt: Runtime, adm: tables.Administration, stream: str) -> Callable[[Sequence[str]], Mapping[str, str]]:
    def lookup(refs: Sequence[str]) -> Mapping[str, str]:
        found: dict[str, str] = {}
        with rt.sessions() as s:
            for stored_as in KNOWN_IN.get(stream, (stream,)):
                found.update(repos.known_versions(s, adm.org_id, adm.id, stored_as, refs))
        return found

    return lookup


def sync_administration(
    rt: Runtime,
    adapter: AccountingAdapter,
    adm: tables.Administration,
    *,
    full: bool = False,
    progress: Progress | None = None,
    report: SyncReport | None = None,
) -> SyncReport:
    report = report or SyncReport()
    for stream in STREAMS:
        with rt.sessions() as s:
            cursor = None if full else repos.get_cursor(s, adm.org_id, adm.id, stream)
        for page in _iterator(adapter, stream)(adm.provider_tenant_id, cursor, _known(rt, adm, stream)):
            store_page(rt, adm, stream, page, report)
            if progress:
                progress(stream, len(page.records))
    settings = adapter.reminder_settings(adm.provider_tenant_id)
    with transaction(rt.sessions) as s:
        row = repos.get_administration(s, adm.org_id, adm.id)
        row.provider_reminders_active = settings.active
        row.provider_reminders_detail = settings.detail[:300]
        row.last_sync_at = rt.clock()
        if full:
            row.last_full_sync_at = row.last_sync_at
    report.administrations += 1
    return report


def discover_administrations(rt: Runtime, org_id: int, connection_id: int) -> list[tables.Administration]:
    """Every tenant the grant reaches becomes an Administration of the connection."""
    with rt.sessions() as s:
        connection = repos.get_connection(s, org_id, connection_id)
    tenants = rt.adapter_for(connection).list_tenants()
    with transaction(rt.sessions) as s:
        reached = {t.provider_tenant_id for t in tenants}
        for adm in repos.list_administrations(s, org_id, connection_id):
            if adm.provider_tenant_id not in reached and not adm.suspended:
                adm.suspended = True  # disconnected at the provider (e.g. Xero DELETE /connections): stop using it
                repos.audit(
                    s,
                    org_id,
                    "connection",
                    f"{adm.name} is no longer reachable through this grant",
                    administration_id=adm.id,
                )
        rows = [repos.upsert_administration(s, org_id, connection_id, connection.provider, t) for t in tenants]
    if not tenants:
        raise ReauthRequired("the grant reaches no administration any more", provider=connection.provider)
    return rows


def sync_connection(
    rt: Runtime, org_id: int, connection_id: int, *, full: bool = False, progress: Progress | None = None
) -> SyncReport:
    with rt.sessions() as s:
        connection = repos.get_connection(s, org_id, connection_id)
    now = rt.clock()
    if connection.parked_until is not None and connection.parked_until > now:
        raise RateLimited(f"connection parked: {connection.parked_reason}", until=connection.parked_until, scope="day")
    adapter = rt.adapter_for(connection)
    before = rt.calls_for(connection_id)
    report = SyncReport()
    try:
        for adm in discover_administrations(rt, org_id, connection_id):
            if adm.suspended:
                continue
            log.info("sync.administration", administration_id=adm.id, full=full)
            sync_administration(rt, adapter, adm, full=full, progress=progress, report=report)
    except RateLimited as exc:
        if exc.scope == "day" and exc.until is not None:  # never sleep on a daily limit: park until it resets
            _set_status(
                rt,
                org_id,
                connection_id,
                "active",
                exc.until,
                f"daily API limit reached; resumes {exc.until:%Y-%m-%d %H:%M} UTC",
            )
        raise
    except ReauthRequired:
        _set_status(
            rt,
            org_id,
            connection_id,
            "needs_reauth",
            None,
            f"access was revoked or expired: run `dunning connect {connection.provider}`",
        )
        raise
    with transaction(rt.sessions) as s:
        row = repos.get_connection(s, org_id, connection_id)
        row.last_sync_at, row.parked_until, row.parked_reason = rt.clock(), None, None
    report.api_calls = rt.calls_for(connection_id) - before
    return report


def _set_status(rt: Runtime, org_id: int, connection_id: int, status: str, until: datetime | None, reason: str) -> None:
    with transaction(rt.sessions) as s:
        repos.set_connection_status(s, org_id, connection_id, status, parked_until=until, reason=reason)
        repos.audit(s, org_id, "connection", reason)


def refresh_invoices(
    rt: Runtime, adapter: AccountingAdapter, adm: tables.Administration, refs: Sequence[str]
) -> list[Invoice]:
    """Re-read invoices (and their payments) from the provider and store them; gone ones are marked deleted."""
    fetched = adapter.fetch_invoice_page(adm.provider_tenant_id, refs)
    seen = {i.provider_ref for i in fetched.records} | {c.provider_ref for c in fetched.credit_notes}
    page: Page[Invoice] = Page(
        records=fetched.records,
        payments=fetched.payments,
        credit_notes=fetched.credit_notes,
        deleted_refs=[r for r in refs if r not in seen],
    )
    store_page(rt, adm, "invoices", page, SyncReport())
    return list(fetched.records)


def apply_hint(rt: Runtime, adapter: AccountingAdapter, adm: tables.Administration, event: WebhookEvent) -> str:
    """Act on a webhook hint by re-reading the entity it names (never trusting the payload)."""
    if event.entity_type == "invoice" and event.entity_id:
        refresh_invoices(rt, adapter, adm, [event.entity_id])
        return f"re-read invoice {event.entity_id}"
    if event.entity_type == "credit_note" and event.entity_id:
        refresh_invoices(rt, adapter, adm, [event.entity_id])
        return f"re-read credit note {event.entity_id}"
    if event.entity_type == "debtor" and event.entity_id:
        debtors: list[Debtor] = adapter.fetch_debtors(adm.provider_tenant_id, [event.entity_id])
        store_page(rt, adm, "debtors", Page(records=debtors), SyncReport())
        return f"re-read debtor {event.entity_id}"
    sync_administration(rt, adapter, adm)
    return "incremental sync of the administration"
