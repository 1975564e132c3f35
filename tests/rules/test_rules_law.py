"""Worked examples for the collection-cost law: the WIK scale, the EUR 40 per late business invoice, VAT on costs,
and statutory interest across a rate change. The 14-day letter's dates are in ``test_rules_letter``."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from rules_factories import rates

from connector.rules.law import (
    CostBasis,
    combine_costs,
    compute_costs,
    costs_summary,
    vat_applies,
    vat_on_costs,
    wik_fee,
)

D = Decimal

# The WIK scale's worked examples (docs/law.md): principal, fee, fee + 21 % VAT.
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
def test_wik_scale_matches_the_worked_examples(principal: str, fee: str, with_vat: str) -> None:
    computed = wik_fee(D(principal))
    assert computed == D(fee)
    assert computed + vat_on_costs(computed, charge_vat=True) == D(with_vat)
    assert vat_on_costs(computed, charge_vat=False) == D("0.00")


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


@pytest.mark.parametrize(
    ("creditor_can_deduct", "collector_charges", "vat"),
    [
        (True, False, "0.00"),  # a VAT-registered creditor collecting itself
        (False, False, "0.00"),  # cannot deduct, but collects itself: no collector's VAT to pass on
        (True, True, "0.00"),  # a collector charges VAT, but the creditor deducts it
        (False, True, "8.40"),  # both: 21 % on the EUR 40 minimum
    ],
)
def test_vat_only_when_both_conditions_hold(creditor_can_deduct: bool, collector_charges: bool, vat: str) -> None:
    charge = vat_applies(creditor_can_deduct_vat=creditor_can_deduct, collector_charges_vat=collector_charges)
    line = compute_costs(D("100"), CostBasis.WIK, charge_vat=charge)
    assert (line.fee, line.vat) == (D("40.00"), D(vat)), f"deduct={creditor_can_deduct} collector={collector_charges}"


def test_eu_fixed_forty_is_flat_whatever_the_principal() -> None:
    for principal in ("10", "5000", "2000000"):
        line = compute_costs(D(principal), CostBasis.EU_FIXED_40, business=True)
        assert line.total == D("40"), principal


def test_part_payment_recomputes_on_the_remaining_principal() -> None:
    # EUR 1,200 claimed -> fee 180; EUR 500 paid in time -> fee on 700 = 105
    assert compute_costs(D("1200"), CostBasis.WIK, cap=D("180.00")).fee == D("180.00")
    assert compute_costs(D("700"), CostBasis.WIK, cap=D("180.00")).fee == D("105.00")


def test_never_more_than_the_letter_stated() -> None:
    line = compute_costs(D("1200"), CostBasis.WIK, cap=D("150.00"))
    assert line.total == D("150.00")
    with_vat = compute_costs(D("1200"), CostBasis.WIK, charge_vat=True, cap=D("121.00"))
    assert (with_vat.fee, with_vat.vat) == (D("100.00"), D("21.00"))


# (principals, business, fee): a claim of several invoices of one debtor
CLAIMS = [
    (["100"] * 5, True, "200.00"),  # five late B2B invoices of EUR 100: 5 x EUR 40, not the scale's EUR 75
    (["100"] * 5, False, "75.00"),  # the same claim on a consumer: the scale on the total
    (["2000", "2000"], True, "525.00"),  # the scale on EUR 4,000 beats 2 x 40
    (["300"], True, "45.00"),  # one invoice: the scale (15 % of 300) above the EUR 40
    (["10"] * 200, True, "8000.00"),  # 200 x EUR 40: the per-invoice sum is not capped at EUR 6,775
    (["100", "0"], True, "40.00"),  # a paid invoice is not late
]


@pytest.mark.parametrize(("principals", "business", "fee"), CLAIMS)
def test_a_business_owes_at_least_forty_euro_per_late_invoice(principals: list[str], business: bool, fee: str) -> None:
    line = compute_costs([D(p) for p in principals], CostBasis.WIK, business=business)
    assert line.fee == D(fee), f"{len(principals)} invoices, business={business}"


def test_combining_per_invoice_lines_applies_the_rules_to_the_claim() -> None:
    business = [compute_costs(D("100"), CostBasis.WIK, business=True) for _ in range(5)]
    combined = combine_costs(business)
    assert combined is not None and (combined.fee, combined.invoices) == (D("200.00"), 5)
    consumer = combine_costs([compute_costs(D("100"), CostBasis.WIK) for _ in range(5)])
    assert consumer is not None and consumer.fee == D("75.00")
    eu = combine_costs([compute_costs(D("100"), CostBasis.EU_FIXED_40, business=True) for _ in range(3)])
    assert eu is not None and eu.fee == D("120.00")
    with_vat = combine_costs([compute_costs(D("100"), CostBasis.WIK, business=True, charge_vat=True)] * 5)
    assert with_vat is not None and (with_vat.fee, with_vat.vat) == (D("200.00"), D("42.00"))


def test_costs_summary_shape_and_values() -> None:
    summary = costs_summary([D("10000")], False, date(2024, 1, 1), date(2025, 1, 1), rates=rates())
    assert {k: v for k, v in summary.items() if k != "rates"} == {
        "principal": "10000.00",
        "collection_costs": "875.00",
        "vat_on_costs": "0.00",
        "interest": "1240.82",
        "currency": "EUR",
        "invoices": 1,
    }
    assert [(r["from"], r["to"], r["percent"]) for r in summary["rates"]] == [
        ("2024-01-01", "2024-07-01", "12.50"),
        ("2024-07-01", "2025-01-01", "12.25"),
    ]
    no_dates = costs_summary([D("150")], True, None, None, rates=rates(), charge_vat=True)
    assert no_dates == {
        "principal": "150.00",
        "collection_costs": "40.00",
        "vat_on_costs": "8.40",
        "interest": "0.00",
        "currency": "EUR",
        "invoices": 1,
        "rates": [],
    }


def test_costs_summary_of_five_business_invoices() -> None:
    summary = costs_summary([D("100")] * 5, False, None, None, rates=rates())
    assert (summary["collection_costs"], summary["invoices"], summary["principal"]) == ("200.00", 5, "500.00")


def test_costs_summary_consumer_uses_the_consumer_rate() -> None:
    consumer = costs_summary([D("10000")], True, date(2024, 1, 1), date(2025, 1, 1), rates=rates())
    expected = (D(10000) * D("0.07") * 366 / 365).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert consumer["interest"] == str(expected)


@pytest.mark.parametrize(
    ("consumer", "interest", "rates_used"),
    [
        # commercial: 30 days at 11.15 % (1-1-2025 row) + 31 days at 10.15 % (1-7-2025 row) on EUR 1,000
        (False, "17.78", [("2025-06-01", "11.15", 30, "2025-01-01"), ("2025-07-01", "10.15", 31, "2025-07-01")]),
        # consumer: 6 % on both sides of the change (the 1-7-2025 consumer rate is 6 %, not 5 %)
        (True, "10.03", [("2025-06-01", "6.00", 30, "2025-01-01"), ("2025-07-01", "6.00", 31, "2025-07-01")]),
    ],
)
def test_a_claim_spanning_the_rate_change_of_1_july_2025(
    consumer: bool, interest: str, rates_used: list[tuple[str, str, int, str]]
) -> None:
    summary = costs_summary([D("1000")], consumer, date(2025, 6, 1), date(2025, 8, 1), rates=rates())
    assert summary["interest"] == interest
    assert [(r["from"], r["percent"], r["days"], r["rate_from"]) for r in summary["rates"]] == rates_used
