"""The report pages' figures: aging and forecast per currency, DSO per administration with a monthly trend, one
definition of the open receivables for DSO and the aging, and the XLSX download holding exact amounts."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector import clock
from connector.model import Invoice, InvoiceStatus, Payment
from connector.reports import ReceivableItem, aging, forecast
from connector.reports.export import Sheet, to_xlsx
from connector.reports.views import (
    Administration,
    aging_charts,
    dso_series,
    forecast_charts,
    month_ends,
    week_label,
)

D = Decimal


def inv(
    ref: str,
    due: date,
    open_amount: str,
    *,
    total: str | None = None,
    currency: str = "EUR",
    invoice_date: date | None = None,
    status: InvoiceStatus = InvoiceStatus.OPEN,
    debtor: str = "d1",
) -> Invoice:
    return Invoice(
        provider_ref=ref,
        number=ref,
        debtor_ref=debtor,
        invoice_date=invoice_date or due - timedelta(days=30),
        due_date=due,
        currency=currency,
        total=D(total or open_amount),
        open_amount=D(open_amount),
        status=status,
        provider_state=status.value,
    )


def _world(today: date) -> tuple[list[ReceivableItem], list[Administration]]:
    """Two EUR administrations and one that keeps its books in USD."""
    items = [
        ReceivableItem("Bakker BV", inv("b1", today - timedelta(days=45), "1000.00")),
        ReceivableItem("Bakker BV", inv("b2", today + timedelta(days=5), "250.50")),
        ReceivableItem("Visser VOF", inv("v1", today - timedelta(days=100), "400.00")),
        ReceivableItem("Harbour Inc", inv("h1", today - timedelta(days=10), "700.00", currency="USD")),
        ReceivableItem("Harbour Inc", inv("h2", today - timedelta(days=70), "300.00", currency="USD")),
    ]
    admins = [
        Administration("Bakker BV", "EUR"),
        Administration("Visser VOF", "EUR"),
        Administration("Harbour Inc", "USD"),
    ]
    return items, admins


def test_aging_has_a_chart_per_currency_and_leaves_no_administration_out(today: date) -> None:
    items, _ = _world(today)
    _, charts = aging_charts(items, today)
    assert [c.currency for c in charts] == ["EUR", "USD"], "EUR first, then the other currencies"
    eur, usd = charts
    assert [(r.scope, r.administration) for r in eur.rows] == [
        ("administration", "Bakker BV"),
        ("administration", "Visser VOF"),
        ("total", ""),
    ], "a bar per EUR administration and one for all of them"
    assert eur.rows[-1].total == D("1650.50"), "the EUR total adds 1000.00 + 250.50 + 400.00"
    assert [(r.administration, r.total) for r in usd.rows] == [("Harbour Inc", D("1000.00")), ("", D("1000.00"))], (
        "the USD administration is shown in its own currency, not added to the EUR total"
    )


def test_month_ends_end_on_today_and_cross_the_year(today: date) -> None:
    ends = month_ends(today, 12)
    assert len(ends) == 12 and ends[-1] == today, "twelve points, the last one today"
    for earlier, later in zip(ends, ends[1:], strict=False):
        assert earlier < later, f"{earlier} should come before {later}"
        assert (earlier + timedelta(days=1)).day == 1 or later == today, f"{earlier} is a month's last day"


@pytest.mark.parametrize(
    ("administration", "currency", "expected_open"),
    [
        ("Bakker BV", "EUR", "1250.50"),
        ("Visser VOF", "EUR", "400.00"),
        ("Harbour Inc", "USD", "1000.00"),
    ],
)
def test_dso_today_uses_the_aging_open_receivables(
    today: date, administration: str, currency: str, expected_open: str
) -> None:
    items, admins = _world(today)
    series = {(s.administration, s.currency): s for s in dso_series(items, {}, admins, today)}
    assert set(series) == {("Bakker BV", "EUR"), ("Visser VOF", "EUR"), ("Harbour Inc", "USD")}, (
        "one series per administration, each in its own currency"
    )
    current = series[(administration, currency)].current
    (row,) = [r for r in aging(items, today).scoped("administration") if r.administration == administration]
    assert current.open_receivables == row.total == D(expected_open), "DSO and aging agree on what is open"
    assert current.currency == currency, "DSO says which currency"
    assert len(series[(administration, currency)].points) == 12, "a monthly trend of twelve points"


def test_dso_lists_an_administration_without_invoices(today: date) -> None:
    items, admins = _world(today)
    admins.append(Administration("Nieuw BV", "GBP"))
    series = {(s.administration, s.currency): s for s in dso_series(items, {}, admins, today)}
    assert ("Nieuw BV", "GBP") in series, "an administration without invoices still has its row"
    assert series[("Nieuw BV", "GBP")].current.value is None, "and no DSO: it had no credit sales"


def test_dso_trend_reconstructs_a_month_end_from_payments(today: date) -> None:
    """An invoice paid this month was still open at the end of last month."""
    last_month_end = month_ends(today, 2)[0]
    invoice = inv(
        "p1",
        last_month_end - timedelta(days=5),
        "0",
        total="900.00",
        invoice_date=last_month_end - timedelta(days=20),
        status=InvoiceStatus.PAID,
    )
    payment = Payment(
        provider_ref="pay1",
        invoice_ref="p1",
        payment_date=last_month_end + timedelta(days=1),
        amount=D("900.00"),
        currency="EUR",
        kind="payment",
    )
    items = [ReceivableItem("A", invoice)]
    (series,) = dso_series(items, {"A": [payment]}, [Administration("A", "EUR")], today, months=2)
    before, now = series.points
    assert before.result.open_receivables == D("900.00"), "open at last month's end"
    assert now.result.open_receivables == D("0"), "paid today"


def test_forecast_has_a_chart_per_currency_stacked_by_administration(today: date) -> None:
    items, _ = _world(today)
    result = forecast(items, [], today, weeks=4)
    charts = forecast_charts(result)
    assert [c.currency for c in charts] == ["EUR", "USD"], "one chart per currency"
    eur = charts[0]
    assert eur.administrations == ("Bakker BV", "Visser VOF")
    assert [week_label(w) for w in eur.weeks][-1] == "beyond", "the last bar holds what is expected later"
    assert len(eur.weeks) == 5, "four weeks and 'beyond'"
    assert sum((eur.total(w.week) for w in eur.weeks), D(0)) == D("1650.50"), "every open EUR amount is expected"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B"]),
            st.sampled_from(["EUR", "USD"]),
            st.integers(min_value=-200, max_value=200),
            st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2),
        ),
        max_size=25,
    )
)
def test_dso_and_aging_always_agree_on_open_receivables(rows: list[tuple[str, str, int, Decimal]]) -> None:
    today = clock.today()  # hypothesis cannot take the fixture
    items = [
        ReceivableItem(adm, inv(f"i{n}", today - timedelta(days=days), str(amount), currency=cur))
        for n, (adm, cur, days, amount) in enumerate(rows)
    ]
    report = aging(items, today)
    for series in dso_series(items, {}, [], today, months=1):
        (row,) = [
            r
            for r in report.scoped("administration")
            if (r.administration, r.currency) == (series.administration, series.currency)
        ]
        assert series.current.open_receivables == row.total, f"{series.administration} {series.currency}"


def test_xlsx_holds_the_exact_amounts() -> None:
    from openpyxl import load_workbook

    data = to_xlsx(
        [
            Sheet(
                "Aging",
                ["administration", "currency", "total"],
                [{"administration": "Bakker BV", "currency": "EUR", "total": "1250.10"}],
                numeric=frozenset({"total"}),
            )
        ]
    )
    sheet = load_workbook(io.BytesIO(data))["Aging"]
    assert [c.value for c in sheet[1]] == ["administration", "currency", "total"], "a header row"
    assert sheet["A2"].value == "Bakker BV" and sheet["B2"].value == "EUR"
    assert D(str(sheet["C2"].value)) == D("1250.10"), "the amount is a number with its cents"
