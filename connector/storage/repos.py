"""Every query of the connector, each scoped to the organisation it serves.

Functions take a ``Session`` and an ``org_id`` (and usually an administration id) and never return rows of
another organisation; the reflection test in ``tests/storage`` enforces the signature. The two routing
functions (``route_tenant`` and ``route_webhook_secrets``) resolve a provider tenant to organisations for the
webhook receiver and are the only deliberate exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector import model
from connector.errors import NotFound
from connector.storage import tables as t

Row = TypeVar("Row", t.Debtor, t.Invoice, t.Payment, t.CreditNote)
ROUTING_EXCEPTIONS = frozenset({"route_tenant", "route_webhook_secrets"})


def utcnow(session: Session | None = None) -> datetime:
    """Now (UTC) by the clock the session was made with (``session_factory(engine, clock=...)``; the runtime's,
    so a simulated day stamps its rows with that day), else the wall clock."""
    clock = session.info.get("clock") if session is not None else None
    return clock() if clock is not None else datetime.now(UTC)


# --- organisations and connections -----------------------------------------------------------------------


def create_organisation(session: Session, name: str) -> int:
    org = t.Organisation(name=name, created_at=utcnow(session))
    session.add(org)
    session.flush()
    return org.id


def find_organisation(session: Session, name: str) -> int | None:
    return session.scalar(select(t.Organisation.id).where(t.Organisation.name == name).order_by(t.Organisation.id))


def list_organisations(session: Session) -> list[tuple[int, str]]:
    """Every organisation as (id, name), oldest first: how the command line finds the one it acts for."""
    rows = session.execute(select(t.Organisation.id, t.Organisation.name).order_by(t.Organisation.id))
    return [(int(org_id), str(name)) for org_id, name in rows]


def rotate_secrets(session: Session, rotate: Callable[[str], str]) -> int:
    """Re-encrypt every stored secret of every organisation (tokens, webhook secrets) with ``rotate``; the count.
    Installation-wide on purpose: the keys are the installation's, not an organisation's."""
    count = 0
    for token in session.scalars(select(t.OAuthToken)):
        token.ciphertext = rotate(token.ciphertext)
        count += 1
    query = select(t.Administration).where(t.Administration.webhook_secret_ciphertext.is_not(None))
    for adm in session.scalars(query):
        if adm.webhook_secret_ciphertext:
            adm.webhook_secret_ciphertext = rotate(adm.webhook_secret_ciphertext)
            count += 1
    return count


def create_connection(session: Session, org_id: int, provider: str, display_name: str = "") -> t.Connection:
    conn = t.Connection(org_id=org_id, provider=provider, display_name=display_name, created_at=utcnow(session))
    session.add(conn)
    session.flush()
    return conn


def get_connection(session: Session, org_id: int, connection_id: int) -> t.Connection:
    conn = session.scalar(select(t.Connection).where(t.Connection.id == connection_id, t.Connection.org_id == org_id))
    if conn is None:
        raise NotFound(f"connection {connection_id} not found")
    return conn


def list_connections(session: Session, org_id: int, provider: str | None = None) -> list[t.Connection]:
    query = select(t.Connection).where(t.Connection.org_id == org_id)
    if provider:
        query = query.where(t.Connection.provider == provider)
    return list(session.scalars(query.order_by(t.Connection.id)))


def set_connection_status(
    session: Session,
    org_id: int,
    connection_id: int,
    status: str,
    *,
    parked_until: datetime | None = None,
    reason: str | None = None,
) -> None:
    session.execute(
        update(t.Connection)
        .where(t.Connection.id == connection_id, t.Connection.org_id == org_id)
        .values(status=status, parked_until=parked_until, parked_reason=reason)
    )


# --- administrations --------------------------------------------------------------------------------------


def upsert_administration(
    session: Session, org_id: int, connection_id: int, provider: str, tenant: model.Tenant
) -> t.Administration:
    adm = session.scalar(
        select(t.Administration).where(
            t.Administration.org_id == org_id,
            t.Administration.connection_id == connection_id,
            t.Administration.provider_tenant_id == tenant.provider_tenant_id,
        )
    )
    if adm is None:
        adm = t.Administration(
            org_id=org_id,
            connection_id=connection_id,
            provider=provider,
            provider_tenant_id=tenant.provider_tenant_id,
            created_at=utcnow(session),
            name=tenant.name,
        )
        session.add(adm)
    adm.name = tenant.name
    adm.currency = tenant.currency
    adm.timezone = tenant.timezone
    adm.country = tenant.country
    adm.language = tenant.language
    adm.suspended = tenant.suspended
    session.flush()
    return adm


def list_administrations(session: Session, org_id: int, connection_id: int | None = None) -> list[t.Administration]:
    query = select(t.Administration).where(t.Administration.org_id == org_id)
    if connection_id is not None:
        query = query.where(t.Administration.connection_id == connection_id)
    return list(session.scalars(query.order_by(t.Administration.id)))


def get_administration(session: Session, org_id: int, administration_id: int) -> t.Administration:
    adm = session.scalar(
        select(t.Administration).where(t.Administration.id == administration_id, t.Administration.org_id == org_id)
    )
    if adm is None:
        raise NotFound(f"no administration {administration_id} here")
    return adm


def route_tenant(session: Session, provider: str, provider_tenant_id: str) -> list[t.Administration]:
    """Webhook routing: every organisation's administration for this provider tenant (active connections)."""
    return list(
        session.scalars(
            select(t.Administration)
            .join(t.Connection, t.Connection.id == t.Administration.connection_id)
            .where(
                t.Administration.provider == provider,
                t.Administration.provider_tenant_id == provider_tenant_id,
                t.Connection.status == "active",
            )
        )
    )


