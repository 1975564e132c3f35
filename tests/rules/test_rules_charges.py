"""One place for the amounts: the engine and the hand-over claim charge costs and interest through the same
functions (``connector.rules.charges``) and cannot drift apart again.

Before, the hand-over had its own copy of the cost gates: same amounts, but its own reasons (with internal codes in
the agency's dossier) and its own check that costs are switched on. These tests pin the behaviour kept: one set of
reasons, the switch inside the one function, and the same amounts from both callers for any invoice.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_factories import DUE, level, policy, rates, snapshot

from connector.debtors.handover import claim
from connector.model import Segment
from connector.rules import Decision, FourteenDayLetterEvidence, LetterChannel, NonDecision, Reason, evaluate_invoice
from connector.rules.charges import chargeable_costs, interest_due
from connector.rules.policy import Policy

D = Decimal
# e-mailed Tue 31 March (due + 21): received Wed 1 April, the term ends Wed 15 April, costs from Thu 16 April
LETTER = FourteenDayLetterEvidence(
    sent_on=DUE + timedelta(days=21),
    channel=LetterChannel.EMAIL,
    stated_costs=D("150"),
    printed_term_ends=date(2026, 4, 15),
    text_counts_from_receipt=True,
)
FATAL = {"segment": Segment.B2C, "default_needs_notice": False}


def _charging_policy(**costs: Any) -> Policy:
    """Two levels; the second charges costs and interest (a policy without costs charges at no level)."""
    if costs.get("enabled") is False:
        return policy([level(1, 3), level(2, 14, terminal=True)], costs=costs)
    return policy(
        [level(1, 3), level(2, 14, action="demand_letter", charge_costs=True, charge_interest=True, terminal=True)],
        costs={"enabled": True, **costs},
        interest={"enabled": True},
    )


@pytest.mark.parametrize(
    ("overrides", "costs", "today", "total", "reason"),
    [
        ({}, {"enabled": False}, DUE + timedelta(days=30), None, "costs are switched off in the policy"),
        ({"currency": "USD"}, {}, DUE + timedelta(days=30), None, "defined in EUR; the invoice is in USD"),
        ({}, {}, DUE, None, "the debtor is not yet in default"),
        ({}, {}, DUE + timedelta(days=1), "150.00", None),
        ({}, {"b2b_mode": "eu_fixed_40"}, DUE + timedelta(days=1), "40.00", None),
        ({}, {"b2b_mode": "none"}, DUE + timedelta(days=1), None, "charges businesses no costs"),
        ({}, {"creditor_can_deduct_vat": False}, DUE + timedelta(days=1), "150.00", None),  # collects itself
        ({}, {"collector_charges_vat": True}, DUE + timedelta(days=1), "150.00", None),  # creditor deducts it
        (
            {},
            {"creditor_can_deduct_vat": False, "collector_charges_vat": True},
            DUE + timedelta(days=1),
            "181.50",  # both conditions: 21 % VAT on the fee
            None,
        ),
        ({"segment": Segment.B2C}, {}, DUE + timedelta(days=60), None, "not yet in default"),  # notice needed
        (FATAL, {}, DUE + timedelta(days=60), None, "no 14-day letter on record"),
        ({**FATAL, "segment": None, "fourteen_day_letter": LETTER}, {}, DUE + timedelta(days=30), None, "term runs"),
        ({**FATAL, "fourteen_day_letter": LETTER}, {}, DUE + timedelta(days=37), "150.00", None),
        (
            {**FATAL, "fourteen_day_letter": LETTER, "open_amount": D("700")},
            {},
            DUE + timedelta(days=37),
            "105.00",  # a part payment lowers the costs below what the letter stated
            None,
        ),
    ],
)
def test_chargeable_costs(
    overrides: dict[str, Any], costs: dict[str, Any], today: date, total: str | None, reason: str | None
) -> None:
    line, why = chargeable_costs(snapshot(**overrides), _charging_policy(**costs), today)
    assert (line.total if line else None) == (D(total) if total else None), f"costs on {today}"
    assert (reason or "") in (why or ""), f"reason: {why!r}"
    assert (why is None) == (line is not None), "a reason exactly when nothing is charged"


def test_the_14_day_term_names_its_last_day() -> None:
    # e-mailed on due + 21 = Tue 31 March, received Wed 1 April; the term runs 2-15 April, costs from 16 April
    _line, why = chargeable_costs(snapshot(**FATAL, fourteen_day_letter=LETTER), _charging_policy(), date(2026, 4, 10))
    assert why == "the 14-day term runs until 2026-04-15"


def test_the_dossier_states_no_internal_codes() -> None:
    snaps = [
        snapshot(invoice_ref="a", **FATAL, fourteen_day_letter=LETTER, invoice_policy="test"),
        snapshot(invoice_ref="b", currency="USD", invoice_policy="test"),
    ]
    result = claim(snaps, {"test": _charging_policy()}, rates(), date(2026, 4, 10))
    assert "no costs (the 14-day term runs until 2026-04-15)" in result.basis
    codes = re.findall(r"\b[PLU]\d{1,2}\b", result.basis)
    assert not codes, f"internal codes {codes} in the dossier's basis: {result.basis!r}"


AMOUNTS = st.decimals(min_value=D("0.11"), max_value=D("250000"), places=2)
LETTERS = st.one_of(
    st.none(),
    st.builds(
        FourteenDayLetterEvidence,
        sent_on=st.one_of(st.none(), st.dates(DUE - timedelta(days=2), DUE + timedelta(days=40))),
        channel=st.sampled_from(LetterChannel),
        received_on=st.one_of(st.none(), st.dates(DUE + timedelta(days=41), DUE + timedelta(days=45))),
        stated_costs=st.one_of(st.none(), st.decimals(min_value=D("40"), max_value=D("7000"), places=2)),
        printed_term_ends=st.one_of(st.none(), st.dates(DUE, DUE + timedelta(days=70))),
        text_counts_from_receipt=st.one_of(st.none(), st.booleans()),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    open_amount=AMOUNTS,
    segment=st.sampled_from([Segment.B2B, Segment.B2C, None]),
    currency=st.sampled_from(["EUR", "EUR", "USD"]),
    letter=LETTERS,
    days_late=st.integers(min_value=14, max_value=900),
    b2b_mode=st.sampled_from(["wik", "eu_fixed_40", "none"]),
    deduct_vat=st.booleans(),
    collector_vat=st.booleans(),
    needs_notice=st.sampled_from([None, True, False]),
    notice_on=st.one_of(st.none(), st.dates(DUE + timedelta(days=1), DUE + timedelta(days=30))),
)
def test_the_engine_and_the_hand_over_charge_the_same(
    open_amount: Decimal,
    segment: Segment | None,
    currency: str,
    letter: FourteenDayLetterEvidence | None,
    days_late: int,
    b2b_mode: str,
    deduct_vat: bool,
    collector_vat: bool,
    needs_notice: bool | None,
    notice_on: date | None,
) -> None:
    """Any invoice at the charging level: the reminder's costs and interest are the dossier's."""
    vat = {"creditor_can_deduct_vat": deduct_vat, "collector_charges_vat": collector_vat}
    the_policy = _charging_policy(b2b_mode=b2b_mode, **vat)
    snap = snapshot(
        default_needs_notice=needs_notice,
        notice_of_default_on=notice_on,
        open_amount=open_amount,
        total=open_amount,
        segment=segment,
        currency=currency,
        fourteen_day_letter=letter,
        current_level=1,
        level_reached_on=DUE + timedelta(days=3),
        invoice_policy="test",
    )
    today = DUE + timedelta(days=days_late)
    outcome = evaluate_invoice(snap, the_policy, today, rates=rates())
    dossier = claim([snap], {"test": the_policy}, rates(), today)
    if isinstance(outcome, NonDecision):
        assert outcome.reason is Reason.FOURTEEN_DAY_TERM, f"unexpected {outcome.reason}"
        assert dossier.costs is None, "no costs in the dossier while the 14-day term runs"
        return
    assert isinstance(outcome, Decision)
    assert outcome.costs == dossier.costs, "costs differ"
    assert outcome.interest == dossier.interest, "interest differs"
    assert outcome.interest == interest_due(snap, the_policy, today, rates()).amount, "interest is not interest_due"
