"""Statutory interest: the rate table, splitting at rate changes, yearly compounding, worked examples."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rules_factories import rates

from connector.errors import ConfigurationError
from connector.rules.interest import (
    InterestKind,
    InterestPeriodError,
    anniversary,
    load_rate_table,
    statutory_interest,
)

D = Decimal


def _cents(value: Fraction) -> Decimal:
    return (D(value.numerator) / D(value.denominator)).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def test_rate_table_rows() -> None:
    table = rates()
    assert table.source.startswith("https://www.rijksoverheid.nl/")
    assert table.row_on(date(2015, 1, 1)).commercial == D("8.05")
    assert table.row_on(date(2016, 6, 30)).commercial == D("8.05")
    assert table.row_on(date(2022, 12, 31)).commercial == D("8.00")
    assert table.row_on(date(2024, 6, 30)).commercial == D("12.50")
    assert table.row_on(date(2024, 7, 1)).commercial == D("12.25")
    assert table.row_on(date(2023, 1, 1)).consumer == D("4.00")


# Every half year since 2015, checked: (from, consumer %, commercial %, ECB main refinancing rate % named as source)
CHECKED_ROWS = [
    (date(2015, 1, 1), "2.00", "8.05", "0.05"),
    (date(2016, 7, 1), "2.00", "8.00", "0.00"),
    (date(2023, 1, 1), "4.00", "10.50", "2.50"),
    (date(2023, 7, 1), "6.00", "12.00", "4.00"),
    (date(2024, 1, 1), "7.00", "12.50", "4.50"),
    (date(2024, 7, 1), "7.00", "12.25", "4.25"),
    (date(2025, 1, 1), "6.00", "11.15", "3.15"),
    (date(2025, 7, 1), "6.00", "10.15", "2.15"),  # consumer 6 %, not 5 %
    (date(2026, 1, 1), "4.00", "10.15", "2.15"),
]


@pytest.mark.parametrize(("start", "consumer", "commercial", "ecb"), CHECKED_ROWS)
def test_every_row_is_checked_and_names_its_source(start: date, consumer: str, commercial: str, ecb: str) -> None:
    row = rates().row_on(start)
    assert row.from_date == start, f"no row starts on {start}"
    assert (row.consumer, row.commercial) == (D(consumer), D(commercial))
    assert row.unverified == (), f"{start}: still marked unverified"
    assert row.source and f"{ecb} %" in row.source, f"{start}: the source does not name the ECB rate {ecb} %"
    assert D(commercial) == D(ecb) + 8, "commercial = ECB main refinancing rate + 8 (art. 6:120 lid 2 BW)"


def test_the_table_has_no_other_rows() -> None:
    assert [row.from_date for row in rates().rates] == [start for start, *_ in CHECKED_ROWS]


def test_one_year_across_a_rate_change_commercial() -> None:
    # 2024: 182 days at 12.5 % + 184 days at 12.25 % on EUR 10,000 (actual/365)
    result = statutory_interest(D("10000"), date(2024, 1, 1), date(2025, 1, 1), InterestKind.COMMERCIAL, rates())
    expected = Fraction(10000) * (Fraction(125, 1000) * 182 + Fraction(1225, 10000) * 184) / 365
    assert result.amount == _cents(expected) == D("1240.82")
    assert [(p.start, p.end, p.rate) for p in result.periods] == [
        (date(2024, 1, 1), date(2024, 7, 1), D("12.50")),
        (date(2024, 7, 1), date(2025, 1, 1), D("12.25")),
    ]
    assert not result.uses_unverified_rate


def test_compounds_after_a_full_year() -> None:
    # EUR 1,000 consumer from 1-7-2023: year 1 = 184 d at 6 % + 182 d at 7 %; then added to the principal;
    # year 2 part = 92 d at 7 % on the grown principal.
    result = statutory_interest(D("1000"), date(2023, 7, 1), date(2024, 10, 1), InterestKind.CONSUMER, rates())
    year1 = Fraction(1000) * (Fraction(6, 100) * 184 + Fraction(7, 100) * 182) / 365
    year2 = (1000 + year1) * Fraction(7, 100) * 92 / 365
    assert result.amount == _cents(year1 + year2) == D("83.94")
    simple = Fraction(1000) * Fraction(7, 100) * 92 / 365 + year1
    assert result.amount > _cents(simple)  # compounding matters
    assert result.periods[-1].principal > D("1000")


def test_no_compounding_within_the_first_year() -> None:
    result = statutory_interest(D("1000"), date(2023, 7, 1), date(2024, 6, 30), InterestKind.CONSUMER, rates())
    assert all(period.principal == D("1000") for period in result.periods)


def test_empty_or_negative_period_is_zero() -> None:
    assert statutory_interest(D("1000"), date(2024, 1, 1), date(2024, 1, 1), InterestKind.CONSUMER, rates()).amount == 0
    assert statutory_interest(D("0"), date(2024, 1, 1), date(2025, 1, 1), InterestKind.CONSUMER, rates()).amount == 0


def test_before_the_table_is_refused() -> None:
    with pytest.raises(InterestPeriodError, match="starts on 2015-01-01: there is no rate for 2014-12-01"):
        statutory_interest(D("1000"), date(2014, 12, 1), date(2015, 2, 1), InterestKind.COMMERCIAL, rates())


def test_unverified_rows_are_reported(tmp_path: Path) -> None:
    text = (
        'source: test\nrates:\n  - {from: 2015-01-01, consumer: "2.00", commercial: "8.05"}\n'
        '  - {from: 2027-01-01, consumer: "3.00", commercial: "9.00", unverified: [commercial]}\n'
    )
    (tmp_path / "rates.yaml").write_text(text)
    table = load_rate_table(tmp_path / "rates.yaml")
    later = statutory_interest(D("1000"), date(2026, 12, 1), date(2027, 2, 1), InterestKind.COMMERCIAL, table)
    assert later.uses_unverified_rate
    consumer = statutory_interest(D("1000"), date(2026, 12, 1), date(2027, 2, 1), InterestKind.CONSUMER, table)
    assert not consumer.uses_unverified_rate


def test_leap_day_anniversary() -> None:
    assert anniversary(date(2024, 2, 29), 1) == date(2025, 3, 1)
    assert anniversary(date(2024, 2, 29), 4) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("source: x\nrates:\n  - {from: 2015-01-01, consumer: 2.0, commercial: '8'}\n", "decimal strings"),
        (
            "source: x\nrates:\n  - {from: 2016-01-01, consumer: '2', commercial: '8'}\n"
            "  - {from: 2015-01-01, consumer: '2', commercial: '8'}\n",
            "increasing",
        ),
        ("rates: []\n", "source"),
    ],
)
def test_bad_rate_tables_are_rejected(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "rates.yaml"
    path.write_text(body)
    with pytest.raises(ConfigurationError, match=message):
        load_rate_table(path)


@given(
    principal=st.decimals(min_value=D("0.01"), max_value=D("10000000"), places=2),
    start_offset=st.integers(min_value=0, max_value=3000),
    first=st.integers(min_value=0, max_value=1500),
    more=st.integers(min_value=0, max_value=1500),
    kind=st.sampled_from(list(InterestKind)),
)
def test_interest_is_monotone_in_time(
    principal: Decimal, start_offset: int, first: int, more: int, kind: InterestKind
) -> None:
    table = rates()
    start = date.fromordinal(date(2015, 1, 1).toordinal() + start_offset)
    early = date.fromordinal(start.toordinal() + first)
    late = date.fromordinal(early.toordinal() + more)
    a = statutory_interest(principal, start, early, kind, table).amount
    b = statutory_interest(principal, start, late, kind, table).amount
    assert D(0) <= a <= b
