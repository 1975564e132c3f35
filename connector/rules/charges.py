"""What a debtor may be charged on one invoice today: collection costs behind the legal gates, statutory interest.

The one place the amounts come from: the engine (``connector.rules.engine``, for a level that charges) and the
hand-over claim (``connector.debtors.handover``) both call these, so a reminder and the agency's dossier never
disagree. Applies the statute (``connector.rules.law``, ``connector.rules.interest``, ``connector.rules.letter``)
to an ``InvoiceSnapshot`` and its ``Policy``:

- Default (verzuim): a business is in default the day after the due date (commercial interest and the EUR 40 need
  no notice); so is a consumer whose payment term is a fatal term (art. 6:83 sub a BW). A consumer whose term is not
  fatal is in default only once our notice of default's term has passed (art. 6:82 BW); the policy says which
  applies unless the debtor's own record says otherwise.
- Costs: only on a EUR invoice whose debtor is in default; for a consumer only on a sound 14-day letter sent after
  the default, from the day after its term, never more than the letter stated; for a business as the policy's
  ``b2b_mode`` says, at least EUR 40 per late invoice; always on the current open amount (a part payment lowers them).
- Interest runs from the first day of the default.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from connector.rules.interest import InterestKind, InterestResult, RateTable, statutory_interest
from connector.rules.law import CostBasis, CostLine, compute_costs
from connector.rules.letter import LetterCheck, LetterState, check_letter, letter_dates
from connector.rules.policy import B2BCostMode, Policy
from connector.rules.snapshot import InvoiceSnapshot, LetterChannel

ONE_DAY = timedelta(days=1)
B2B_BASIS = {B2BCostMode.WIK: CostBasis.WIK, B2BCostMode.EU_FIXED_40: CostBasis.EU_FIXED_40}


def needs_notice(snapshot: InvoiceSnapshot, policy: Policy) -> bool:
    """A consumer whose payment term is not a fatal term: default only after a notice of default (art. 6:82 BW)."""
    if not snapshot.consumer:
        return False
    return policy.default_needs_notice if snapshot.default_needs_notice is None else snapshot.default_needs_notice


def default_since(snapshot: InvoiceSnapshot, policy: Policy) -> date | None:
    """The first day of the default, or None while a needed notice of default has not gone out."""
    if not needs_notice(snapshot, policy):
        return snapshot.due_date + ONE_DAY
    if snapshot.notice_of_default_on is None:
        return None
    notice = letter_dates(snapshot.notice_of_default_on, LetterChannel.EMAIL, term_days=policy.notice_term_days)
    return max(notice.costs_from, snapshot.due_date + ONE_DAY)


def letter_check(snapshot: InvoiceSnapshot, policy: Policy) -> LetterCheck:
    """The state of the consumer's 14-day letter on record (see ``connector.rules.letter.check_letter``)."""
    return check_letter(snapshot.fourteen_day_letter, default_since(snapshot, policy))


def chargeable_costs(snapshot: InvoiceSnapshot, policy: Policy, today: date) -> tuple[CostLine | None, str | None]:
    """Collection costs on the open amount today, or ``None`` and the reason none may be charged."""
    if not policy.costs.enabled:
        return None, "costs are switched off in the policy"
    if snapshot.currency != "EUR":
        return None, f"statutory costs are defined in EUR; the invoice is in {snapshot.currency}"
    default = default_since(snapshot, policy)
    if default is None or today < default:
        return None, "the debtor is not yet in default"
    vat = policy.costs.charge_vat
    if snapshot.consumer:
        check = letter_check(snapshot, policy)
        if check.state is not LetterState.SOUND or check.costs_from is None:
            return None, check.reason or "no sound 14-day letter"
        if today < check.costs_from:
            return None, f"the 14-day term runs until {check.costs_from - ONE_DAY}"
        letter = snapshot.fourteen_day_letter
        cap = letter.stated_costs if letter else None
        return compute_costs(snapshot.open_amount, CostBasis.WIK, charge_vat=vat, cap=cap), None
    basis = B2B_BASIS.get(policy.costs.b2b_mode)
    if basis is None:
        return None, "the policy charges businesses no costs (costs.b2b_mode: none)"
    return compute_costs(snapshot.open_amount, basis, business=True, charge_vat=vat), None


def costs_to_state(snapshot: InvoiceSnapshot, policy: Policy) -> CostLine | None:
    """The costs a 14-day letter must state: the scale on the open amount (with VAT only when it applies)."""
    if not policy.costs.enabled or snapshot.currency != "EUR":
        return None
    return compute_costs(snapshot.open_amount, CostBasis.WIK, charge_vat=policy.costs.charge_vat)


def costs_wait_until(snapshot: InvoiceSnapshot, policy: Policy, today: date) -> date | None:
    """For a consumer whose sound 14-day letter's term still runs: the first day costs may be charged."""
    if not snapshot.consumer:
        return None
    check = letter_check(snapshot, policy)
    if check.state is not LetterState.SOUND or check.costs_from is None:
        return None
    return check.costs_from if today < check.costs_from else None


def interest_kind(snapshot: InvoiceSnapshot, policy: Policy) -> InterestKind:
    """A consumer always gets the consumer rate (art. 6:119 BW); a business the policy's kind."""
    return InterestKind.CONSUMER if snapshot.consumer else policy.interest.kind


def interest_start(snapshot: InvoiceSnapshot, policy: Policy) -> date | None:
    """Statutory interest runs from the first day of the default; None while the debtor is not in default."""
    return default_since(snapshot, policy)


def interest_due(snapshot: InvoiceSnapshot, policy: Policy, today: date, rates: RateTable) -> InterestResult:
    """Statutory interest on the open amount from the first day of the default up to (not including) ``today``."""
    kind = interest_kind(snapshot, policy)
    start = interest_start(snapshot, policy)
    if start is None:
        return InterestResult(amount=Decimal("0.00"), periods=())
    return statutory_interest(snapshot.open_amount, start, today, kind, rates)
