"""Worked examples for the collection-cost law: WIK scale (L1), EU EUR 40 (L3), VAT (L4), 14-day letter (L2)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from rules_factories import rates

from connector.rules.law import (
    CostBasis,
    combine_costs,
    compute_costs,
    costs_chargeable_from,
    costs_summary,
    dutch_public_holidays,
    easter_sunday,
    letter_defect,
    presumed_receipt,
    vat_on_costs,
    wik_fee,
)
from connector.rules.snapshot import FourteenDayLetterEvidence, LetterChannel

D = Decimal

# credit-management.md L1 worked-example table: principal, fee, fee + 21 % VAT.
L1_TABLE = [
    ("150.00", "40.00", "48.40"),
    ("500.00", "75.00", "90.75"),
    ("1000.00", "150.00", "181.50"),
    ("1234.56", "185.18", "224.07"),
    ("2500.00", "375.00", "453.75"),
    ("3750.00", "500.00", "605.00"),
    ("6000.00", "675.00", "816.75"),
    ("10000.00", "875.00", "1058.75"),
    ("25000.00", "1025.00", "1240.25"),
    ("200000.00", "2775.00", "3357.75"),
    ("500000.00", "4275.00", "5172.75"),
    ("1000000.00", "6775.00", "8197.75"),
    ("2000000.00", "6775.00", "8197.75"),
]


@pytest.mark.parametrize(("principal", "fee", "with_vat"), L1_TABLE)
def test_wik_scale_matches_the_l1_table(principal: str, fee: str, with_vat: str) -> None:
    computed = wik_fee(D(principal))
    assert computed == D(fee)
    assert computed + vat_on_costs(computed, vat_reclaimable=False) == D(with_vat)
    assert vat_on_costs(computed, vat_reclaimable=True) == D("0.00")


@pytest.mark.parametrize(
    ("principal", "fee"),
    [
        ("0.01", "40.00"),  # the minimum applies to any positive claim
        ("250.00", "40.00"),
        ("266.66", "40.00"),  # 39.999 -> minimum
        ("266.67", "40.00"),  # 40.0005 rounds to 40.00
        ("266.70", "40.01"),  # first principal where the scale beats the minimum after rounding
        ("2500.01", "375.00"),  # 375.001
        ("3000.00", "425.00"),
        ("5000.00", "625.00"),
        ("1000000.01", "6775.00"),  # the cap is reached at exactly EUR 1,000,000
    ],
)
def test_wik_bracket_edges(principal: str, fee: str) -> None:
    assert wik_fee(D(principal)) == D(fee)


def test_wik_just_below_the_cap_rounds_half_up() -> None:
    # 2,775 + 0.5 % x (999,999 - 200,000) = 6,774.995 -> 6,775.00 (half up, once)
    assert wik_fee(D("999999")) == D("6775.00")
    assert wik_fee(D("999998")) == D("6774.99")


def test_wik_against_an_independent_integer_cent_formula() -> None:
    def cents_formula(cents: int) -> int:
        # fee in hundredths of a cent, brackets as integer arithmetic
        brackets = [(250_000, 15), (500_000, 10), (1_000_000, 5), (20_000_000, 1)]
        fee_x1000 = 0  # fee * 1000 in cents (rates in tenths of a percent scale)
        lower = 0
        for upper, pct in brackets:
            part = max(0, min(cents, upper) - lower)
            fee_x1000 += part * pct * 10
            lower = upper
        fee_x1000 += max(0, cents - 20_000_000) * 5
        fee_x1000 = min(max(fee_x1000, 4_000 * 1000), 677_500 * 1000)
        return (fee_x1000 + 500) // 1000

    for cents in [1, 26_666, 26_667, 26_670, 123_456, 250_001, 499_999, 777_777, 12_345_678, 99_999_999, 10**9]:
        assert wik_fee(D(cents) / 100) == D(cents_formula(cents)) / 100, cents


def test_zero_or_negative_principal_owes_nothing() -> None:
    assert wik_fee(D("0")) == D("0.00")
    assert wik_fee(D("-5")) == D("0.00")


def test_vat_uplift_applies_to_the_minimum_too() -> None:
    line = compute_costs(D("100"), CostBasis.WIK, vat_reclaimable=False)
    assert (line.fee, line.vat, line.total) == (D("40.00"), D("8.40"), D("48.40"))


def test_eu_fixed_forty_is_flat_whatever_the_principal() -> None:
    for principal in ("10", "5000", "2000000"):
        line = compute_costs(D(principal), CostBasis.EU_FIXED_40, vat_reclaimable=True)
        assert line.total == D("40")


def test_part_payment_recomputes_on_the_remaining_principal() -> None:
    # L1: EUR 1,200 claimed -> fee 180; EUR 500 paid in time -> fee on 700 = 105
    assert compute_costs(D("1200"), CostBasis.WIK, vat_reclaimable=True, cap=D("180.00")).fee == D("180.00")
    assert compute_costs(D("700"), CostBasis.WIK, vat_reclaimable=True, cap=D("180.00")).fee == D("105.00")


def test_never_more_than_the_letter_stated() -> None:
    line = compute_costs(D("1200"), CostBasis.WIK, vat_reclaimable=True, cap=D("150.00"))
    assert line.total == D("150.00")
    with_vat = compute_costs(D("1200"), CostBasis.WIK, vat_reclaimable=False, cap=D("121.00"))
    assert (with_vat.fee, with_vat.vat) == (D("100.00"), D("21.00"))


def test_several_invoices_are_costed_on_their_total() -> None:
    lines = [compute_costs(D("100"), CostBasis.WIK, vat_reclaimable=True) for _ in range(5)]
    combined = combine_costs(lines)
    assert combined is not None
    assert combined.fee == D("75.00")  # not 5 x 40
    eu = [compute_costs(D("100"), CostBasis.EU_FIXED_40, vat_reclaimable=True) for _ in range(3)]
    combined_eu = combine_costs(eu)
    assert combined_eu is not None and combined_eu.fee == D("120")


def test_easter_and_holidays() -> None:
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert easter_sunday(2024) == date(2024, 3, 31)
    holidays = dutch_public_holidays(2026)
    assert date(2026, 4, 6) in holidays  # Easter Monday
    assert date(2026, 5, 14) in holidays  # Ascension
    assert date(2026, 4, 27) in holidays  # King's Day
    assert date(2025, 4, 26) in dutch_public_holidays(2025)  # 27 April 2025 is a Sunday
    assert date(2025, 4, 27) not in dutch_public_holidays(2025)


@pytest.mark.parametrize(
    ("sent", "channel", "received", "chargeable"),
    [
        (date(2026, 3, 3), LetterChannel.POST, date(2026, 3, 5), date(2026, 3, 20)),  # L2: Tue -> Thu -> Fri 20
        (date(2026, 3, 6), LetterChannel.POST, date(2026, 3, 10), date(2026, 3, 25)),  # L2: Fri -> Tue -> Wed 25
        (date(2026, 3, 6), LetterChannel.EMAIL, date(2026, 3, 6), date(2026, 3, 21)),
        (date(2026, 4, 2), LetterChannel.POST, date(2026, 4, 4), date(2026, 4, 19)),  # Thu -> Fri, Sat
        (date(2026, 4, 3), LetterChannel.POST, date(2026, 4, 7), date(2026, 4, 22)),  # Sat; Easter Sun/Mon skip
        (date(2026, 5, 13), LetterChannel.POST, date(2026, 5, 16), date(2026, 5, 31)),  # Ascension Thu skipped
        (date(2026, 3, 3), LetterChannel.REGISTERED_POST, date(2026, 3, 5), date(2026, 3, 20)),
    ],
)
def test_fourteen_day_letter_receipt_and_first_cost_day(
    sent: date, channel: LetterChannel, received: date, chargeable: date
) -> None:
    assert presumed_receipt(sent, channel) == received
    letter = FourteenDayLetterEvidence(sent_on=sent, channel=channel, stated_costs=D("150.00"))
    assert costs_chargeable_from(letter) == chargeable


def test_proven_receipt_overrides_the_presumption() -> None:
    letter = FourteenDayLetterEvidence(
        sent_on=date(2026, 3, 3), channel=LetterChannel.POST, received_on=date(2026, 3, 9), stated_costs=D("1")
    )
    assert costs_chargeable_from(letter) == date(2026, 3, 24)


@pytest.mark.parametrize(
    ("letter", "defect"),
    [
        (None, "no 14-day letter evidence"),
        (
            FourteenDayLetterEvidence(sent_on=date(2026, 3, 10), channel=LetterChannel.POST, stated_costs=D("40")),
            "before the debtor was in default",
        ),
        (FourteenDayLetterEvidence(sent_on=date(2026, 3, 20), channel=LetterChannel.POST), "does not state"),
        (
            FourteenDayLetterEvidence(
                sent_on=date(2026, 3, 20), channel=LetterChannel.POST, stated_costs=D("40"), term_from_receipt=False
            ),
            "from its own date",
        ),
    ],
)
def test_letter_defects_block_consumer_costs(letter: FourteenDayLetterEvidence | None, defect: str) -> None:
    found = letter_defect(letter, due_date=date(2026, 3, 10))
    assert found is not None and defect in found


def test_compliant_letter_has_no_defect() -> None:
    letter = FourteenDayLetterEvidence(sent_on=date(2026, 3, 11), channel=LetterChannel.EMAIL, stated_costs=D("40"))
    assert letter_defect(letter, due_date=date(2026, 3, 10)) is None


def test_costs_summary_shape_and_values() -> None:
    summary = costs_summary(D("10000"), False, date(2024, 1, 1), date(2025, 1, 1), rates=rates())
    assert summary == {
        "principal": "10000.00",
        "collection_costs": "875.00",
        "vat_on_costs": "0.00",
        "interest": "1240.82",
        "currency": "EUR",
    }
    no_dates = costs_summary(D("150"), True, None, None, rates=rates(), vat_reclaimable=False)
    assert no_dates == {
        "principal": "150.00",
        "collection_costs": "40.00",
        "vat_on_costs": "8.40",
        "interest": "0.00",
        "currency": "EUR",
    }


def test_costs_summary_consumer_uses_the_consumer_rate() -> None:
    consumer = costs_summary(D("10000"), True, date(2024, 1, 1), date(2025, 1, 1), rates=rates())
    expected = (D(10000) * D("0.07") * 366 / 365).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert consumer["interest"] == str(expected)
