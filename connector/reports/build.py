"""Build a report from storage: an organisation's stored invoices and payments into the pure computations.

The one part of ``connector.reports`` that reads the database (``dunning report aging|dso|forecast`` calls it);
the computations next to it take plain inputs, so every figure is reproducible from the rows loaded here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connector.model import Invoice, Payment
from connector.reports.aging import Bucket, aging
from connector.reports.dso import dso_for_period
from connector.reports.export import to_csv
from connector.reports.forecast import forecast
from connector.reports.inputs import PaidInvoice, ReceivableItem, paid_invoices
from connector.reports.views import Administration, dso_series
from connector.runtime import Runtime
from connector.storage import repos

KINDS = ("aging", "dso", "forecast")


@dataclass
class Loaded:
    """An organisation's stored receivables, as the pure report functions take them."""

    administrations: list[Administration] = field(default_factory=list)
    items: list[ReceivableItem] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    payments_by_administration: dict[str, list[Payment]] = field(default_factory=dict)
    history: list[PaidInvoice] = field(default_factory=list)  # paid invoices, per administration
    names: dict[tuple[str, str], str] = field(default_factory=dict)  # (administration, debtor_ref) -> name


def load(rt: Runtime, org_id: int, administration_id: int | None = None) -> Loaded:
    """Every administration's invoices, payments and debtor names (deleted invoices left out); only those of
    ``administration_id`` when given (the cockpit's drill-down; ``NotFound`` outside the organisation)."""
    loaded = Loaded()
    with rt.sessions() as s:
        if administration_id is None:
            administrations = repos.list_administrations(s, org_id)
        else:
            administrations = [repos.get_administration(s, org_id, administration_id)]
        for adm in administrations:
            loaded.administrations.append(Administration(adm.name, adm.currency))
            debtors = repos.get_debtors(s, org_id, adm.id)
            loaded.names.update({(adm.name, ref): d.name for ref, d in debtors.items()})
            invoices: list[Invoice] = []
            for row in repos.get_invoices(s, org_id, adm.id):
                if row.deleted:
                    continue
                invoice = repos.invoice_row_to_model(row)
                invoices.append(invoice)
                debtor = debtors.get(row.debtor_ref)
                loaded.items.append(ReceivableItem(adm.name, invoice, debtor.name if debtor else None))
            payments = [repos.payment_row_to_model(p) for p in repos.get_payments(s, org_id, adm.id)]
            loaded.payments.extend(payments)
            loaded.payments_by_administration.setdefault(adm.name, []).extend(payments)
            # labelled like the open items, so each debtor's own payment behaviour is found for its invoices
            loaded.history.extend(paid_invoices(adm.name, invoices, payments))
    return loaded


def build(rt: Runtime, org_id: int, kind: str, today: date) -> Any:
    """The ``kind`` report (one of ``KINDS``) of ``org_id`` as of ``today``, as a JSON-ready dict."""
    if kind not in KINDS:
        raise ValueError(f"unknown report {kind!r}: choose one of {', '.join(KINDS)}")
    loaded = load(rt, org_id)
    if kind == "aging":
        return aging(loaded.items, today).to_dict()
    if kind == "dso":
        return dso_by_currency(loaded, today)
    result = forecast(loaded.items, loaded.history, today).to_dict()
    for row in result["debtor_delay_days"]:  # debtors by name, for people
        row["debtor"] = loaded.names.get((row["administration"], row["debtor_ref"]), row["debtor_ref"])
    return result


def dso_by_currency(loaded: Loaded, today: date) -> dict[str, Any]:
    """DSO in every currency the organisation's administrations use (docs/reports.md#currencies): the top-level
    figures are those of the first currency (EUR when there is any), ``currencies`` has one result per currency and
    ``rows`` one per administration and currency, so an administration in another currency is never left out."""
    series = dso_series(loaded.items, loaded.payments_by_administration, loaded.administrations, today, months=1)
    currencies = sorted({s.currency for s in series}, key=lambda c: (c != "EUR", c)) or ["EUR"]
    per_currency = [dso_for_period(loaded.items, loaded.payments, today, currency=c).to_dict() for c in currencies]
    rows = [{"administration": s.administration, **s.current.to_dict()} for s in series]
    return {**per_currency[0], "currencies": per_currency, "rows": rows}


def as_csv(kind: str, result: Any) -> str:
    """A built report as CSV: its rows (or weeks), every scalar column."""
    rows = result.get("rows") or result.get("weeks") or [result]
    columns = sorted({key for row in rows for key in row if not isinstance(row.get(key), dict | list)})
    return to_csv([{k: str(row.get(k, "")) for k in columns} for row in rows], columns)


def headline(rt: Runtime, org_id: int, today: date) -> list[dict[str, Any]]:
    """The home page's figures per currency: open and overdue amounts (the aging's total row) and the 90-day DSO,
    from one load, with the same open-receivables definition as the reports."""
    loaded = load(rt, org_id)
    report = aging(loaded.items, today)
    figures = []
    for row in report.scoped("total"):
        overdue = row.total - row.amount(Bucket.NOT_DUE)
        result = dso_for_period(loaded.items, loaded.payments, today, currency=row.currency)
        figures.append(
            {
                "currency": row.currency,
                "open": str(row.total),
                "overdue": str(overdue),
                "any_overdue": overdue > 0,
                "open_invoices": row.invoices,
                "dso": None if result.value is None else str(result.value),
            }
        )
    return figures
