"""What the report pages show: aging per currency, DSO per administration with its monthly trend, and the
weekly forecast per currency, each as plain rows a chart and a table (and a CSV or XLSX file) are drawn from.

Beside the pipeline, like the rest of ``connector.reports``: pure over the inputs ``connector.reports.build``
loads (no database, no clock). Amounts in different currencies are never added: every figure belongs to one
administration and one currency, and an administration that invoices in another currency has rows of its own in
that currency (docs/reports.md#currencies). DSO and the aging share one definition of the open receivables on
the day the report is made (``ReceivableItem.is_open``: status open and a non-zero open amount), so the current
DSO's receivables equal the aging's total for the same administration and currency.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connector.model import Payment
from connector.reports.aging import AgingReport, AgingRow, Bucket, aging
from connector.reports.dso import DsoResult, dso, dso_for_period
from connector.reports.forecast import BEYOND, Forecast, ForecastRow
from connector.reports.inputs import ReceivableItem

DSO_WINDOW_DAYS = 90  # each point of the trend: the standard DSO over the 90 days up to that month's end
TREND_MONTHS = 12


@dataclass(frozen=True)
class Administration:
    """One administration as the reports label it: its name and the currency it keeps its books in."""

    name: str
    currency: str


@dataclass(frozen=True)
class AgingChart:
    """The aging of one currency: a bar per administration invoicing in it, and one for all of them together."""

    currency: str
    rows: tuple[AgingRow, ...]  # scope "administration" rows, then the "total" row

    @property
    def buckets(self) -> tuple[Bucket, ...]:
        return tuple(Bucket)


def aging_charts(items: Iterable[ReceivableItem], today: date) -> tuple[AgingReport, list[AgingChart]]:
    """The aging report and one chart per currency (currencies sorted, EUR first)."""
    report = aging(items, today)
    currencies = sorted({row.currency for row in report.rows}, key=lambda c: (c != "EUR", c))
    charts = [
        AgingChart(
            currency=currency,
            rows=tuple(r for r in report.scoped("administration") if r.currency == currency)
            + tuple(r for r in report.scoped("total") if r.currency == currency),
        )
        for currency in currencies
    ]
    return report, charts


@dataclass(frozen=True)
class DsoPoint:
    month: str  # YYYY-MM
    result: DsoResult


@dataclass(frozen=True)
class DsoSeries:
    """DSO of one administration in one currency: a point per month, the last one measured on ``today``."""

    administration: str
    currency: str
    points: tuple[DsoPoint, ...]

    @property
    def current(self) -> DsoResult:
        return self.points[-1].result


def month_ends(today: date, months: int) -> list[date]:
    """The last day of each of the ``months - 1`` months before today's, oldest first, then ``today`` itself."""
    ends: list[date] = []
    year, month = today.year, today.month
    for _ in range(months - 1):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        ends.append(date(year, month, calendar.monthrange(year, month)[1]))
    return [*reversed(ends), today]


def dso_series(
    items: Sequence[ReceivableItem],
    payments: Mapping[str, Sequence[Payment]],
    administrations: Sequence[Administration],
    today: date,
    *,
    months: int = TREND_MONTHS,
    days: int = DSO_WINDOW_DAYS,
) -> list[DsoSeries]:
    """A series for every (administration, currency) that has invoices, and for every administration without any
    (in its own currency, with no value): none is left out. ``payments`` are per administration name."""
    groups = {(a.name, a.currency) for a in administrations}
    groups |= {(item.administration, item.invoice.currency) for item in items}
    with_invoices = {(item.administration, item.invoice.currency) for item in items}
    series: list[DsoSeries] = []
    for name, currency in sorted(groups):
        if (name, currency) not in with_invoices and any(g[0] == name for g in with_invoices):
            continue  # the administration's book currency has no invoices but another currency has: show that one
        own = [i for i in items if i.administration == name and i.invoice.currency == currency]
        paid = payments.get(name, ())
        points = [
            DsoPoint(end.strftime("%Y-%m"), dso_for_period(own, paid, end, days=days, currency=currency))
            for end in month_ends(today, months)[:-1]
        ]
        points.append(DsoPoint(today.strftime("%Y-%m"), _dso_today(own, paid, today, days, currency)))
        series.append(DsoSeries(name, currency, tuple(points)))
    return series


def _dso_today(
    items: Sequence[ReceivableItem], payments: Sequence[Payment], today: date, days: int, currency: str
) -> DsoResult:
    """Today's DSO: the credit sales of the window as ``dso_for_period`` counts them, over exactly the open
    receivables the aging shows today (one definition for both reports)."""
    window = dso_for_period(items, payments, today, days=days, currency=currency)
    open_today = sum((i.invoice.open_amount for i in items if i.is_open), Decimal(0))
    return dso(
        open_today,
        window.credit_sales,
        days,
        period_start=window.period_start,
        period_end=today,
        currency=currency,
    )


@dataclass(frozen=True)
class ForecastChart:
    """The forecast of one currency: a bar per week (and one for later), stacked by administration."""

    currency: str
    administrations: tuple[str, ...]
    weeks: tuple[ForecastRow, ...]  # the first administration's rows: the week labels and start dates
    amounts: Mapping[tuple[str, str], Decimal]  # (administration, week) -> expected

    def total(self, week: str) -> Decimal:
        return sum((self.amounts.get((a, week), Decimal(0)) for a in self.administrations), Decimal(0))


def forecast_charts(result: Forecast) -> list[ForecastChart]:
    currencies = sorted({row.currency for row in result.rows}, key=lambda c: (c != "EUR", c))
    charts: list[ForecastChart] = []
    for currency in currencies:
        rows = [r for r in result.rows if r.currency == currency]
        names = tuple(sorted({r.administration for r in rows}))
        first = tuple(r for r in rows if r.administration == names[0])
        charts.append(ForecastChart(currency, names, first, {(r.administration, r.week): r.expected for r in rows}))
    return charts


def week_label(row: ForecastRow) -> str:
    """``2026-W49`` for a week, ``beyond`` for the amounts expected after the last week."""
    if row.week == BEYOND or row.iso_year is None or row.iso_week is None:
        return BEYOND
    return f"{row.iso_year}-W{row.iso_week:02d}"
