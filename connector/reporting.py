"""``dunning report aging|dso|forecast``: loads an organisation's stored invoices and payments and hands them
to the pure computations in ``connector.reports``; every figure is reproducible from the database."""

from __future__ import annotations

from datetime import date
from typing import Any

from connector import reports
from connector.model import Invoice, Money, Payment
from connector.runtime import Runtime
from connector.storage import repos

KINDS = ("aging", "dso", "forecast")


def _load(rt: Runtime, org_id: int) -> tuple[list[reports.ReceivableItem], list[Payment], list[Invoice], list[str]]:
    items: list[reports.ReceivableItem] = []
    payments: list[Payment] = []
    invoices: list[Invoice] = []
    labels: list[str] = []
    with rt.sessions() as s:
        for adm in repos.list_administrations(s, org_id):
            debtors = repos.get_debtors(s, org_id, adm.id)
            for row in repos.get_invoices(s, org_id, adm.id):
                if row.deleted:
                    continue
                invoice = repos.invoice_row_to_model(row)
                invoices.append(invoice)
                debtor = debtors.get(row.debtor_ref)
                items.append(reports.ReceivableItem(adm.name, invoice, debtor.name if debtor else None))
                labels.append(adm.name)
            for p in repos.get_payments(s, org_id, adm.id):
                payments.append(
                    Payment(
                        provider_ref=p.provider_ref,
                        invoice_ref=p.invoice_ref,
                        payment_date=p.payment_date,
                        amount=Money.from_minor(p.amount_minor, p.currency).amount,
                        currency=p.currency,
                        kind=p.kind,
                    )
                )
    return items, payments, invoices, labels


def build(rt: Runtime, org_id: int, kind: str, today: date) -> Any:
    if kind not in KINDS:
        raise ValueError(f"unknown report {kind!r}: choose one of {', '.join(KINDS)}")
    items, payments, invoices, _ = _load(rt, org_id)
    if kind == "aging":
        return reports.aging(items, today).to_dict()
    if kind == "dso":
        return reports.dso_for_period(items, payments, today).to_dict()
    history = reports.paid_invoices("all", invoices, payments)
    return reports.forecast(items, history, today).to_dict()


def to_csv(kind: str, result: Any) -> str:
    rows = result.get("rows") or result.get("weeks") or [result]
    columns = sorted({key for row in rows for key in row if not isinstance(row.get(key), dict | list)})
    return reports.to_csv([{k: str(row.get(k, "")) for k in columns} for row in rows], columns)
