"""Read views the public API needs beyond ``connector.queries``: one debtor or invoice by id (with our level,
hold, promise, today's next step and why), lists filtered the way API clients ask, and one keyset page at a time
of holds, promises, call logs and arrangements (``repos.apipages``: filters and paging in SQL), plus the row-id
lookups that turn an API path into what ``connector.debtors``'s services take.

Next to ``connector.queries`` (whose views these reuse, so the API, the pages and the CLI agree); scoped to the
organisation of the API key. An id this organisation does not have is ``NotFound`` (the API's 404).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from connector import queries
from connector.errors import NotFound, PermanentError
from connector.model import InvoiceStatus, Money
from connector.model.outbox import CLOSED_STATUSES, OutboxStatus
from connector.reports.build import build as build_report
from connector.reports.build import load as load_report_inputs
from connector.reports.dso import dso_for_period
from connector.runtime import Runtime
from connector.storage import repos


def _money(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)


def administrations(
    rt: Runtime, org_id: int, *, after_id: int = 0, limit: int = 50, administration_id: int | None = None
) -> list[dict[str, Any]]:
    """One keyset page of administrations with their counts and open amount (the same figures as the overview)."""
    with rt.sessions() as s:
        page = repos.administrations_page(
            s, org_id, after_id=after_id, limit=limit, administration_id=administration_id
        )
    return [
        {
            "id": row.administration.id,
            "provider": row.administration.provider,
            "name": row.administration.name,
            "safe_mode": row.administration.safe_mode,
            "provider_reminders_active": row.administration.provider_reminders_active,
            "invoices": row.invoices,
            "open_invoices": row.open_invoices,
            "open_amount": _money(row.open_minor, row.administration.currency),
            "currency": row.administration.currency,
            "connection_status": row.connection_status,
        }
        for row in page
    ]


def _invoice(row: Any, administration: str, debtor_name: str | None, today: date) -> dict[str, Any]:
    is_open = row.status == InvoiceStatus.OPEN.value and row.open_minor != 0
    return {
        "id": row.id,
        "administration_id": row.administration_id,
        "administration": administration,
        "number": row.number or row.provider_ref,
        "reference": row.provider_ref,
        "debtor": debtor_name or row.debtor_ref,
        "debtor_ref": row.debtor_ref,
        "invoice_date": row.invoice_date,
        "due_date": row.due_date,
        "days_overdue": (today - row.due_date).days if is_open else None,
        "status": row.status,
        "currency": row.currency,
        "total": _money(row.total_minor, row.currency),
        "open_amount": _money(row.open_minor, row.currency),
    }


def _debtor(debtor: Any, administration: str, currency: str, owed: Any, today: date) -> dict[str, Any]:
    return {
        "id": debtor.id,
        "administration_id": debtor.administration_id,
        "administration": administration,
        "name": debtor.name,
        "reference": debtor.provider_ref,
        "customer_number": debtor.customer_number,
        "segment": debtor.segment_override or debtor.segment,
        "currency": currency,
        "open_invoices": owed.open_invoices if owed else 0,
        "open_amount": _money(owed.open_minor if owed else 0, currency),
        "overdue_invoices": owed.overdue_invoices if owed else 0,
        "overdue_amount": _money(owed.overdue_minor if owed else 0, currency),
        "oldest_due_date": owed.oldest_due if owed else None,
        "risk_class": debtor.risk_class,
        "flags": queries.debtor_flags(debtor, today),
    }


def debtors(
    rt: Runtime,
    org_id: int,
    *,
    after_id: int = 0,
    limit: int = 50,
    administration_id: int | None = None,
    text: str | None = None,
) -> list[dict[str, Any]]:
    """One keyset page of debtors with what they owe: two queries however many debtors there are."""
    today = rt.today(org_id)
    with rt.sessions() as s:
        page = repos.debtors_page(
            s, org_id, after_id=after_id, limit=limit, administration_id=administration_id, text=text
        )
        owed = repos.open_summaries(s, org_id, [(d.administration_id, d.provider_ref) for d, _, _ in page], today)
        return [_debtor(d, adm, cur, owed.get((d.administration_id, d.provider_ref)), today) for d, adm, cur in page]


def debtor(rt: Runtime, org_id: int, debtor_id: int) -> dict[str, Any]:
    today = rt.today(org_id)
    with rt.sessions() as s:
        found = repos.debtor_by_id(s, org_id, debtor_id)
        if found is None:
            raise NotFound(f"No debtor {debtor_id} here.")
        adm = repos.get_administration(s, org_id, found.administration_id)
        owed = repos.open_summaries(s, org_id, [(adm.id, found.provider_ref)], today)
        return _debtor(found, adm.name, adm.currency, owed.get((adm.id, found.provider_ref)), today)


def invoices(
    rt: Runtime,
    org_id: int,
    *,
    after_id: int = 0,
    limit: int = 50,
    administration_id: int | None = None,
    debtor: str | None = None,
    overdue: bool = False,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """One keyset page of invoices, every filter in SQL: one query however many invoices there are."""
    today = rt.today(org_id)
    with rt.sessions() as s:
        page = repos.invoices_page(
            s,
            org_id,
            after_id=after_id,
            limit=limit,
            administration_id=administration_id,
            debtor=debtor,
            overdue_on=today if overdue else None,
            status=status,
        )
    return [_invoice(row, adm, name, today) for row, adm, name in page]


def worklist(
    rt: Runtime, org_id: int, *, after_id: int = 0, limit: int = 50, status: str | None = None
) -> list[dict[str, Any]]:
    """One keyset page of the worklist: open items and what was done in the last week (``RECENT_DAYS``)."""
    since = rt.today(org_id) - timedelta(days=queries.RECENT_DAYS)
    opened = [s.value for s in OutboxStatus if s not in CLOSED_STATUSES]
    with rt.sessions() as s:
        page = repos.worklist_items_page(
            s, org_id, after_id=after_id, limit=limit, open_statuses=opened, closed_since=since, status=status
        )
    return [
        {
            "id": item.id,
            "administration": adm,
            "debtor": name or item.debtor_ref,
            "level": item.level,
            "level_name": item.level_name,
            "channel": item.channel,
            "action": item.action,
            "invoices": len(item.invoice_refs),
            "status": item.status,
            "run_date": item.run_date,
            "open_amount": None if item.payload.open_amount is None else str(item.payload.open_amount),
            "currency": item.payload.currency,
            "last_error": item.last_error,
        }
        for item, adm, name in page
    ]


def invoice_detail(rt: Runtime, org_id: int, invoice_id: int) -> dict[str, Any]:
    """One invoice with our dunning state and ``why``: today's decision first, then the recorded ones."""
    today = rt.today(org_id)
    with rt.sessions() as s:
        found = repos.invoice_by_id(s, org_id, invoice_id)
        if found is None or found.deleted:
            raise NotFound(f"No invoice {invoice_id} here.")
        adm = repos.get_administration(s, org_id, found.administration_id)
        debtor_row = repos.get_debtors(s, org_id, adm.id, [found.debtor_ref]).get(found.debtor_ref)
        row = _invoice(found, adm.name, debtor_row.name if debtor_row else None, today)
        state = repos.reminder_states(s, org_id, row["administration_id"], [row["reference"]]).get(row["reference"])
    why = [
        {"at": str(e["at"]), "kind": str(e["kind"]), "message": str(e["message"])}
        for e in queries.why(rt, org_id, row["reference"])
        if e["administration"] == row["administration"]
    ]
    return {
        **row,
        "level": state.level if state else None,
        "level_name": state.level_name if state else None,
        "hold_reason": state.hold_reason if state else None,
        "hold_until": state.hold_until if state else None,
        "promise_date": state.promise_date if state else None,
        "next_step": next((e["message"] for e in why if e["kind"] == "now"), None),
        "why": why,
    }


