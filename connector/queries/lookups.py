"""Read-only look-ups of single invoices and debtors as a person asks for them: ``why`` an invoice did or did not
get a step, and the invoice and debtor lists with their filters.

Part of ``connector.queries``, the read side under the dashboard, the JSON API and the CLI. ``why`` combines what
the rules decide right now (through ``connector.decide``) with the audit trail storage recorded; nothing here
writes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from connector import clock
from connector.errors import NotFound
from connector.model import InvoiceStatus, Money
from connector.runtime import Runtime
from connector.storage import repos


def why(rt: Runtime, org_id: int, invoice: str, today: date | None = None) -> list[dict[str, Any]]:
    """Why an invoice did or did not get a step: what the rules decide for it right now (rule, inputs, the sync
    time it relied on), then every recorded decision and non-decision, newest first. ``invoice`` is the number a
    person sees or the provider's reference; an invoice that is not here is an error, not an empty answer."""
    from connector.decide import load_rules, snapshot_outcome

    with rt.sessions() as s:
        found = repos.find_invoices(s, org_id, invoice)
        if not found:
            raise NotFound(f"no invoice {invoice!r} here: give its number or reference as `dunning invoices` lists it")
        administrations = {a.id: a for a in repos.list_administrations(s, org_id)}
        recorded = [
            {
                "at": e.created_at.isoformat(),
                "kind": e.kind,
                "message": e.message,
                "data": e.data,
                "administration": administrations[row.administration_id].name,
                "invoice": row.number or row.provider_ref,
            }
            for row in found
            for e in repos.audit_trail(s, org_id, invoice_ref=row.provider_ref)
            if e.administration_id in (None, row.administration_id)
        ]
    recorded.sort(key=lambda entry: str(entry["at"]), reverse=True)
    live = []
    policies, rates = load_rules(rt)
    for row in found:
        adm = administrations[row.administration_id]
        day = today or clock.today(adm.timezone, clock=rt.clock)
        outcome = snapshot_outcome(rt, adm, row.provider_ref, day, policies, rates)
        if outcome is not None:
            live.append(
                {
                    "at": day.isoformat(),
                    "kind": "now",
                    "message": outcome[0],
                    "data": outcome[1],
                    "administration": adm.name,
                    "invoice": row.number or row.provider_ref,
                }
            )
    return live + recorded


def invoices(
    rt: Runtime,
    org_id: int,
    today: date,
    *,
    administration_id: int | None = None,
    debtor: str | None = None,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    """Invoices as a person looks them up: number, debtor by name, amounts, due date and days overdue; open
    ones first (most overdue first), then the rest. ``debtor`` is a reference, customer number or name."""
    rows: list[dict[str, Any]] = []
    with rt.sessions() as s:
        for adm in _administrations(s, org_id, administration_id):
            debtors = repos.get_debtors(s, org_id, adm.id)
            wanted = _matching_debtors(debtors, debtor) if debtor else None
            for inv in repos.get_invoices(s, org_id, adm.id):
                if inv.deleted or (wanted is not None and inv.debtor_ref not in wanted):
                    continue
                is_open = inv.status == InvoiceStatus.OPEN.value and inv.open_minor != 0
                days_overdue = (today - inv.due_date).days if is_open else None
                if overdue and not (days_overdue is not None and days_overdue > 0):
                    continue
                found = debtors.get(inv.debtor_ref)
                rows.append(
                    {
                        "id": inv.id,
                        "administration_id": adm.id,
                        "administration": adm.name,
                        "number": inv.number or inv.provider_ref,
                        "reference": inv.provider_ref,
                        "debtor": found.name if found else inv.debtor_ref,
                        "debtor_ref": inv.debtor_ref,
                        "invoice_date": inv.invoice_date.isoformat() if inv.invoice_date else None,
                        "due_date": inv.due_date.isoformat(),
                        "days_overdue": days_overdue,
                        "status": inv.status,
                        "currency": inv.currency,
                        "total": str(Money.from_minor(inv.total_minor, inv.currency).amount),
                        "open_amount": str(Money.from_minor(inv.open_minor, inv.currency).amount),
                    }
                )
    rows.sort(key=lambda r: (r["days_overdue"] is None, -(r["days_overdue"] or 0), r["administration"], r["number"]))
    return rows


def debtors(rt: Runtime, org_id: int, today: date, *, administration_id: int | None = None) -> list[dict[str, Any]]:
    """Debtors with what they owe: open and overdue amounts and invoices, the oldest due date, and the flags a
    credit controller acts on (hold, credit stop, insolvency); the largest open amount first."""
    rows: list[dict[str, Any]] = []
    with rt.sessions() as s:
        for adm in _administrations(s, org_id, administration_id):
            open_by_debtor: dict[str, list[Any]] = {}
            for inv in repos.get_invoices(s, org_id, adm.id, open_only=True):
                if inv.open_minor:
                    open_by_debtor.setdefault(inv.debtor_ref, []).append(inv)
            for ref, debtor in repos.get_debtors(s, org_id, adm.id).items():
                if debtor.deleted:
                    continue
                open_items = open_by_debtor.get(ref, [])
                overdue_items = [i for i in open_items if i.due_date < today]
                open_minor = sum(i.open_minor for i in open_items)
                overdue_minor = sum(i.open_minor for i in overdue_items)
                flags = debtor_flags(debtor, today)
                rows.append(
                    {
                        "id": debtor.id,
                        "administration_id": adm.id,
                        "administration": adm.name,
                        "name": debtor.name,
                        "reference": ref,
                        "customer_number": debtor.customer_number,
                        "segment": debtor.segment_override or debtor.segment,
                        "currency": adm.currency,
                        "open_invoices": len(open_items),
                        "open_amount": str(Money.from_minor(open_minor, adm.currency).amount),
                        "overdue_invoices": len(overdue_items),
                        "overdue_amount": str(Money.from_minor(overdue_minor, adm.currency).amount),
                        "oldest_due_date": min((i.due_date for i in open_items), default=None),
                        "risk_class": debtor.risk_class,
                        "flags": flags,
                    }
                )
    rows.sort(key=lambda r: (-Decimal(r["open_amount"]), r["administration"], r["name"]))
    return rows


def debtor_flags(debtor: Any, today: date) -> list[str]:
    """The flags a credit controller acts on, as the debtors list and the API show them."""
    return [
        label
        for label, on in (
            ("on hold", bool(debtor.on_hold_reason)),
            ("promise", debtor.promise_date is not None and debtor.promise_date >= today),
            ("credit stop", debtor.credit_stop or debtor.blocked),
            ("insolvent", debtor.insolvent),
            (debtor.collectible, debtor.collectible != "collectible"),
        )
        if on
    ]


def _administrations(s: Any, org_id: int, administration_id: int | None) -> list[Any]:
    if administration_id is None:
        return repos.list_administrations(s, org_id)
    return [repos.get_administration(s, org_id, administration_id)]


def _matching_debtors(debtors: dict[str, Any], wanted: str) -> set[str]:
    folded = wanted.casefold()
    return {ref for ref, d in debtors.items() if wanted in (ref, d.customer_number) or d.name.casefold() == folded}
