"""Days sales outstanding (DSO, debiteurentermijn, docs/credit-management.md#dso): how many days of credit sales are
still unpaid.

Standard method (the one ``dunning report dso`` shows)::

    DSO = open receivables / credit sales over the period × days in the period

with the open receivables measured at the last day of the period. :func:`dso_for_period` derives both inputs from
invoices and payments for a period of ``days`` calendar days ending on ``period_end`` (both ends inclusive).
The count-back method (:func:`dso_countback`) is offered as well and documented there. The value is rounded once,
to one decimal, half up; the unrounded quotient is kept in ``exact``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.model import InvoiceStatus, Payment
from connector.reports.inputs import ReceivableItem

DSO_FORMULA = "DSO = open receivables / credit sales over the period × days in the period"
COUNTBACK_FORMULA = (
    "DSO (count-back) = days of the most recent months whose credit sales are fully covered by the open "
    "receivables + days of the next month × (receivables left / that month's credit sales)"
)
_TENTH = Decimal("0.1")
_NOT_SALES = frozenset({InvoiceStatus.DRAFT, InvoiceStatus.VOIDED})


@dataclass(frozen=True)
class DsoResult:
    value: Decimal | None  # None when there were no credit sales in the period
    exact: Decimal | None
    open_receivables: Decimal
    credit_sales: Decimal
    days_in_period: int
    currency: str
    method: str
    formula: str
    period_start: date | None = None
    period_end: date | None = None

    @property
    def period(self) -> str:
        if self.period_start and self.period_end:
            return f"{self.period_start.isoformat()}..{self.period_end.isoformat()} ({self.days_in_period} days)"
        return f"{self.days_in_period} days"

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "dso",
            "method": self.method,
            "formula": self.formula,
            "period": self.period,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "days_in_period": self.days_in_period,
            "currency": self.currency,
            "open_receivables": str(self.open_receivables),
            "credit_sales": str(self.credit_sales),
            "dso": None if self.value is None else str(self.value),
            "dso_exact": None if self.exact is None else str(self.exact),
        }


def dso(
    open_receivables_total: Decimal,
    credit_sales_in_period: Decimal,
    days_in_period: int,
    *,
    period_start: date | None = None,
    period_end: date | None = None,
    currency: str = "EUR",
) -> DsoResult:
    """``DSO = open receivables / credit sales over the period × days in the period``.

    Example: 30,000 open, 90,000 credit sales in a 90-day quarter -> 30,000 / 90,000 × 90 = 30.0 days.
    """
    if days_in_period <= 0:
        raise ValueError("days_in_period must be positive")
    exact = None
    if credit_sales_in_period != 0:
        exact = open_receivables_total / credit_sales_in_period * days_in_period
    return DsoResult(
        value=None if exact is None else exact.quantize(_TENTH, rounding=ROUND_HALF_UP),
        exact=exact,
        open_receivables=open_receivables_total,
        credit_sales=credit_sales_in_period,
        days_in_period=days_in_period,
        currency=currency,
        method="standard",
        formula=DSO_FORMULA,
        period_start=period_start,
        period_end=period_end,
    )


def dso_for_period(
    items: Iterable[ReceivableItem],
    payments: Iterable[Payment],
    period_end: date,
    *,
    days: int = 90,
    currency: str = "EUR",
    administration: str | None = None,
) -> DsoResult:
    """Standard DSO over the ``days`` days ending on ``period_end`` (inclusive), from invoices and payments.

    * credit sales = sum of ``total`` of the invoices (not draft, not voided) dated inside the period;
    * open receivables = for every such invoice dated on or before ``period_end`` and not written off as
      uncollectible: ``total`` minus every payment
      to it dated on or before ``period_end`` (never below zero). An invoice without any payment record counts
      with its current ``open_amount`` (its payments are unknown, so today's state is the best evidence).

    Only invoices in ``currency`` (and of ``administration`` when given) count; undated invoices are skipped.
    """
    start = period_end - timedelta(days=days - 1)
    paid: dict[str, Decimal] = {}
    seen: set[str] = set()
    for p in payments:
        seen.add(p.invoice_ref)
        if p.payment_date <= period_end and p.currency == currency:
            paid[p.invoice_ref] = paid.get(p.invoice_ref, Decimal(0)) + p.amount
    sales = open_total = Decimal(0)
    for item in items:
        inv = item.invoice
        if administration is not None and item.administration != administration:
            continue
        if inv.currency != currency or inv.status in _NOT_SALES or inv.invoice_date is None:
            continue
        if inv.invoice_date > period_end:
            continue
        if inv.invoice_date >= start:
            sales += inv.total
        if inv.status is InvoiceStatus.UNCOLLECTIBLE:
            continue  # written off: a credit sale of the period, but no longer a receivable (as in the aging)
        if inv.provider_ref in seen:
            open_total += max(Decimal(0), inv.total - paid.get(inv.provider_ref, Decimal(0)))
        else:
            open_total += inv.open_amount
    return dso(open_total, sales, days, period_start=start, period_end=period_end, currency=currency)


def dso_countback(
    open_receivables_total: Decimal,
    monthly_sales: Sequence[tuple[int, Decimal]],
    *,
    currency: str = "EUR",
    period_end: date | None = None,
) -> DsoResult:
    """Count-back DSO: walk back month by month, newest first, ``monthly_sales = [(days_in_month, credit_sales)]``.

    While the receivables still left cover a month's credit sales in full, add all that month's days and subtract
    its sales; for the first month not fully covered add ``days × left / sales`` and stop. If the receivables exceed
    all the given months' sales, the result is the total number of days given (a lower bound).
    Example: 100,000 open; March 31 days 60,000, February 28 days 56,000 -> 31 + 28 × 40,000 / 56,000 = 51.0 days.
    """
    left = open_receivables_total
    days = Decimal(0)
    for month_days, sales in monthly_sales:
        if left <= 0:
            break
        if sales <= 0:
            days += month_days
            continue
        if left >= sales:
            days += month_days
            left -= sales
        else:
            days += Decimal(month_days) * left / sales
            left = Decimal(0)
    total_days = sum(d for d, _ in monthly_sales)
    return DsoResult(
        value=days.quantize(_TENTH, rounding=ROUND_HALF_UP) if monthly_sales else None,
        exact=days if monthly_sales else None,
        open_receivables=open_receivables_total,
        credit_sales=sum((s for _, s in monthly_sales), Decimal(0)),
        days_in_period=total_days,
        currency=currency,
        method="countback",
        formula=COUNTBACK_FORMULA,
        period_end=period_end,
    )