def route_webhook_secrets(session: Session, provider: str, provider_tenant_id: str) -> list[str]:
    """The stored (encrypted) per-tenant webhook secrets for this provider tenant, across organisations."""
    return [
        adm.webhook_secret_ciphertext
        for adm in route_tenant(session, provider, provider_tenant_id)
        if adm.webhook_secret_ciphertext
    ]


# --- sync cursors and upserts ------------------------------------------------------------------------------


def get_cursor(session: Session, org_id: int, administration_id: int, stream: str) -> str | None:
    row = session.get(t.SyncCursor, (administration_id, stream))
    return row.cursor if row is not None and row.org_id == org_id else None


def set_cursor(session: Session, org_id: int, administration_id: int, stream: str, cursor: str | None) -> None:
    row = session.get(t.SyncCursor, (administration_id, stream))
    if row is None:
        session.add(
            t.SyncCursor(
                administration_id=administration_id,
                stream=stream,
                org_id=org_id,
                cursor=cursor,
                updated_at=utcnow(session),
            )
        )
    elif row.org_id == org_id:
        row.cursor = cursor
        row.updated_at = utcnow(session)


_STREAM_TABLES: dict[str, Any] = {
    "debtors": t.Debtor,
    "invoices": t.Invoice,
    "payments": t.Payment,
    "credit_notes": t.CreditNote,
}


def known_versions(
    session: Session, org_id: int, administration_id: int, stream: str, refs: Sequence[str]
) -> dict[str, str]:
    table = _STREAM_TABLES[stream]
    found: dict[str, str] = {}
    for chunk in _chunks(list(refs), 500):
        rows = session.execute(
            select(table.provider_ref, table.provider_version).where(
                table.org_id == org_id, table.administration_id == administration_id, table.provider_ref.in_(chunk)
            )
        )
        found.update({ref: version for ref, version in rows if version is not None})
    return found


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing(
    session: Session, table: type[Row], org_id: int, administration_id: int, refs: list[str]
) -> dict[str, Row]:
    existing: dict[str, Row] = {}
    for chunk in _chunks(refs, 500):
        rows = session.scalars(
            select(table).where(
                table.org_id == org_id, table.administration_id == administration_id, table.provider_ref.in_(chunk)
            )
        )
        existing.update({row.provider_ref: row for row in rows})
    return existing


