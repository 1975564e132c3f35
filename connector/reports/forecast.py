"""Cash-flow forecast (liquiditeitsprognose, docs/credit-management.md#cash-flow-forecast): expected receipts per ISO
week from payment behaviour.

Method, step by step (every step is integer days or exact ``Decimal`` sums, so a figure can be redone by hand):

1. Delay per debtor: the arithmetic mean of ``paid_on - due_date`` (days; negative = paid early) over that
   debtor's paid invoices in the history, rounded to whole days half up. Debtors are keyed by
   (administration, debtor_ref) because references are only unique inside one administration.
2. Portfolio delay: the same mean over *all* paid invoices in the history (not a mean of debtor means), for
   debtors without history; with no history at all, 0 days (payment on the due date).
3. Expected date of each open invoice = due date + delay. An invoice whose expected date lies before ``today``
   (overdue beyond what the debtor's behaviour predicts) is expected in the first week.
4. Week 1 is the ISO week that contains ``today`` (Monday to Sunday); the forecast covers ``weeks`` weeks. The
   full open amount is expected on the expected date; amounts expected after the last week go to ``beyond``.
5. Sums per (administration, currency, ISO week); currencies are never added together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.reports.inputs import PaidInvoice, ReceivableItem

METHOD = (
    "Each open invoice is expected on its due date plus the average number of days its debtor paid late before "
    "(a debtor without paid invoices: the portfolio average over all paid invoices; an amount already overdue: "
    "this week), "
    "and the expected amounts are added up per week for {weeks} weeks."
)
FORECAST_COLUMNS = ("administration", "currency", "week", "iso_year", "iso_week", "week_start", "invoices", "expected")
BEYOND = "beyond"


def _round_days(total: int, count: int) -> int:
    return int((Decimal(total) / Decimal(count)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def average_delays(history: Iterable[PaidInvoice]) -> tuple[dict[tuple[str, str], int], int | None]:
    """Mean days late per (administration, debtor_ref), and over the whole history (None when it is empty)."""
    per: dict[tuple[str, str], list[int]] = defaultdict(list)
    for paid in history:
        per[(paid.administration, paid.debtor_ref)].append(paid.days_late)
    everything = [d for ds in per.values() for d in ds]
    portfolio = _round_days(sum(everything), len(everything)) if everything else None
    return {key: _round_days(sum(ds), len(ds)) for key, ds in per.items()}, portfolio


@dataclass(frozen=True)
class ExpectedReceipt:
    administration: str
    debtor_ref: str
    invoice_ref: str
    currency: str
    amount: Decimal
    due_date: date
    delay_days: int
    basis: str  # debtor | portfolio | none
    expected_on: date  # after moving overdue-beyond-expectation to today


@dataclass(frozen=True)
class ForecastRow:
    administration: str
    currency: str
    week: str  # "1".."N", or "beyond"
    iso_year: int | None
    iso_week: int | None
    week_start: date | None
    invoices: int
    expected: Decimal

    def to_record(self) -> dict[str, str]:
        return {
            "administration": self.administration,
            "currency": self.currency,
            "week": self.week,
            "iso_year": "" if self.iso_year is None else str(self.iso_year),
            "iso_week": "" if self.iso_week is None else str(self.iso_week),
            "week_start": "" if self.week_start is None else self.week_start.isoformat(),
            "invoices": str(self.invoices),
            "expected": str(self.expected),
        }

    @classmethod
    def from_record(cls, r: Mapping[str, str]) -> ForecastRow:
        return cls(
            administration=r["administration"],
            currency=r["currency"],
            week=r["week"],
            iso_year=int(r["iso_year"]) if r["iso_year"] else None,
            iso_week=int(r["iso_week"]) if r["iso_week"] else None,
            week_start=date.fromisoformat(r["week_start"]) if r["week_start"] else None,
            invoices=int(r["invoices"]),
            expected=Decimal(r["expected"]),
        )


@dataclass(frozen=True)
class Forecast:
    today: date
    weeks: int
    rows: tuple[ForecastRow, ...]
    receipts: tuple[ExpectedReceipt, ...]
    debtor_delays: Mapping[tuple[str, str], int]
    portfolio_delay: int | None

    def records(self) -> list[dict[str, str]]:
        return [r.to_record() for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "forecast",
            "today": self.today.isoformat(),
            "weeks": self.weeks,
            "method": METHOD.format(weeks=self.weeks),
            "portfolio_delay_days": self.portfolio_delay,
            "debtor_delay_days": [
                {"administration": a, "debtor_ref": d, "days": days}
                for (a, d), days in sorted(self.debtor_delays.items())
            ],
            "rows": self.records(),
        }


def forecast(
    open_items: Iterable[ReceivableItem], payment_history: Iterable[PaidInvoice], today: date, weeks: int = 13
) -> Forecast:
    """Expected receipts per ISO week; see the module docstring for the method."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    delays, portfolio = average_delays(payment_history)
    first_monday = today - timedelta(days=today.weekday())
    receipts: list[ExpectedReceipt] = []
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    groups: set[tuple[str, str]] = set()
    for item in open_items:
        if not item.is_open:
            continue
        inv = item.invoice
        key = (item.administration, inv.debtor_ref)
        if key in delays:
            delay, basis = delays[key], "debtor"
        elif portfolio is not None:
            delay, basis = portfolio, "portfolio"
        else:
            delay, basis = 0, "none"
        expected_on = max(inv.due_date + timedelta(days=delay), today)
        receipts.append(
            ExpectedReceipt(
                item.administration,
                inv.debtor_ref,
                inv.provider_ref,
                inv.currency,
                inv.open_amount,
                inv.due_date,
                delay,
                basis,
                expected_on,
            )
        )
        index = (expected_on - first_monday).days // 7
        week = str(index + 1) if index < weeks else BEYOND
        groups.add((item.administration, inv.currency))
        sums[(item.administration, inv.currency, week)] += inv.open_amount
        counts[(item.administration, inv.currency, week)] += 1
    rows: list[ForecastRow] = []
    for admin, currency in sorted(groups):
        for i in range(weeks):
            monday = first_monday + timedelta(weeks=i)
            iso = monday.isocalendar()
            k = (admin, currency, str(i + 1))
            rows.append(
                ForecastRow(admin, currency, str(i + 1), iso.year, iso.week, monday, counts[k], sums.get(k, Decimal(0)))
            )
        k = (admin, currency, BEYOND)
        rows.append(ForecastRow(admin, currency, BEYOND, None, None, None, counts[k], sums.get(k, Decimal(0))))
    return Forecast(today, weeks, tuple(rows), tuple(receipts), delays, portfolio)