def invoice_target(rt: Runtime, org_id: int, invoice_id: int) -> tuple[int, str]:
    """(administration id, provider reference) of an invoice by its row id: what ``connector.debtors`` takes."""
    with rt.sessions() as s:
        row = repos.invoice_by_id(s, org_id, invoice_id)
        if row is None or row.deleted:
            raise NotFound(f"No invoice {invoice_id} here.")
        return row.administration_id, row.provider_ref


def debtor_target(rt: Runtime, org_id: int, debtor_id: int) -> tuple[int, str]:
    """(administration id, provider reference) of a debtor by its row id."""
    with rt.sessions() as s:
        row = repos.debtor_by_id(s, org_id, debtor_id)
        if row is None:
            raise NotFound(f"No debtor {debtor_id} here.")
        return row.administration_id, row.provider_ref


def marks(
    rt: Runtime, org_id: int, *, kind: str, level: str, after_id: int, limit: int, administration_id: int | None
) -> list[repos.HoldRow]:
    """One page of holds (``kind="hold"``) or promises on invoices (``level="invoice"``) or whole debtors."""
    page = repos.invoice_marks if level == "invoice" else repos.debtor_marks
    with rt.sessions() as s:
        return page(s, org_id, kind=kind, after_id=after_id, limit=limit, administration_id=administration_id)


