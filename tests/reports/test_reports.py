"""Aging, DSO and forecast on hand-computed examples; the arithmetic is written next to each expected figure."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.model import Invoice, InvoiceStatus, Payment
from connector.reports import (
    DSO_FORMULA,
    AgingRow,
    Bucket,
    PaidInvoice,
    ReceivableItem,
    aging,
    aging_csv,
    aging_from_csv,
    average_delays,
    bucket_for,
    dso,
    dso_countback,
    dso_csv,
    dso_for_period,
    forecast,
    forecast_csv,
    forecast_from_csv,
    paid_invoices,
    read_csv,
    to_json,
)

D = Decimal
TODAY = date(2026, 4, 30)  # a Thursday in ISO week 18


def inv(
    ref: str,
    debtor: str,
    due: date,
    open_amount: str,
    *,
    total: str | None = None,
    status: InvoiceStatus = InvoiceStatus.OPEN,
    currency: str = "EUR",
    invoice_date: date | None = None,
) -> Invoice:
    return Invoice(
        provider_ref=ref,
        number=ref,
        debtor_ref=debtor,
        invoice_date=invoice_date,
        due_date=due,
        currency=currency,
        total=D(total or open_amount),
        open_amount=D(open_amount),
        status=status,
        provider_state=status.value,
    )


def pay(ref: str, invoice_ref: str, on: date, amount: str, kind: str = "payment", currency: str = "EUR") -> Payment:
    return Payment(
        provider_ref=ref, invoice_ref=invoice_ref, payment_date=on, amount=D(amount), currency=currency, kind=kind
    )


# --- aging ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-10, Bucket.NOT_DUE),
        (0, Bucket.NOT_DUE),
        (1, Bucket.DAYS_1_30),
        (30, Bucket.DAYS_1_30),
        (31, Bucket.DAYS_31_60),
        (60, Bucket.DAYS_31_60),
        (61, Bucket.DAYS_61_90),
        (90, Bucket.DAYS_61_90),
        (91, Bucket.OVER_90),
        (4000, Bucket.OVER_90),
    ],
)
def test_bucket_edges(days: int, bucket: Bucket) -> None:
    assert bucket_for(days) is bucket


def _aging_items() -> list[ReceivableItem]:
    a = [
        inv("A1", "d1", date(2026, 5, 10), "100.00"),  # -10 days: not due
        inv("A2", "d1", date(2026, 4, 30), "50.00"),  # 0 days: not due (due today)
        inv("A3", "d1", date(2026, 4, 29), "200.00"),  # 1 day: 1-30
        inv("A4", "d2", date(2026, 3, 31), "300.00"),  # 30 days: 1-30
        inv("A5", "d2", date(2026, 3, 30), "400.00"),  # 31 days: 31-60
        inv("A6", "d2", date(2026, 1, 30), "500.00"),  # 1 (Jan 31) + 28 + 31 + 30 = 90 days: 61-90
        inv("A7", "d3", date(2026, 1, 29), "600.00"),  # 91 days: over 90
        inv("A8", "d3", date(2026, 1, 1), "0", total="70.00", status=InvoiceStatus.PAID),  # paid: left out
        inv("A9", "d3", date(2026, 1, 1), "80.00", status=InvoiceStatus.DRAFT),  # draft: left out
        inv("A10", "d3", date(2026, 3, 1), "250.50", total="1000.00"),  # part paid; 30 + 30 = 60 days: 31-60
    ]
    b = [
        inv("B1", "d1", date(2026, 4, 1), "1234.56"),  # 29 days: 1-30 (another administration's "d1")
        inv("B2", "d1", date(2026, 2, 15), "99.99", currency="USD"),  # 13 + 31 + 30 = 74 days: 61-90
    ]
    return [ReceivableItem("A", i, debtor_name=f"Debtor {i.debtor_ref}") for i in a] + [
        ReceivableItem("B", i) for i in b
    ]


def _buckets(row: AgingRow) -> list[str]:
    return [str(row.amount(b)) for b in Bucket]


def test_aging_hand_computed() -> None:
    report = aging(_aging_items(), TODAY)
    rows = {(r.scope, r.administration, r.debtor_ref, r.currency): r for r in report.rows}
    #                                             not due   1-30       31-60     61-90     >90
    assert _buckets(rows["debtor", "A", "d1", "EUR"]) == ["150.00", "200.00", "0", "0", "0"]  # 100 + 50
    assert _buckets(rows["debtor", "A", "d2", "EUR"]) == ["0", "300.00", "400.00", "500.00", "0"]
    assert _buckets(rows["debtor", "A", "d3", "EUR"]) == ["0", "0", "250.50", "0", "600.00"]
    assert (
        rows["debtor", "A", "d3", "EUR"].invoices == 2 and rows["debtor", "A", "d3", "EUR"].debtor_name == "Debtor d3"
    )
    # administration A: 1-30 = 200 + 300; 31-60 = 400 + 250.50; total = 150 + 500 + 650.50 + 500 + 600 = 2,400.50
    a = rows["administration", "A", "", "EUR"]
    assert _buckets(a) == ["150.00", "500.00", "650.50", "500.00", "600.00"]
    assert a.total == D("2400.50") and a.invoices == 8
    assert _buckets(rows["debtor", "B", "d1", "USD"]) == ["0", "0", "0", "99.99", "0"]
    # all administrations, EUR: 1-30 = 500 + 1,234.56 = 1,734.56; total = 2,400.50 + 1,234.56 = 3,635.06
    total = rows["total", "", "", "EUR"]
    assert _buckets(total) == ["150.00", "1734.56", "650.50", "500.00", "600.00"]
    assert total.total == D("3635.06") and total.invoices == 9
    assert rows["total", "", "", "USD"].total == D("99.99")  # never added to euros
    assert [r.scope for r in report.rows][:2] == ["total", "total"]
    assert len(report.scoped("debtor")) == 5 and len(report.scoped("administration")) == 3


def test_aging_csv_and_json_round_trip() -> None:
    report = aging(_aging_items(), TODAY)
    text = aging_csv(report)
    assert text.splitlines()[0].startswith("scope,administration,debtor_ref,debtor_name,currency,invoices,not_due")
    assert aging_from_csv(text) == list(report.rows)
    data = json.loads(to_json(report))
    assert data["today"] == "2026-04-30" and data["rows"] == read_csv(text)


def test_aging_csv_with_a_wrong_total_is_rejected() -> None:
    text = aging_csv(aging(_aging_items(), TODAY)).replace(",3635.06", ",3635.07")
    with pytest.raises(ValueError, match="sum of the buckets"):
        aging_from_csv(text)


amounts = st.decimals(min_value=D("-1000"), max_value=D("100000"), places=2, allow_nan=False, allow_infinity=False)


@given(st.lists(st.tuples(st.integers(-100, 400), amounts, st.sampled_from(["A", "B"])), max_size=30))
def test_aging_totals_equal_the_open_amounts(entries: list[tuple[int, Decimal, str]]) -> None:
    from datetime import timedelta

    items = [
        ReceivableItem(admin, inv(f"I{n}", f"d{n % 3}", TODAY - timedelta(days=days), str(amount)))
        for n, (days, amount, admin) in enumerate(entries)
    ]
    report = aging(items, TODAY)
    expected = sum((i.invoice.open_amount for i in items if i.is_open), D(0))
    assert sum((r.total for r in report.scoped("total")), D(0)) == expected
    assert sum((r.total for r in report.scoped("debtor")), D(0)) == expected


# --- DSO -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("open_total", "sales", "days", "expected"),
    [
        ("30000", "90000", 90, "30.0"),  # 30,000 / 90,000 x 90 = 30
        ("12345.67", "45678.90", 91, "24.6"),  # 0.27027... x 91 = 24.5946 -> 24.6
        ("0", "5000", 30, "0.0"),
        ("10000", "5000", 30, "60.0"),  # open twice the month's sales -> 2 x 30
        ("1", "3", 365, "121.7"),  # 365 / 3 = 121.666... -> 121.7 (half up)
    ],
)
def test_dso_formula(open_total: str, sales: str, days: int, expected: str) -> None:
    result = dso(D(open_total), D(sales), days)
    assert str(result.value) == expected
    assert result.formula == DSO_FORMULA and result.method == "standard"


def test_dso_without_sales_has_no_value() -> None:
    result = dso(D("100"), D("0"), 90)
    assert result.value is None and result.to_dict()["dso"] is None


def test_dso_for_period_from_invoices_and_payments() -> None:
    items = [
        ReceivableItem("A", x)
        for x in [
            # dated before the period: not a sale in it, still open at the end (no payment record -> open_amount)
            inv("i1", "d1", date(2026, 1, 14), "1000.00", invoice_date=date(2025, 12, 15)),
            # sale 2,000, paid 1 Feb: open at the end 0
            inv(
                "i2",
                "d1",
                date(2026, 2, 9),
                "0",
                total="2000.00",
                status=InvoiceStatus.PAID,
                invoice_date=date(2026, 1, 10),
            ),
            # sale 3,000, paid 5 Apr (after the period): open at the end 3,000
            inv(
                "i3",
                "d2",
                date(2026, 3, 12),
                "0",
                total="3000.00",
                status=InvoiceStatus.PAID,
                invoice_date=date(2026, 2, 10),
            ),
            # sale 4,000, 1,500 paid 25 Mar: open at the end 2,500
            inv("i4", "d2", date(2026, 4, 19), "2500.00", total="4000.00", invoice_date=date(2026, 3, 20)),
            inv("i5", "d2", date(2026, 5, 2), "5000.00", invoice_date=date(2026, 4, 2)),  # after the period
            inv("i6", "d2", date(2026, 3, 31), "999.00", status=InvoiceStatus.DRAFT, invoice_date=date(2026, 3, 1)),
            inv("i7", "d2", date(2026, 3, 31), "777.00", currency="USD", invoice_date=date(2026, 3, 1)),
        ]
    ]
    payments = [
        pay("p2", "i2", date(2026, 2, 1), "2000.00"),
        pay("p3", "i3", date(2026, 4, 5), "3000.00"),
        pay("p4", "i4", date(2026, 3, 25), "1500.00"),
    ]
    result = dso_for_period(items, payments, date(2026, 3, 31), days=90)
    assert result.period_start == date(2026, 1, 1)  # 31 + 28 + 31 = 90 days, both ends inclusive
    assert result.credit_sales == D("9000.00")  # 2,000 + 3,000 + 4,000
    assert result.open_receivables == D("6500.00")  # 1,000 + 0 + 3,000 + 2,500
    assert result.value == D("65.0")  # 6,500 / 9,000 x 90 = 65
    assert result.to_dict()["period"] == "2026-01-01..2026-03-31 (90 days)"
    csv_row = read_csv(dso_csv(result))[0]
    assert csv_row["dso"] == "65.0" and csv_row["formula"] == DSO_FORMULA


def test_dso_counts_a_written_off_sale_but_not_its_open_amount() -> None:
    """Uncollectible invoices are no receivable any more: DSO's open total agrees with the aging's."""
    written_off = inv(
        "w1",
        "d1",
        date(2026, 3, 10),
        "500.00",
        total="500.00",
        status=InvoiceStatus.UNCOLLECTIBLE,
        invoice_date=date(2026, 2, 8),
    )
    open_one = inv("o1", "d1", date(2026, 3, 20), "300.00", total="300.00", invoice_date=date(2026, 2, 18))
    items = [ReceivableItem("A", written_off), ReceivableItem("A", open_one)]
    result = dso_for_period(items, [], date(2026, 3, 31), days=90)
    assert result.credit_sales == D("800.00")  # both were credit sales of the period
    assert result.open_receivables == D("300.00")  # only the one still owed
    (total,) = aging(items, date(2026, 3, 31)).scoped("total")
    assert total.total == result.open_receivables


@pytest.mark.parametrize(
    ("open_total", "months", "expected"),
    [
        ("100000", [(31, "60000"), (28, "56000")], "51.0"),  # 31 + 28 x 40,000 / 56,000 = 31 + 20
        ("30000", [(31, "60000")], "15.5"),  # 31 x 30,000 / 60,000
        ("200000", [(31, "60000"), (28, "56000")], "59.0"),  # more than all months: all 59 days (lower bound)
        ("60000", [(31, "60000"), (28, "56000")], "31.0"),  # exactly one month
    ],
)
def test_dso_countback(open_total: str, months: list[tuple[int, str]], expected: str) -> None:
    result = dso_countback(D(open_total), [(d, D(s)) for d, s in months])
    assert str(result.value) == expected and result.method == "countback"


# --- forecast ------------------------------------------------------------------------------------------------


def _history() -> list[PaidInvoice]:
    def paid(debtor: str, due: date, on: date) -> PaidInvoice:
        return PaidInvoice("A", debtor, f"h-{debtor}-{due}", due, on, D("10"), "EUR")

    return [
        paid("d1", date(2026, 1, 10), date(2026, 1, 20)),  # 10 days late
        paid("d1", date(2026, 2, 10), date(2026, 2, 15)),  # 5 days late
        paid("d2", date(2026, 1, 31), date(2026, 1, 29)),  # 2 days early
    ]


def test_average_delays() -> None:
    per_debtor, portfolio = average_delays(_history())
    assert per_debtor == {("A", "d1"): 8, ("A", "d2"): -2}  # (10 + 5) / 2 = 7.5 -> 8 (half up); -2 / 1
    assert portfolio == 4  # (10 + 5 - 2) / 3 = 4.33 -> 4


def _open_items() -> list[ReceivableItem]:
    return [
        ReceivableItem("A", x)
        for x in [
            inv("o1", "d1", date(2026, 5, 1), "100.00"),  # +8 -> Sat 9 May: 12 days after Mon 27 Apr -> week 2
            inv("o2", "d1", date(2026, 4, 10), "200.00"),  # +8 -> 18 Apr, before today -> week 1
            inv("o3", "d2", date(2026, 5, 4), "300.00"),  # -2 -> Sat 2 May -> week 1
            inv("o4", "d3", date(2026, 5, 20), "400.00"),  # no history: +4 -> Sun 24 May, 27 days -> week 4
            inv("o5", "d3", date(2026, 8, 1), "500.00"),  # +4 -> 5 Aug, 100 days -> index 14 >= 13 -> beyond
            inv("o6", "d2", date(2026, 7, 27), "600.00"),  # -2 -> Sat 25 Jul, 89 days -> index 12 -> week 13
            inv("o7", "d2", date(2026, 5, 1), "0", total="50.00", status=InvoiceStatus.PAID),  # not open
        ]
    ]


def test_forecast_hand_computed() -> None:
    result = forecast(_open_items(), _history(), TODAY, weeks=13)
    by_week = {r.week: r for r in result.rows}
    assert len(result.rows) == 14  # 13 weeks + beyond, for the one (administration, currency)
    assert (by_week["1"].iso_year, by_week["1"].iso_week, by_week["1"].week_start) == (2026, 18, date(2026, 4, 27))
    assert (by_week["1"].expected, by_week["1"].invoices) == (D("500.00"), 2)  # 200 + 300
    assert by_week["2"].expected == D("100.00") and by_week["2"].iso_week == 19
    assert by_week["3"].expected == D("0") and by_week["3"].invoices == 0
    assert by_week["4"].expected == D("400.00") and by_week["4"].week_start == date(2026, 5, 18)
    assert by_week["13"].expected == D("600.00")
    assert by_week["beyond"].expected == D("500.00") and by_week["beyond"].iso_week is None
    assert sum((r.expected for r in result.rows), D(0)) == D("2100.00")  # every open euro exactly once
    bases = {r.invoice_ref: (r.basis, r.delay_days) for r in result.receipts}
    assert bases == {
        "o1": ("debtor", 8),
        "o2": ("debtor", 8),
        "o3": ("debtor", -2),
        "o4": ("portfolio", 4),
        "o5": ("portfolio", 4),
        "o6": ("debtor", -2),
    }


def test_forecast_without_history_expects_the_due_date() -> None:
    result = forecast(_open_items(), [], TODAY, weeks=2)
    # o1 due Fri 1 May -> week 1; o3 due Mon 4 May -> week 2; o2 overdue -> week 1; the rest beyond week 2
    by_week = {r.week: r.expected for r in result.rows}
    assert by_week == {"1": D("300.00"), "2": D("300.00"), "beyond": D("1500.00")}
    assert result.portfolio_delay is None and {r.basis for r in result.receipts} == {"none"}


@pytest.mark.parametrize(
    ("today", "first_week", "last_week"),
    [
        # (today, (ISO year, week, Monday) of week 1, (ISO year, week) of week 3)
        (date(2026, 12, 31), (2026, 53, date(2026, 12, 28)), (2027, 2)),  # 2026 has 53 ISO weeks
        (date(2027, 1, 1), (2026, 53, date(2026, 12, 28)), (2027, 2)),  # New Year's Day in the previous ISO year
        (date(2027, 12, 31), (2027, 52, date(2027, 12, 27)), (2028, 2)),
        (date(2028, 2, 29), (2028, 9, date(2028, 2, 28)), (2028, 11)),
        (date(2029, 12, 31), (2030, 1, date(2029, 12, 31)), (2030, 3)),  # a Monday already in ISO 2030
    ],
)
def test_forecast_weeks_across_the_turn_of_a_year(
    today: date, first_week: tuple[int, int, date], last_week: tuple[int, int]
) -> None:
    items = [ReceivableItem("A", inv("t", "d1", today, "10.00")), ReceivableItem("A", inv("n", "d1", today, "5.00"))]
    rows = [r for r in forecast(items, [], today, weeks=3).rows if r.week != "beyond"]
    assert (rows[0].iso_year, rows[0].iso_week, rows[0].week_start) == first_week, "week 1 contains today"
    assert (rows[-1].iso_year, rows[-1].iso_week) == last_week, "week 3 is two ISO weeks later"
    assert [r.week_start for r in rows] == [first_week[2] + timedelta(weeks=i) for i in range(3)], "Mondays"
    assert (rows[0].invoices, rows[0].expected) == (2, D("15.00")), "due today: expected in week 1"


def test_forecast_csv_and_json_round_trip() -> None:
    result = forecast(_open_items(), _history(), TODAY)
    assert forecast_from_csv(forecast_csv(result)) == list(result.rows)
    data = json.loads(to_json(result))
    assert data["portfolio_delay_days"] == 4 and "portfolio" in data["method"].lower()
    assert data["rows"][0]["week_start"] == "2026-04-27"


def test_paid_invoices_take_the_last_cash_payment() -> None:
    invoices = [
        inv("x1", "d1", date(2026, 1, 10), "0", total="100.00", status=InvoiceStatus.PAID),
        inv("x2", "d1", date(2026, 1, 10), "0", total="100.00", status=InvoiceStatus.PAID),  # credit note only
        inv("x3", "d1", date(2026, 1, 10), "40.00", total="100.00"),  # still open
    ]
    payments = [
        pay("p1", "x1", date(2026, 1, 15), "50.00"),
        pay("p2", "x1", date(2026, 1, 22), "50.00"),
        pay("c1", "x1", date(2026, 1, 25), "0.01", kind="credit_note"),
        pay("c2", "x2", date(2026, 1, 12), "100.00", kind="credit_note"),
        pay("p3", "x3", date(2026, 1, 12), "60.00"),
    ]
    [paid] = paid_invoices("A", invoices, payments)
    assert (paid.invoice_ref, paid.paid_on, paid.days_late) == ("x1", date(2026, 1, 22), 12)  # 22 - 10
