"""What a debtor may be charged on one invoice today: collection costs behind the legal gates, statutory interest.

The one place the amounts come from: the engine (``connector.rules.engine``, for a level that charges) and the
hand-over claim (``connector.debtors.handover``) both call these, so a reminder and the agency's dossier never
disagree. Applies the statute (``connector.rules.law``, ``connector.rules.interest``) to an ``InvoiceSnapshot``
and its ``Policy``: costs only on a EUR invoice whose debtor is in default; for a consumer only after a compliant
14-day letter and its term, never more than the letter stated; for a business as the policy's ``b2b_mode`` says;
always on the current open amount, so a part payment lowers them. Interest runs from the day after the due date.
"""

from __future__ import annotations

from datetime import date, timedelta

from connector.rules.interest import InterestKind, InterestResult, RateTable, statutory_interest
from connector.rules.law import CostBasis, CostLine, compute_costs, costs_chargeable_from, letter_defect
from connector.rules.policy import B2BCostMode, Policy
from connector.rules.snapshot import InvoiceSnapshot

ONE_DAY = timedelta(days=1)
B2B_BASIS = {B2BCostMode.WIK: CostBasis.WIK, B2BCostMode.EU_FIXED_40: CostBasis.EU_FIXED_40}


def chargeable_costs(snapshot: InvoiceSnapshot, policy: Policy, today: date) -> tuple[CostLine | None, str | None]:
    """Collection costs on the open amount today, or ``None`` and the reason none may be charged."""
    if not policy.costs.enabled:
        return None, "costs are switched off in the policy"
    if snapshot.currency != "EUR":
        return None, f"statutory costs are defined in EUR; the invoice is in {snapshot.currency}"
    if today <= snapshot.due_date:
        return None, "the debtor is not yet in default"
    reclaimable = policy.costs.vat_reclaimable
    if snapshot.consumer:
        letter = snapshot.fourteen_day_letter
        defect = letter_defect(letter, snapshot.due_date)
        if letter is None or defect is not None:
            return None, defect or "no 14-day letter evidence"
        chargeable = costs_chargeable_from(letter)
        if today < chargeable:
            return None, f"the 14-day term runs until {chargeable - ONE_DAY}"
        cap = letter.stated_costs
        return compute_costs(snapshot.open_amount, CostBasis.WIK, vat_reclaimable=reclaimable, cap=cap), None
    basis = B2B_BASIS.get(policy.costs.b2b_mode)
    if basis is None:
        return None, "the policy charges businesses no costs (costs.b2b_mode: none)"
    return compute_costs(snapshot.open_amount, basis, vat_reclaimable=reclaimable), None


def costs_to_state(snapshot: InvoiceSnapshot, policy: Policy) -> CostLine | None:
    """The costs a 14-day letter must state: the WIK scale on the open amount (with VAT when not reclaimable)."""
    if not policy.costs.enabled or snapshot.currency != "EUR":
        return None
    return compute_costs(snapshot.open_amount, CostBasis.WIK, vat_reclaimable=policy.costs.vat_reclaimable)


def costs_wait_until(snapshot: InvoiceSnapshot, today: date) -> date | None:
    """For a consumer whose compliant 14-day letter's term still runs: the first day costs may be charged."""
    letter = snapshot.fourteen_day_letter
    if not snapshot.consumer or letter is None or letter_defect(letter, snapshot.due_date) is not None:
        return None
    chargeable = costs_chargeable_from(letter)
    return chargeable if today < chargeable else None


def interest_kind(snapshot: InvoiceSnapshot, policy: Policy) -> InterestKind:
    """A consumer always gets the consumer rate (art. 6:119 BW); a business the policy's kind."""
    return InterestKind.CONSUMER if snapshot.consumer else policy.interest.kind


def interest_start(snapshot: InvoiceSnapshot) -> date:
    """Statutory interest runs from the day after the due date."""
    return snapshot.due_date + ONE_DAY


def interest_due(snapshot: InvoiceSnapshot, policy: Policy, today: date, rates: RateTable) -> InterestResult:
    """Statutory interest on the open amount from the day after the due date up to (not including) ``today``."""
    kind = interest_kind(snapshot, policy)
    return statutory_interest(snapshot.open_amount, interest_start(snapshot), today, kind, rates)