def calls(
    rt: Runtime, org_id: int, *, after_id: int, limit: int, administration_id: int | None, debtor_id: int | None
) -> list[repos.CallRow]:
    """One page of logged calls, optionally of one debtor (another organisation's debtor id: an empty page)."""
    with rt.sessions() as s:
        debtor = None
        if debtor_id is not None:
            row = repos.debtor_by_id(s, org_id, debtor_id)
            if row is None:
                return []
            debtor = (row.administration_id, row.provider_ref)
        return repos.calls_page(
            s, org_id, after_id=after_id, limit=limit, administration_id=administration_id, debtor=debtor
        )


def arrangements(
    rt: Runtime, org_id: int, *, after_id: int, limit: int, administration_id: int | None, status: str | None
) -> list[dict[str, Any]]:
    """One page of payment arrangements with their schedules (two queries however many there are)."""
    with rt.sessions() as s:
        plans = repos.arrangements_page(
            s, org_id, after_id=after_id, limit=limit, administration_id=administration_id, status=status
        )
        schedules = repos.installments(s, org_id, [plan.id for plan, _ in plans])
        return [_arrangement(plan, debtor_id, schedules.get(plan.id, [])) for plan, debtor_id in plans]


def arrangement(rt: Runtime, org_id: int, arrangement_id: int) -> dict[str, Any]:
    with rt.sessions() as s:
        plan = repos.get_arrangement(s, org_id, arrangement_id)
        debtor = repos.get_debtors(s, org_id, plan.administration_id, [plan.debtor_ref]).get(plan.debtor_ref)
        schedule = repos.installments(s, org_id, [plan.id]).get(plan.id, [])
        return _arrangement(plan, debtor.id if debtor else None, schedule)


def _arrangement(plan: Any, debtor_id: int | None, schedule: list[Any]) -> dict[str, Any]:
    return {
        "id": plan.id,
        "administration_id": plan.administration_id,
        "debtor_id": debtor_id,
        "debtor_ref": plan.debtor_ref,
        "invoices": list(plan.invoice_refs),
        "status": plan.status,
        "agreed_on": plan.agreed_on,
        "closed_on": plan.closed_on,
        "note": plan.note,
        "installments": [
            {
                "number": row.number,
                "due_date": row.due_date,
                "amount": str(Money.from_minor(row.amount_minor, row.currency).amount),
                "currency": row.currency,
                "paid": row.paid,
                "paid_on": row.paid_on,
            }
            for row in schedule
        ],
    }


def arrangement_invoices(
    rt: Runtime, org_id: int, administration_id: int, debtor_ref: str, invoice_ids: list[int] | None
) -> list[str]:
    """The provider references an API arrangement covers: the given invoices of this debtor, or all its open ones."""
    with rt.sessions() as s:
        if invoice_ids is None:
            rows = repos.get_invoices(s, org_id, administration_id, open_only=True)
            return [row.provider_ref for row in rows if row.debtor_ref == debtor_ref]
        refs = []
        for invoice_id in dict.fromkeys(invoice_ids):
            row = repos.invoice_by_id(s, org_id, invoice_id)
            if row is None or row.deleted:
                raise NotFound(f"No invoice {invoice_id} here.")
            if row.administration_id != administration_id or row.debtor_ref != debtor_ref:
                raise PermanentError(f"Invoice {invoice_id} belongs to another debtor.")
            refs.append(row.provider_ref)
        return refs


def report(rt: Runtime, org_id: int, kind: str) -> dict[str, Any]:
    """The aging or forecast report as ``connector.reports`` builds it for the pages and the CLI, or the DSO once
    per currency the organisation has receivables in (amounts as decimal strings)."""
    today = rt.today(org_id)
    if kind != "dso":
        return dict(build_report(rt, org_id, kind, today))
    loaded = load_report_inputs(rt, org_id)
    currencies = sorted({item.invoice.currency for item in loaded.items} | {a.currency for a in loaded.administrations})
    rows = [dso_for_period(loaded.items, loaded.payments, today, currency=c).to_dict() for c in currencies]
    return {"report": "dso", "today": today, "rows": rows}
