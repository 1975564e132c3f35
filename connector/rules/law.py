"""Dutch and EU collection-cost law as pure functions: the WIK scale, the EU EUR 40 per late invoice, VAT on costs.

The statute, with no policy and no invoice in it: ``connector.rules.charges`` applies it to an invoice snapshot
for the engine and the hand-over claim; ``dunning costs --json`` prints ``costs_summary``. Every amount is
``Decimal``; rounding happens once, to the cent, half up (our documented convention; the Besluit prescribes none).
Statutory interest lives in ``connector.rules.interest``, the 14-day letter in ``connector.rules.letter``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.rules.interest import InterestKind, RateTable, statutory_interest

CENT = Decimal("0.01")
WIK_MINIMUM = Decimal("40")
WIK_MAXIMUM = Decimal("6775")
EU_FIXED_FEE = Decimal("40")
VAT_RATE = Decimal("0.21")
# Besluit vergoeding voor buitengerechtelijke incassokosten art. 2: (upper bound of the bracket, rate).
WIK_BRACKETS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("2500"), Decimal("0.15")),
    (Decimal("5000"), Decimal("0.10")),
    (Decimal("10000"), Decimal("0.05")),
    (Decimal("200000"), Decimal("0.01")),
    (None, Decimal("0.005")),
)


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def wik_fee(principal: Decimal) -> Decimal:
    """docs/law.md#wik-collection-costs: collection costs on ``principal`` (incl. invoice VAT): brackets summed exactly,
    min 40, max 6,775.

    A principal of zero or less owes nothing.
    """
    if principal <= 0:
        return Decimal("0.00")
    fee = Decimal(0)
    lower = Decimal(0)
    for upper, rate in WIK_BRACKETS:
        top = principal if upper is None else min(principal, upper)
        if top > lower:
            fee += (top - lower) * rate
        if upper is None or principal <= upper:
            break
        lower = upper
    return to_cents(min(max(fee, WIK_MINIMUM), WIK_MAXIMUM))


def vat_applies(*, creditor_can_deduct_vat: bool, collector_charges_vat: bool) -> bool:
    """VAT may be added to the costs only when both hold (Besluit art. 2 lid 3): the costs are those of a collector
    who charges VAT on its work, and the creditor cannot deduct that VAT. A creditor collecting itself: never."""
    return collector_charges_vat and not creditor_can_deduct_vat


def vat_on_costs(fee: Decimal, *, charge_vat: bool) -> Decimal:
    """21 % of the rounded fee (also of the EUR 40 minimum), rounded half up; nothing when VAT does not apply."""
    if not charge_vat or fee <= 0:
        return Decimal("0.00")
    return to_cents(fee * VAT_RATE)


class CostBasis(str, enum.Enum):
    WIK = "wik"
    EU_FIXED_40 = "eu_fixed_40"


@dataclass(frozen=True)
class CostLine:
    """One computed cost line with every input next to the result: the principal (of ``invoices`` late invoices),
    whether the debtor is a business (the EUR 40 per late invoice), the fee, the VAT and any cap."""

    basis: CostBasis
    principal: Decimal
    fee: Decimal
    vat: Decimal
    cap: Decimal | None = None  # consumer: the amount the 14-day letter stated; never charge more
    invoices: int = 1
    business: bool = False

    @property
    def total(self) -> Decimal:
        return self.fee + self.vat


def claim_fee(principal: Decimal, invoices: int, basis: CostBasis, *, business: bool) -> Decimal:
    """The fee for a claim of ``invoices`` late invoices totalling ``principal``.

    WIK on the total; for a business never less than EUR 40 per late invoice (art. 6:96 lid 4 BW with Directive
    2011/7/EU art. 6; CJEU 20-10-2022, C-585/20: the fixed sum is due for each late payment). The EU basis is
    EUR 40 per late invoice. Consumers: the scale on the total, nothing per invoice.
    """
    if principal <= 0 or invoices <= 0:
        return Decimal("0.00")
    per_invoice = EU_FIXED_FEE * invoices
    if basis is CostBasis.EU_FIXED_40:
        return to_cents(per_invoice)
    fee = wik_fee(principal)
    return to_cents(max(fee, per_invoice)) if business else fee


def compute_costs(
    principal: Decimal | Sequence[Decimal],
    basis: CostBasis,
    *,
    business: bool = False,
    charge_vat: bool = False,
    cap: Decimal | None = None,
) -> CostLine:
    """Fee + VAT on one principal or on the invoices of one claim (those with something open count as late);
    ``cap`` (incl. VAT) limits the total to what a 14-day letter stated."""
    amounts = [principal] if isinstance(principal, Decimal) else list(principal)
    late = [amount for amount in amounts if amount > 0]
    return _line(basis, sum(late, Decimal(0)), max(len(late), 1), business, charge_vat, cap)


def combine_costs(lines: list[CostLine]) -> CostLine | None:
    """Costs for several invoices of one debtor claimed together in one message.

    The scale is applied to the total principal (five consumer invoices of EUR 100: EUR 75 on EUR 500), for a
    business never below EUR 40 per late invoice (five business invoices of EUR 100: EUR 200); capped by the sum
    of the amounts the letters stated. Mixed bases: the sum of the lines.
    """
    if not lines:
        return None
    if len(lines) == 1:
        return lines[0]
    basis = lines[0].basis
    principal = sum((line.principal for line in lines), Decimal(0))
    invoices = sum(line.invoices for line in lines)
    business = all(line.business for line in lines)
    if all(line.basis is basis for line in lines):
        caps = [line.cap for line in lines]
        cap = sum((c for c in caps if c is not None), Decimal(0)) if all(c is not None for c in caps) else None
        return _line(basis, principal, invoices, business, any(line.vat > 0 for line in lines), cap)
    fee = sum((line.fee for line in lines), Decimal(0))
    vat = sum((line.vat for line in lines), Decimal(0))
    return CostLine(basis, principal, fee, vat, None, invoices, business)


def _line(
    basis: CostBasis, principal: Decimal, invoices: int, business: bool, charge_vat: bool, cap: Decimal | None
) -> CostLine:
    fee = claim_fee(principal, invoices, basis, business=business)
    vat = vat_on_costs(fee, charge_vat=charge_vat)
    if cap is not None and fee + vat > cap:
        # Scale down to the stated amount, keeping the fee/VAT split the letter implied.
        fee = to_cents(cap / (1 + VAT_RATE)) if vat else cap
        vat = cap - fee if vat else Decimal("0.00")
    return CostLine(basis, principal, fee, vat, cap, invoices, business)


def costs_summary(
    principals: Sequence[Decimal],
    consumer: bool,
    start: date | None,
    end: date | None,
    *,
    rates: RateTable,
    charge_vat: bool = False,
    currency: str = "EUR",
) -> dict[str, Any]:
    """What ``dunning costs --json`` prints: statutory costs and interest on a claim of one or more invoices.

    Costs as the engine charges them (a business at least EUR 40 per late invoice); interest over ``[start, end)``
    on the total at the consumer (6:119) or commercial (6:119a) rate, with every rate used; no dates, no interest.
    Raises ``InterestPeriodError`` for a period the rate table does not cover.
    """
    line = compute_costs(list(principals), CostBasis.WIK, business=not consumer, charge_vat=charge_vat)
    total = sum(principals, Decimal(0))
    interest = Decimal("0.00")
    used: list[dict[str, Any]] = []
    if start is not None and end is not None and end > start:
        kind = InterestKind.CONSUMER if consumer else InterestKind.COMMERCIAL
        result = statutory_interest(total, start, end, kind, rates)
        interest = result.amount
        used = [
            {
                "from": period.start.isoformat(),
                "to": period.end.isoformat(),
                "days": period.days,
                "percent": str(period.rate),
                "kind": kind.value,
                "rate_from": period.rate_from.isoformat(),
            }
            for period in result.periods
        ]
    return {
        "principal": str(to_cents(total)),
        "collection_costs": str(line.fee),
        "vat_on_costs": str(line.vat),
        "interest": str(to_cents(interest)),
        "currency": currency,
        "invoices": len(principals),
        "rates": used,
    }