def _upsert(
    session: Session, table: type[Row], org_id: int, administration_id: int, values: list[dict[str, Any]]
) -> int:
    """Insert or update rows by provider_ref; returns how many rows were new or changed."""
    existing = _existing(session, table, org_id, administration_id, [v["provider_ref"] for v in values])
    changed = 0
    for value in values:
        row = existing.get(value["provider_ref"])
        if row is None:
            row = table(org_id=org_id, administration_id=administration_id, **value)
            session.add(row)
            existing[value["provider_ref"]] = row
            changed += 1
            continue
        dirty = False
        for key, new in value.items():
            if key != "synced_at" and getattr(row, key) != new:
                setattr(row, key, new)
                dirty = True
        row.synced_at = value["synced_at"]
        changed += int(dirty)
    session.flush()
    return changed


def upsert_debtors(
    session: Session, org_id: int, administration_id: int, debtors: Sequence[model.Debtor], now: datetime
) -> int:
    values = [
        {
            "provider_ref": d.provider_ref,
            "name": d.name,
            "company_name": d.company_name,
            "email": d.email,
            "phone": d.phone,
            "kvk_number": d.kvk_number,
            "vat_number": d.vat_number,
            "segment": d.segment.value,
            "address": d.address.model_dump(),
            "language": d.language,
            "customer_number": d.customer_number,
            "blocked": d.blocked,
            "provider_version": d.provider_version,
            "updated_at": d.updated_at,
            "synced_at": now,
            "deleted": False,
        }
        for d in debtors
    ]
    return _upsert(session, t.Debtor, org_id, administration_id, values)


def upsert_invoices(
    session: Session, org_id: int, administration_id: int, invoices: Sequence[model.Invoice], now: datetime
) -> int:
    values = []
    for inv in invoices:
        values.append(
            {
                "provider_ref": inv.provider_ref,
                "number": inv.number,
                "debtor_ref": inv.debtor_ref,
                "invoice_date": inv.invoice_date,
                "due_date": inv.due_date,
                "payment_term_days": inv.payment_term_days,
                "currency": inv.currency,
                "total_minor": model.Money(amount=inv.total, currency=inv.currency).to_minor(),
                "open_minor": inv.open_money.to_minor(),
                "status": inv.status.value,
                "provider_state": inv.provider_state,
                "provider_version": inv.provider_version,
                "payment_url": inv.payment_url,
                "reference": inv.reference,
                "paused_at_provider": inv.paused_at_provider,
                "provider_reminder_count": inv.provider_reminder_count,
                "disputed": inv.disputed,
                "updated_at": inv.updated_at,
                "synced_at": now,
                "deleted": False,
            }
        )
    return _upsert(session, t.Invoice, org_id, administration_id, values)


def upsert_payments(
    session: Session, org_id: int, administration_id: int, payments: Sequence[model.Payment], now: datetime
) -> int:
    values = [
        {
            "provider_ref": p.provider_ref,
            "invoice_ref": p.invoice_ref,
            "payment_date": p.payment_date,
            "amount_minor": model.Money(amount=p.amount, currency=p.currency).to_minor(),
            "currency": p.currency,
            "kind": p.kind,
            "provider_version": p.provider_version,
            "synced_at": now,
        }
        for p in payments
    ]
    return _upsert(session, t.Payment, org_id, administration_id, values)


def upsert_credit_notes(
    session: Session, org_id: int, administration_id: int, notes: Sequence[model.CreditNote], now: datetime
) -> int:
    values = [
        {
            "provider_ref": c.provider_ref,
            "number": c.number,
            "debtor_ref": c.debtor_ref,
            "issue_date": c.issue_date,
            "currency": c.currency,
            "total_minor": model.Money(amount=c.total, currency=c.currency).to_minor(),
            "remaining_minor": model.Money(amount=c.remaining, currency=c.currency).to_minor(),
            "invoice_ref": c.invoice_ref,
            "provider_version": c.provider_version,
            "synced_at": now,
        }
        for c in notes
    ]
    return _upsert(session, t.CreditNote, org_id, administration_id, values)


