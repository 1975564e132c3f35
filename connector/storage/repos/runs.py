"""Our dunning state per invoice (levels reached, holds, markers), the dunning runs, and the workers' leases.

The decide step reads and advances ``reminder_states`` and records a ``DunningRun`` per administration and day
(back-dated runs are refused from ``last_run_date``); debtor management sets holds and flags on the same states.
Leases keep two workers from running the same organisation's sync, run or drain at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.storage import tables as t
from connector.storage.repos.scope import now, scoped, where_scoped


def reminder_states(
    session: Session, org_id: int, administration_id: int, refs: Sequence[str] | None = None
) -> dict[str, t.ReminderState]:
    query = scoped(t.ReminderState, org_id, administration_id)
    if refs is not None:
        query = query.where(t.ReminderState.invoice_ref.in_(list(refs)))
    return {s.invoice_ref: s for s in session.scalars(query)}


def reminder_state(session: Session, org_id: int, administration_id: int, invoice_ref: str) -> t.ReminderState:
    """The reminder state of one invoice, created empty when absent."""
    state = reminder_states(session, org_id, administration_id, [invoice_ref]).get(invoice_ref)
    if state is None:
        state = t.ReminderState(
            org_id=org_id, administration_id=administration_id, invoice_ref=invoice_ref, updated_at=now(session)
        )
        session.add(state)
        session.flush()
    return state


def reach_level(
    session: Session,
    org_id: int,
    administration_id: int,
    invoice_ref: str,
    level: int,
    level_name: str,
    on: date,
    *,
    messaged: bool,
) -> None:
    """The invoice reached ``level`` on ``on`` (with a message to the debtor, or recorded without one)."""
    state = reminder_state(session, org_id, administration_id, invoice_ref)
    state.level, state.level_name, state.level_reached_on = level, level_name, on
    if messaged:
        state.last_message_on = on
    state.updated_at = now(session)


def mark_notice_of_default(
    session: Session, org_id: int, administration_id: int, invoice_refs: Sequence[str], on: date
) -> None:
    """Our notice of default for these invoices went out on ``on`` (the first one counts: it started the term)."""
    for ref in invoice_refs:
        state = reminder_state(session, org_id, administration_id, ref)
        if state.notice_of_default_on is None:
            state.notice_of_default_on = on
            state.updated_at = now(session)


PAUSED_BY_US = "paused_by_us"  # in provider_reminded_levels: the package's reminders were paused by us


def paused_by_us(state: t.ReminderState | None) -> bool:
    """The package's own reminders for this invoice were paused by us (double-chase guard), not by a person."""
    return state is not None and PAUSED_BY_US in (state.provider_reminded_levels or [])


def provider_reminders_known(state: t.ReminderState) -> int:
    """How many of the package's reminders for this invoice we know of: sent at our request, or found sent."""
    return sum(1 for entry in state.provider_reminded_levels or [] if isinstance(entry, dict))


def record_provider_reminder(
    session: Session, org_id: int, administration_id: int, invoice_ref: str, level: int, *, by: str
) -> None:
    """The package sent (or, ``by="provider"``, had already sent) the reminder of ``level`` for this invoice."""
    state = reminder_state(session, org_id, administration_id, invoice_ref)
    state.provider_reminded_levels = [*(state.provider_reminded_levels or []), {"level": level, "by": by}]


def mark_paused_by_us(session: Session, org_id: int, administration_id: int, invoice_refs: Sequence[str]) -> None:
    """We paused the package's own reminders for these invoices: no stop sign for our own ladder."""
    for ref in invoice_refs:
        state = reminder_state(session, org_id, administration_id, ref)
        if PAUSED_BY_US not in (state.provider_reminded_levels or []):
            state.provider_reminded_levels = [*(state.provider_reminded_levels or []), PAUSED_BY_US]


def mark_handed_over(session: Session, org_id: int, administration_id: int, invoice_refs: Sequence[str]) -> None:
    """Handed over to a collection agency: our own reminders stop for these invoices."""
    for ref in invoice_refs:
        state = reminder_state(session, org_id, administration_id, ref)
        state.handed_over, state.updated_at = True, now(session)


def last_run_date(session: Session, org_id: int, administration_id: int) -> date | None:
    return session.scalar(
        select(func.max(t.DunningRun.run_date)).where(
            *where_scoped(t.DunningRun, org_id, administration_id),
            t.DunningRun.dry_run.is_(False),
            t.DunningRun.finished_at.is_not(None),
        )
    )


def start_run(session: Session, org_id: int, administration_id: int, run_date: date, dry_run: bool) -> t.DunningRun:
    run = session.scalar(
        scoped(t.DunningRun, org_id, administration_id).where(
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
            started_at=now(session),
        )
        session.add(run)
        session.flush()
    return run


def _lease_key(org_id: int, name: str) -> str:
    """Leases are per organisation: two organisations' 'dunning' runs never exclude each other."""
    return f"org{org_id}:{name}"


def try_lease(session: Session, org_id: int, name: str, holder: str, until: datetime, now: datetime) -> bool:
    """Take or renew the organisation's named lease if free, expired or already ours (caller commits). One
    conditional UPDATE or one INSERT decides, so two workers asking at once never both get it, and the loser's
    unique-key clash is a plain "busy" (in a savepoint, so the caller's transaction carries on)."""
    key = _lease_key(org_id, name)
    taken = session.execute(
        update(t.Lease)
        .where(t.Lease.name == key, t.Lease.org_id == org_id, (t.Lease.holder == holder) | (t.Lease.until <= now))
        .values(holder=holder, until=until)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) == 1:
        return True
    if session.scalar(select(t.Lease.name).where(t.Lease.name == key)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(t.Lease(name=key, org_id=org_id, holder=holder, until=until))
    except IntegrityError:
        return False
    return True


def serialise_run(session: Session, org_id: int, administration_id: int) -> None:
    """Make concurrent dunning runs of one administration commit one after the other (until the caller's
    transaction ends): the second then finds the first one's items and levels, as a rerun would. PostgreSQL takes
    a transaction-scoped advisory lock (no row lock, so it cannot deadlock with a sync); SQLite needs nothing, its
    write transactions already run one at a time (``BEGIN IMMEDIATE``, ``connector.storage.db``)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(RUN_LOCKS, administration_id)))


RUN_LOCKS = 0x0D0E  # advisory-lock key space of the dunning runs (one key per administration)


def release_lease(session: Session, org_id: int, name: str, holder: str) -> None:
    lease = session.get(t.Lease, _lease_key(org_id, name))
    if lease is not None and lease.org_id == org_id and lease.holder == holder:
        session.delete(lease)
