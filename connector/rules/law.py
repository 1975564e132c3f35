"""Dutch and EU collection-cost law as pure functions: WIK scale (L1), EU EUR 40 (L3), VAT (L4), 14-day letter (L2).

The statute, with no policy and no invoice in it: ``connector.rules.charges`` applies it to an invoice snapshot
for the engine and the hand-over claim; ``dunning costs --json`` prints ``costs_summary``. Every amount is
``Decimal``; rounding happens once, to the cent, half up (our documented convention; the Besluit prescribes none).
Statutory interest lives in ``connector.rules.interest``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from connector.rules.interest import InterestKind, RateTable, statutory_interest
from connector.rules.snapshot import FourteenDayLetterEvidence, LetterChannel

CENT = Decimal("0.01")
WIK_MINIMUM = Decimal("40")
WIK_MAXIMUM = Decimal("6775")
EU_FIXED_FEE = Decimal("40")
VAT_RATE = Decimal("0.21")
# L1: Besluit vergoeding voor buitengerechtelijke incassokosten art. 2 — (upper bound of the bracket, rate).
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
    """L1: collection costs on ``principal`` (incl. invoice VAT): brackets summed exactly, min 40, max 6,775.

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


def vat_on_costs(fee: Decimal, *, vat_reclaimable: bool) -> Decimal:
    """L4: 21 % on the fee only when the creditor cannot reclaim VAT (also on the EUR 40 minimum)."""
    if vat_reclaimable or fee <= 0:
        return Decimal("0.00")
    return to_cents(fee * VAT_RATE)


class CostBasis(str, enum.Enum):
    WIK = "wik"
    EU_FIXED_40 = "eu_fixed_40"


@dataclass(frozen=True)
class CostLine:
    """One computed cost line with every input (L6: store the inputs next to the result)."""

    basis: CostBasis
    principal: Decimal
    fee: Decimal
    vat: Decimal
    cap: Decimal | None = None  # B2C: the amount the 14-day letter stated; never charge more

    @property
    def total(self) -> Decimal:
        return self.fee + self.vat


def compute_costs(
    principal: Decimal, basis: CostBasis, *, vat_reclaimable: bool, cap: Decimal | None = None
) -> CostLine:
    """Fee + VAT on ``principal``; ``cap`` (incl. VAT) limits the total to what a 14-day letter stated."""
    fee = wik_fee(principal) if basis is CostBasis.WIK else (EU_FIXED_FEE if principal > 0 else Decimal("0.00"))
    vat = vat_on_costs(fee, vat_reclaimable=vat_reclaimable)
    if cap is not None and fee + vat > cap:
        # Scale down to the stated amount, keeping the fee/VAT split the letter implied.
        fee = to_cents(cap / (1 + VAT_RATE)) if vat else cap
        vat = cap - fee if vat else Decimal("0.00")
    return CostLine(basis=basis, principal=principal, fee=fee, vat=vat, cap=cap)


def combine_costs(lines: list[CostLine]) -> CostLine | None:
    """Costs for several invoices of one debtor claimed together in one message.

    WIK is computed on the total principal (L1: 5 × EUR 100 → EUR 75, not 5 × EUR 40; court practice, unverified),
    capped by the sum of any stated letter amounts; the EU EUR 40 applies per invoice. Mixed bases: the sum.
    """
    if not lines:
        return None
    if len(lines) == 1:
        return lines[0]
    basis = lines[0].basis
    if basis is CostBasis.WIK and all(line.basis is CostBasis.WIK for line in lines):
        vat_reclaimable = all(line.vat == 0 for line in lines)
        caps = [line.cap for line in lines]
        cap = sum((c for c in caps if c is not None), Decimal(0)) if all(c is not None for c in caps) else None
        principal = sum((line.principal for line in lines), Decimal(0))
        return compute_costs(principal, CostBasis.WIK, vat_reclaimable=vat_reclaimable, cap=cap)
    return CostLine(
        basis=basis,
        principal=sum((line.principal for line in lines), Decimal(0)),
        fee=sum((line.fee for line in lines), Decimal(0)),
        vat=sum((line.vat for line in lines), Decimal(0)),
    )


# --- 14-day letter (L2) -------------------------------------------------------------------------------------


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = h + m - 7 * ((a + 11 * h + 22 * m) // 451) + 114
    return date(year, n // 31, n % 31 + 1)


def dutch_public_holidays(year: int) -> frozenset[date]:
    """General holidays of the Algemene termijnenwet art. 3 (incl. 5 May every year; unverified for postal use)."""
    easter = easter_sunday(year)
    kings_day = date(year, 4, 27) if date(year, 4, 27).weekday() != 6 else date(year, 4, 26)
    return frozenset(
        {
            date(year, 1, 1),
            easter,
            easter + timedelta(days=1),
            kings_day,
            date(year, 5, 5),
            easter + timedelta(days=39),  # Ascension
            easter + timedelta(days=49),  # Whit Sunday
            easter + timedelta(days=50),  # Whit Monday
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def _is_postal_delivery_day(day: date) -> bool:
    # L2 practice: Sundays, Mondays and public holidays do not count.
    return day.weekday() not in (6, 0) and day not in dutch_public_holidays(day.year)


def presumed_receipt(sent_on: date, channel: LetterChannel) -> date:
    """When the letter counts as received: e-mail the same day; post on the 2nd delivery day after posting (L2)."""
    if channel is LetterChannel.EMAIL:
        return sent_on
    day, counted = sent_on, 0
    while counted < 2:
        day += timedelta(days=1)
        if _is_postal_delivery_day(day):
            counted += 1
    return day


def receipt_date(letter: FourteenDayLetterEvidence) -> date:
    return letter.received_on or presumed_receipt(letter.sent_on, letter.channel)


def costs_chargeable_from(letter: FourteenDayLetterEvidence) -> date:
    """First day costs may be charged: the term runs 14 days from the day after receipt, costs from day 15."""
    return receipt_date(letter) + timedelta(days=15)


def letter_defect(letter: FourteenDayLetterEvidence | None, due_date: date) -> str | None:
    """Why this letter cannot support a consumer cost line, or None when it can (L2, L6)."""
    if letter is None:
        return "no 14-day letter evidence"
    if letter.sent_on <= due_date:
        return "14-day letter sent before the debtor was in default"
    if letter.stated_costs is None:
        return "14-day letter does not state the cost amount"
    if not letter.term_from_receipt:
        return "14-day letter counts the term from its own date, not from the day after receipt"
    return None


def costs_summary(
    principal: Decimal,
    consumer: bool,
    start: date | None,
    end: date | None,
    *,
    rates: RateTable,
    vat_reclaimable: bool = True,
    currency: str = "EUR",
) -> dict[str, str]:
    """What ``dunning costs --json`` prints: statutory costs (WIK) and statutory interest on ``principal``.

    Interest runs over ``[start, end)`` at the consumer (6:119) or commercial (6:119a) rate; no dates, no interest.
    """
    fee = wik_fee(principal)
    interest = Decimal("0.00")
    if start is not None and end is not None and end > start:
        kind = InterestKind.CONSUMER if consumer else InterestKind.COMMERCIAL
        interest = statutory_interest(principal, start, end, kind, rates).amount
    return {
        "principal": str(to_cents(principal)),
        "collection_costs": str(fee),
        "vat_on_costs": str(vat_on_costs(fee, vat_reclaimable=vat_reclaimable)),
        "interest": str(to_cents(interest)),
        "currency": currency,
    }