def mark_deleted(session: Session, org_id: int, administration_id: int, stream: str, refs: Sequence[str]) -> int:
    table = _STREAM_TABLES[stream]
    if not refs or not hasattr(table, "deleted"):
        return 0
    values: dict[str, Any] = {"deleted": True}
    if table is t.Invoice:
        values["status"] = model.InvoiceStatus.VOIDED.value
    result = session.execute(
        update(table)
        .where(table.org_id == org_id, table.administration_id == administration_id, table.provider_ref.in_(refs))
        .values(**values)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def invoice_row_to_model(row: t.Invoice) -> model.Invoice:
    return model.Invoice(
        provider_ref=row.provider_ref,
        number=row.number,
        debtor_ref=row.debtor_ref,
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        payment_term_days=row.payment_term_days,
        currency=row.currency,
        total=model.Money.from_minor(row.total_minor, row.currency).amount,
        open_amount=model.Money.from_minor(row.open_minor, row.currency).amount,
        status=model.InvoiceStatus(row.status),
        provider_state=row.provider_state,
        provider_version=row.provider_version,
        payment_url=row.payment_url,
        reference=row.reference,
        paused_at_provider=row.paused_at_provider,
        provider_reminder_count=row.provider_reminder_count,
        disputed=row.disputed,
        updated_at=row.updated_at,
    )


def get_invoices(
    session: Session,
    org_id: int,
    administration_id: int,
    refs: Sequence[str] | None = None,
    *,
    open_only: bool = False,
) -> list[t.Invoice]:
    query = select(t.Invoice).where(t.Invoice.org_id == org_id, t.Invoice.administration_id == administration_id)
    if refs is not None:
        query = query.where(t.Invoice.provider_ref.in_(list(refs)))
    if open_only:
        query = query.where(t.Invoice.status == model.InvoiceStatus.OPEN.value, t.Invoice.deleted.is_(False))
    return list(session.scalars(query.order_by(t.Invoice.due_date, t.Invoice.id)))


def find_invoices(session: Session, org_id: int, ref: str) -> list[t.Invoice]:
    """Invoices a person names: by the number on the invoice or by the provider's reference, in any
    administration of the organisation (a number may repeat across administrations)."""
    query = select(t.Invoice).where(
        t.Invoice.org_id == org_id, (t.Invoice.provider_ref == ref) | (t.Invoice.number == ref)
    )
    return list(session.scalars(query.order_by(t.Invoice.administration_id, t.Invoice.id)))


def get_debtors(
    session: Session, org_id: int, administration_id: int, refs: Sequence[str] | None = None
) -> dict[str, t.Debtor]:
    query = select(t.Debtor).where(t.Debtor.org_id == org_id, t.Debtor.administration_id == administration_id)
    if refs is not None:
        query = query.where(t.Debtor.provider_ref.in_(list(refs)))
    return {d.provider_ref: d for d in session.scalars(query)}


def get_payments(session: Session, org_id: int, administration_id: int) -> list[t.Payment]:
    return list(
        session.scalars(
            select(t.Payment).where(t.Payment.org_id == org_id, t.Payment.administration_id == administration_id)
        )
    )


def counts(session: Session, org_id: int, administration_ids: Sequence[int]) -> dict[str, int]:
    def count(table: Any, *extra: Any) -> int:
        return int(
            session.scalar(
                select(func.count())
                .select_from(table)
                .where(table.org_id == org_id, table.administration_id.in_(list(administration_ids)), *extra)
            )
            or 0
        )

    open_minor = session.scalar(
        select(func.coalesce(func.sum(t.Invoice.open_minor), 0)).where(
            t.Invoice.org_id == org_id,
            t.Invoice.administration_id.in_(list(administration_ids)),
            t.Invoice.status == model.InvoiceStatus.OPEN.value,
            t.Invoice.deleted.is_(False),
        )
    )
    return {
        "open_minor": int(open_minor or 0),
        "invoices": count(t.Invoice),
        "open_invoices": count(
            t.Invoice, t.Invoice.status == model.InvoiceStatus.OPEN.value, t.Invoice.deleted.is_(False)
        ),
        "payments": count(t.Payment),
        "debtors": count(t.Debtor),
        "credit_notes": count(t.CreditNote),
    }


# --- reminder state ------------------------------------------------------------------------------------


def reminder_states(
    session: Session, org_id: int, administration_id: int, refs: Sequence[str] | None = None
) -> dict[str, t.ReminderState]:
    query = select(t.ReminderState).where(
        t.ReminderState.org_id == org_id, t.ReminderState.administration_id == administration_id
    )
    if refs is not None:
        query = query.where(t.ReminderState.invoice_ref.in_(list(refs)))
    return {s.invoice_ref: s for s in session.scalars(query)}


def reminder_state(session: Session, org_id: int, administration_id: int, invoice_ref: str) -> t.ReminderState:
    """The reminder state of one invoice, created empty when absent."""
    state = reminder_states(session, org_id, administration_id, [invoice_ref]).get(invoice_ref)
    if state is None:
        state = t.ReminderState(
            org_id=org_id, administration_id=administration_id, invoice_ref=invoice_ref, updated_at=utcnow(session)
        )
        session.add(state)
        session.flush()
    return state


# --- outbox -----------------------------------------------------------------------------------------------


def add_outbox_item(session: Session, org_id: int, administration_id: int, **fields: Any) -> bool:
    """Insert unless the idempotency key exists already; True when inserted."""
    key = fields["idempotency_key"]
    exists = session.scalar(
        select(t.OutboxItem.id).where(t.OutboxItem.org_id == org_id, t.OutboxItem.idempotency_key == key)
    )
    if exists is not None:
        return False
    session.add(t.OutboxItem(org_id=org_id, administration_id=administration_id, created_at=utcnow(session), **fields))
    session.flush()
    return True


def pending_outbox(
    session: Session, org_id: int, now: datetime, administration_id: int | None = None, limit: int = 500
) -> list[t.OutboxItem]:
    query = select(t.OutboxItem).where(t.OutboxItem.org_id == org_id, t.OutboxItem.status == "pending")
    if administration_id is not None:
        query = query.where(t.OutboxItem.administration_id == administration_id)
    query = query.where((t.OutboxItem.next_attempt_at.is_(None)) | (t.OutboxItem.next_attempt_at <= now))
    return list(session.scalars(query.order_by(t.OutboxItem.id).limit(limit)))


def outbox_items(session: Session, org_id: int, status: str | None = None) -> list[t.OutboxItem]:
    query = select(t.OutboxItem).where(t.OutboxItem.org_id == org_id)
    if status:
        query = query.where(t.OutboxItem.status == status)
    return list(session.scalars(query.order_by(t.OutboxItem.id)))


# --- audit ------------------------------------------------------------------------------------------------


def audit(
    session: Session,
    org_id: int,
    kind: str,
    message: str,
    *,
    administration_id: int | None = None,
    invoice_ref: str | None = None,
    debtor_ref: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        t.AuditEntry(
            org_id=org_id,
            administration_id=administration_id,
            invoice_ref=invoice_ref,
            debtor_ref=debtor_ref,
            kind=kind,
            message=message,
            data=dict(data or {}),
            created_at=utcnow(session),
        )
    )


def audit_trail(
    session: Session, org_id: int, *, invoice_ref: str | None = None, kind: str | None = None, limit: int = 200
) -> list[t.AuditEntry]:
    query = select(t.AuditEntry).where(t.AuditEntry.org_id == org_id)
    if invoice_ref:
        query = query.where(t.AuditEntry.invoice_ref == invoice_ref)
    if kind:
        query = query.where(t.AuditEntry.kind == kind)
    return list(session.scalars(query.order_by(t.AuditEntry.id.desc()).limit(limit)))


# --- inbox ------------------------------------------------------------------------------------------------


def record_inbox_event(session: Session, org_id: int | None, **fields: Any) -> int | None:
    """Insert a webhook event; returns its id, or None when (provider, dedupe_id, org) was seen before."""
    query = select(t.InboxEvent.id).where(
        t.InboxEvent.provider == fields["provider"], t.InboxEvent.dedupe_id == fields["dedupe_id"]
    )
    query = query.where(t.InboxEvent.org_id.is_(None) if org_id is None else t.InboxEvent.org_id == org_id)
    if session.scalar(query) is not None:
        return None
    event = t.InboxEvent(org_id=org_id, received_at=utcnow(session), **fields)
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        return None
    return event.id


def get_inbox_event(session: Session, org_id: int | None, event_id: int) -> t.InboxEvent:
    event = session.get(t.InboxEvent, event_id)
    if event is None or event.org_id != org_id:
        raise NotFound(f"inbox event {event_id} not found")
    return event


def inbox_events(
    session: Session, org_id: int | None, status: str | None = None, limit: int = 200
) -> list[t.InboxEvent]:
    query = select(t.InboxEvent).where(
        t.InboxEvent.org_id.is_(None) if org_id is None else t.InboxEvent.org_id == org_id
    )
    if status:
        query = query.where(t.InboxEvent.status == status)
    return list(session.scalars(query.order_by(t.InboxEvent.id).limit(limit)))


def purge_webhook_bodies(session: Session, org_id: int, older_than: datetime) -> int:
    """L10 retention: raw bodies of processed webhook events older than ``older_than`` are deleted; the metadata
    (provider, entity, action, times) stays for the audit year. Dead letters keep their body for replay."""
    result = session.execute(
        update(t.InboxEvent)
        .where(
            t.InboxEvent.org_id == org_id,
            t.InboxEvent.status == "processed",
            t.InboxEvent.received_at < older_than,
            func.length(t.InboxEvent.raw) > 0,
        )
        .values(raw=b"")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def stale_inbox_events(session: Session, org_id: int, older_than: datetime) -> list[t.InboxEvent]:
    """Events still ``received`` (never processed, e.g. the enqueue failed) since before ``older_than``."""
    return list(
        session.scalars(
            select(t.InboxEvent).where(
                t.InboxEvent.org_id == org_id,
                t.InboxEvent.status == "received",
                (t.InboxEvent.next_attempt_at.is_(None)) | (t.InboxEvent.next_attempt_at <= older_than),
                t.InboxEvent.received_at <= older_than,
            )
        )
    )


# --- dunning runs and leases ------------------------------------------------------------------------------


def last_run_date(session: Session, org_id: int, administration_id: int) -> date | None:
    return session.scalar(
        select(func.max(t.DunningRun.run_date)).where(
            t.DunningRun.org_id == org_id,
            t.DunningRun.administration_id == administration_id,
            t.DunningRun.dry_run.is_(False),
            t.DunningRun.finished_at.is_not(None),
        )
    )


def start_run(session: Session, org_id: int, administration_id: int, run_date: date, dry_run: bool) -> t.DunningRun:
    run = session.scalar(
        select(t.DunningRun).where(
            t.DunningRun.org_id == org_id,
            t.DunningRun.administration_id == administration_id,
            t.DunningRun.run_date == run_date,
            t.DunningRun.dry_run.is_(dry_run),
        )
    )
    if run is None:
        run = t.DunningRun(
            org_id=org_id,
            administration_id=administration_id,
            run_date=run_date,
            dry_run=dry_run,
            started_at=utcnow(session),
        )
        session.add(run)
        session.flush()
    return run


def _lease_key(org_id: int, name: str) -> str:
    """Leases are per organisation: two organisations' 'dunning' runs never exclude each other."""
    return f"org{org_id}:{name}"


def try_lease(session: Session, org_id: int, name: str, holder: str, until: datetime, now: datetime) -> bool:
    """Take or renew the organisation's named lease if free, expired or already ours (caller commits)."""
    key = _lease_key(org_id, name)
    lease = session.get(t.Lease, key)
    if lease is None:
        session.add(t.Lease(name=key, org_id=org_id, holder=holder, until=until))
        try:
            session.flush()
        except IntegrityError:
            return False
        return True
    if lease.org_id != org_id:
        return False
    if lease.holder == holder or lease.until <= now:
        lease.holder = holder
        lease.until = until
        return True
    return False


def release_lease(session: Session, org_id: int, name: str, holder: str) -> None:
    lease = session.get(t.Lease, _lease_key(org_id, name))
    if lease is not None and lease.org_id == org_id and lease.holder == holder:
        session.delete(lease)


# --- debtor management: letters, contact moments, arrangements (P10-P13, P18, L2) ---------------------------


def record_letter_evidence(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    debtor_ref: str,
    invoice_refs: list[str],
    kind: str,
    sent_on: date,
    channel: str,
    stated_costs_minor: int | None,
    currency: str,
    sha256: str,
    document_ref: str | None = None,
    message_id: str | None = None,
) -> int:
    """Store proof that a letter went out (L2, L6); idempotent: the same document on the same day is one row."""
    existing = session.scalar(
        select(t.LetterEvidence.id).where(
            t.LetterEvidence.org_id == org_id,
            t.LetterEvidence.administration_id == administration_id,
            t.LetterEvidence.debtor_ref == debtor_ref,
            t.LetterEvidence.kind == kind,
            t.LetterEvidence.sha256 == sha256,
            t.LetterEvidence.sent_on == sent_on,
        )
    )
    if existing is not None:
        return int(existing)
    row = t.LetterEvidence(
        org_id=org_id,
        administration_id=administration_id,
        debtor_ref=debtor_ref,
        invoice_refs=list(invoice_refs),
        kind=kind,
        sent_on=sent_on,
        channel=channel,
        stated_costs_minor=stated_costs_minor,
        currency=currency,
        sha256=sha256,
        document_ref=document_ref,
        message_id=message_id,
        created_at=utcnow(session),
    )
    session.add(row)
    session.flush()
    return row.id


def letter_evidence(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    debtor_ref: str | None = None,
    kind: str | None = None,
) -> list[t.LetterEvidence]:
    query = select(t.LetterEvidence).where(
        t.LetterEvidence.org_id == org_id, t.LetterEvidence.administration_id == administration_id
    )
    if debtor_ref is not None:
        query = query.where(t.LetterEvidence.debtor_ref == debtor_ref)
    if kind is not None:
        query = query.where(t.LetterEvidence.kind == kind)
    return list(session.scalars(query.order_by(t.LetterEvidence.sent_on, t.LetterEvidence.id)))


def set_letter_received(session: Session, org_id: int, evidence_id: int, received_on: date) -> t.LetterEvidence:
    """Record proven receipt (track & trace, read receipt); it overrides the postal presumption (L2)."""
    row = session.scalar(
        select(t.LetterEvidence).where(t.LetterEvidence.id == evidence_id, t.LetterEvidence.org_id == org_id)
    )
    if row is None:
        raise NotFound(f"letter evidence {evidence_id} not found")
    row.received_on = received_on
    return row


def record_contact_moment(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    debtor_ref: str,
    invoice_ref: str | None = None,
    at: datetime,
    channel: str,
    direction: str = "out",
    level: int | None = None,
    reason_code: str | None = None,
    outcome: str | None = None,
    note: str | None = None,
    promise_date: date | None = None,
    document_sha256: str | None = None,
) -> int:
    """Store one message, call, reply or note with a debtor (P10, P18)."""
    row = t.ContactMoment(
        org_id=org_id,
        administration_id=administration_id,
        debtor_ref=debtor_ref,
        invoice_ref=invoice_ref,
        at=at,
        channel=channel,
        direction=direction,
        level=level,
        reason_code=reason_code,
        outcome=outcome,
        note=note,
        promise_date=promise_date,
        document_sha256=document_sha256,
    )
    session.add(row)
    session.flush()
    return row.id


def contact_moments(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    debtor_ref: str | None = None,
    invoice_ref: str | None = None,
) -> list[t.ContactMoment]:
    query = select(t.ContactMoment).where(
        t.ContactMoment.org_id == org_id, t.ContactMoment.administration_id == administration_id
    )
    if debtor_ref is not None:
        query = query.where(t.ContactMoment.debtor_ref == debtor_ref)
    if invoice_ref is not None:
        query = query.where(t.ContactMoment.invoice_ref == invoice_ref)
    return list(session.scalars(query.order_by(t.ContactMoment.at, t.ContactMoment.id)))


def create_arrangement(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    debtor_ref: str,
    invoice_refs: list[str],
    agreed_on: date,
    schedule: Sequence[tuple[date, int]],
    currency: str,
    note: str | None = None,
) -> t.Arrangement:
    """A payment arrangement with its installments (``schedule``: due date and amount in minor units)."""
    plan = t.Arrangement(
        org_id=org_id,
        administration_id=administration_id,
        debtor_ref=debtor_ref,
        invoice_refs=list(invoice_refs),
        status="active",
        agreed_on=agreed_on,
        note=note,
        created_at=utcnow(session),
    )
    session.add(plan)
    session.flush()
    for number, (due_date, amount_minor) in enumerate(schedule, start=1):
        session.add(
            t.Installment(
                org_id=org_id,
                administration_id=administration_id,
                arrangement_id=plan.id,
                number=number,
                due_date=due_date,
                amount_minor=amount_minor,
                currency=currency,
                paid=False,
            )
        )
    session.flush()
    return plan


def arrangements(
    session: Session,
    org_id: int,
    administration_id: int | None = None,
    *,
    status: str | None = None,
    debtor_ref: str | None = None,
) -> list[t.Arrangement]:
    query = select(t.Arrangement).where(t.Arrangement.org_id == org_id)
    if administration_id is not None:
        query = query.where(t.Arrangement.administration_id == administration_id)
    if status is not None:
        query = query.where(t.Arrangement.status == status)
    if debtor_ref is not None:
        query = query.where(t.Arrangement.debtor_ref == debtor_ref)
    return list(session.scalars(query.order_by(t.Arrangement.id)))


def get_arrangement(session: Session, org_id: int, arrangement_id: int) -> t.Arrangement:
    plan = session.scalar(
        select(t.Arrangement).where(t.Arrangement.id == arrangement_id, t.Arrangement.org_id == org_id)
    )
    if plan is None:
        raise NotFound(f"arrangement {arrangement_id} not found")
    return plan


def installments(session: Session, org_id: int, arrangement_ids: Sequence[int]) -> dict[int, list[t.Installment]]:
    """The installments of each arrangement, in schedule order."""
    found: dict[int, list[t.Installment]] = {i: [] for i in arrangement_ids}
    if not arrangement_ids:
        return found
    rows = session.scalars(
        select(t.Installment)
        .where(t.Installment.org_id == org_id, t.Installment.arrangement_id.in_(list(arrangement_ids)))
        .order_by(t.Installment.arrangement_id, t.Installment.number)
    )
    for row in rows:
        found.setdefault(row.arrangement_id, []).append(row)
    return found


def debtor_audit(
    session: Session, org_id: int, administration_id: int, debtor_ref: str, invoice_refs: Sequence[str] = ()
) -> list[t.AuditEntry]:
    """A debtor's audit trail (P18): entries naming the debtor or one of its invoices, oldest first."""
    subject = t.AuditEntry.debtor_ref == debtor_ref
    if invoice_refs:
        subject = subject | t.AuditEntry.invoice_ref.in_(list(invoice_refs))
    query = select(t.AuditEntry).where(
        t.AuditEntry.org_id == org_id, t.AuditEntry.administration_id == administration_id, subject
    )
    return list(session.scalars(query.order_by(t.AuditEntry.id)))


def audit_counts(session: Session, org_id: int, administration_id: int, kind: str) -> dict[str, int]:
    """How many audit entries of ``kind`` each debtor has (e.g. broken promises)."""
    rows = session.execute(
        select(t.AuditEntry.debtor_ref, func.count())
        .where(
            t.AuditEntry.org_id == org_id,
            t.AuditEntry.administration_id == administration_id,
            t.AuditEntry.kind == kind,
            t.AuditEntry.debtor_ref.is_not(None),
        )
        .group_by(t.AuditEntry.debtor_ref)
    )
    return {str(ref): int(count) for ref, count in rows}


def audit_count(
    session: Session,
    org_id: int,
    administration_id: int,
    kind: str,
    *,
    invoice_ref: str | None = None,
    debtor_ref: str | None = None,
) -> int:
    query = select(func.count()).where(
        t.AuditEntry.org_id == org_id, t.AuditEntry.administration_id == administration_id, t.AuditEntry.kind == kind
    )
    if invoice_ref is not None:
        query = query.where(t.AuditEntry.invoice_ref == invoice_ref)
    if debtor_ref is not None:
        query = query.where(t.AuditEntry.debtor_ref == debtor_ref)
    return int(session.scalar(query) or 0)
