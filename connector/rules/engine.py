"""The rules engine: snapshots + policy + a run date → decisions and non-decisions, without side effects.

Sits between storage and the outbox: ``connector.decide`` loads ``InvoiceSnapshot``s, calls ``evaluate`` and
writes the resulting messages into the outbox. Rules (OCA ``account_credit_control`` semantics, plus holds,
promises, arrangements and the legal gates; the amounts come from ``connector.rules.charges``): at most one level
per invoice per run, never a skipped level, nothing for closed/held/tolerance invoices, same-day idempotent, the
top level terminal, back-dated runs refused. ``catch_up: skip`` records a passed intermediate level as reached
without a message when the level after it is already due too (never the 14-day letter, an approval level or the
top level); it still moves one level per run.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connector.errors import ConfigurationError, ConnectorError, PolicyError
from connector.model import InvoiceStatus
from connector.rules.charges import (
    chargeable_costs,
    costs_to_state,
    costs_wait_until,
    default_since,
    interest_due,
    interest_kind,
    interest_start,
    letter_check,
    needs_notice,
)
from connector.rules.decisions import Decision, EvaluationResult, NonDecision, Reason, Why
from connector.rules.grouping import group_by_debtor
from connector.rules.interest import RateTable
from connector.rules.law import CostLine
from connector.rules.letter import LetterState
from connector.rules.policy import Action, CatchUp, ChaseOwner, Computation, Level, Policy
from connector.rules.snapshot import InvoiceSnapshot

_CLOSED = {
    InvoiceStatus.DRAFT: Reason.DRAFT,
    InvoiceStatus.PAID: Reason.PAID,
    InvoiceStatus.CREDITED: Reason.CREDITED,
    InvoiceStatus.VOIDED: Reason.VOIDED,
    InvoiceStatus.UNCOLLECTIBLE: Reason.UNCOLLECTIBLE,
}
_NEVER_SKIPPED = {Action.FOURTEEN_DAY_LETTER, Action.HAND_OVER}


class RunRefused(ConnectorError):
    """A run dated before the last run (OCA ``_check_run_date``): runs are auditable and never back-dated."""


@dataclass(frozen=True)
class RunContext:
    connection_id: str = ""  # part of every idempotency key
    rates: RateTable | None = None  # required as soon as a level charges interest


Outcome = Decision | NonDecision


def evaluate(
    snapshots: Iterable[InvoiceSnapshot],
    policy_for: Callable[[InvoiceSnapshot], Policy],
    today: date,
    *,
    last_run_date: date | None = None,
    run_context: RunContext | None = None,
) -> EvaluationResult:
    """Evaluate every snapshot and group the level moves into one message per debtor, level and currency.

    ``policy_for`` is usually ``lambda s: select_policy(s, policies)``; a ``PolicyError`` from it becomes a
    ``NonDecision`` (``no_policy``). Raises ``RunRefused`` when ``today`` is before ``last_run_date``.
    """
    if last_run_date is not None and today < last_run_date:
        raise RunRefused(f"run date {today.isoformat()} is before the last run {last_run_date.isoformat()}")
    context = run_context or RunContext()
    moves: list[Decision] = []
    skipped: list[Decision] = []
    non_decisions: list[NonDecision] = []
    for snapshot in snapshots:
        try:
            policy = policy_for(snapshot)
        except PolicyError as exc:
            non_decisions.append(_non(snapshot, Reason.NO_POLICY, str(exc), "policy.select", {}))
            continue
        outcome = evaluate_invoice(snapshot, policy, today, rates=context.rates)
        if isinstance(outcome, NonDecision):
            non_decisions.append(outcome)
        elif outcome.skipped:
            skipped.append(outcome)
        else:
            moves.append(outcome)
    messages, held_back = group_by_debtor(moves, today, connection_id=context.connection_id)
    return EvaluationResult(
        run_date=today,
        messages=tuple(messages),
        skipped=tuple(skipped),
        non_decisions=tuple(non_decisions + held_back),
    )


def evaluate_invoice(
    snapshot: InvoiceSnapshot, policy: Policy, today: date, *, rates: RateTable | None = None
) -> Outcome:
    """The one next step for one invoice today, or the reason there is none."""
    held = _stop_reason(snapshot, policy, today)
    if held is not None:
        return held
    follow_up = _letter_follow_up(snapshot, policy, today)
    if follow_up is not None:
        return follow_up
    index = _next_index(snapshot, policy)
    if index is None:
        return _non(snapshot, Reason.TERMINAL, "top level reached; a person decides", "ladder.terminal", {})
    level = policy.levels[index]
    previous_on = snapshot.level_reached_on or snapshot.due_date
    level_on = level_date(level, snapshot.due_date, previous_on)
    inputs = {"level": str(level.level), "level_date": level_on.isoformat(), "today": today.isoformat()}
    if level_on > today:
        return _non(
            snapshot,
            Reason.NOT_DUE,
            f"level {level.level} falls on {level_on}",
            "ladder.not_due",
            inputs,
            next_date=level_on,
        )
    if level.action is Action.FOURTEEN_DAY_LETTER and snapshot.consumer:
        default = default_since(snapshot, policy)
        if default is None or today < default:
            inputs["default_since"] = str(default)
            detail = (
                f"the debtor is in default from {default}; the 14-day letter may only follow the default"
                if default
                else "the payment term is not a fatal term: the debtor is in default only after a notice of default "
                "and its term"
            )
            return _non(snapshot, Reason.NOT_IN_DEFAULT, detail, "law.not_in_default", inputs, next_date=default)
    wait = costs_wait_until(snapshot, policy, today) if level.charge_costs and policy.costs.enabled else None
    if wait is not None:
        inputs["costs_chargeable_from"] = wait.isoformat()
        return _non(
            snapshot,
            Reason.FOURTEEN_DAY_TERM,
            f"costs chargeable from {wait}",
            "law.fourteen_day_term",
            inputs,
            next_date=wait,
        )
    provider_on = snapshot.provider_reminders_active
    if provider_on and policy.who_chases_when_provider_reminders_on is ChaseOwner.PROVIDER:
        return _non(
            snapshot,
            Reason.PROVIDER_CHASES,
            "the accounting package's own reminders chase this debtor",
            "guard.double_chase",
            inputs,
        )
    if level.days < 0 and today > snapshot.due_date:
        # a "due soon" notice (docs/credit-management.md#reminders-before-the-due-date) makes no sense once the invoice
        # is overdue: record the level, send nothing
        inputs["lapsed"] = f"pre-due level and the due date {snapshot.due_date} has passed"
        return _decision(snapshot, policy, level, today, inputs, skipped=True, rule="ladder.pre_due_lapsed")
    if _catch_up_skips(policy, index, snapshot.due_date, today):
        inputs["catch_up"] = "skip"
        return _decision(snapshot, policy, level, today, inputs, skipped=True, rule="ladder.catch_up_skip")
    return _decision(
        snapshot, policy, level, today, inputs, rates=rates, rule="ladder.next_level", needs_provider_pause=provider_on
    )


def level_date(level: Level, due_date: date, previous_reached_on: date) -> date:
    """When ``level`` falls due (OCA computation modes)."""
    match level.computation:
        case Computation.NET_DAYS:
            return due_date + timedelta(days=level.days)
        case Computation.END_OF_MONTH:
            day = due_date + timedelta(days=level.days)
            return day.replace(day=calendar.monthrange(day.year, day.month)[1])
        case Computation.PREVIOUS_DATE:
            return previous_reached_on + timedelta(days=level.days)


def _stop_reason(snapshot: InvoiceSnapshot, policy: Policy, today: date) -> NonDecision | None:
    """Closed, held or below tolerance: the reason nothing happens, in a fixed order of precedence."""
    if snapshot.status in _CLOSED:
        return _non(snapshot, _CLOSED[snapshot.status], snapshot.status.value, "state.closed", {})
    if snapshot.open_amount <= 0:
        return _non(snapshot, Reason.PAID, "nothing open", "state.closed", {"open_amount": str(snapshot.open_amount)})
    flags = (
        (snapshot.uncollectible, Reason.UNCOLLECTIBLE, "written off"),
        (snapshot.handed_over, Reason.HANDED_OVER, "handed over for external collection"),
        (snapshot.insolvent, Reason.INSOLVENT, "legal hold: insolvency; file the claim with the trustee"),
        (snapshot.disputed, Reason.DISPUTED, "disputed; a person triages it"),
    )
    for flag, reason, detail in flags:
        if flag:
            return _non(snapshot, reason, detail, f"hold.{reason.value}", {})
    if snapshot.on_hold and (snapshot.hold_until is None or today <= snapshot.hold_until):
        nxt = snapshot.hold_until + timedelta(days=1) if snapshot.hold_until else None
        return _non(
            snapshot,
            Reason.ON_HOLD,
            snapshot.hold_reason or "on hold",
            "hold.on_hold",
            {"hold_until": str(snapshot.hold_until)},
            next_date=nxt,
        )
    if snapshot.paused_at_provider and not snapshot.provider_pause_ours:
        return _non(
            snapshot,
            Reason.PAUSED_AT_PROVIDER,
            "reminders paused in the accounting package",
            "hold.paused_at_provider",
            {},
        )
    promise = snapshot.promise_to_pay_date
    if promise is not None and today <= promise:
        return _non(
            snapshot,
            Reason.PROMISE_PENDING,
            f"promised to pay by {promise}",
            "hold.promise",
            {"promise_to_pay_date": promise.isoformat()},
            next_date=promise + timedelta(days=1),
        )
    plan = snapshot.arrangement
    if plan is not None and not plan.completed() and plan.first_missed(today, policy.arrangement_grace_days) is None:
        return _non(
            snapshot,
            Reason.ARRANGEMENT_ACTIVE,
            "payment arrangement is being kept",
            "hold.arrangement",
            {"grace_days": str(policy.arrangement_grace_days)},
        )
    tolerance = policy.min_open_amount.amount
    if snapshot.open_amount <= tolerance:
        return _non(
            snapshot,
            Reason.BELOW_TOLERANCE,
            f"open {snapshot.open_amount} <= tolerance {tolerance}",
            "state.tolerance",
            {"open_amount": str(snapshot.open_amount), "tolerance": str(tolerance)},
        )
    if snapshot.level_reached_on == today:
        return _non(
            snapshot,
            Reason.ALREADY_TODAY,
            f"level {snapshot.current_level} reached today",
            "ladder.idempotent",
            {"current_level": str(snapshot.current_level)},
        )
    return None


def _letter_follow_up(snapshot: InvoiceSnapshot, policy: Policy, today: date) -> Outcome | None:
    """Between a consumer's 14-day letter and the level that charges costs: wait while the letter waits for the
    post; propose a new letter (a person approves it in the worklist) when the one on record is defective."""
    if not snapshot.consumer or not policy.costs.enabled or snapshot.current_level is None:
        return None
    letter_level = next((lv for lv in policy.levels if lv.action is Action.FOURTEEN_DAY_LETTER), None)
    index = _next_index(snapshot, policy)
    if letter_level is None or snapshot.current_level != letter_level.level or index is None:
        return None
    if not policy.levels[index].charge_costs:
        return None
    check = letter_check(snapshot, policy)
    inputs = {"letter": check.state.value, "level": str(letter_level.level), "today": today.isoformat()}
    if check.state is LetterState.NOT_POSTED:
        return _non(snapshot, Reason.LETTER_NOT_POSTED, check.reason or "", "law.letter_not_posted", inputs)
    letter = snapshot.fourteen_day_letter
    if check.state is not LetterState.DEFECTIVE or letter is None:
        return None
    inputs["defect"] = check.reason or ""
    proposed_on = snapshot.level_reached_on
    if letter.sent_on is not None and proposed_on is not None and proposed_on > letter.sent_on:
        detail = f"a new 14-day letter was proposed on {proposed_on}: approve it in the worklist"
        return _non(snapshot, Reason.NEW_LETTER_PROPOSED, detail, "law.new_letter_proposed", inputs)
    return _decision(snapshot, policy, letter_level, today, inputs, rule="law.new_letter", approval=True)


def _next_index(snapshot: InvoiceSnapshot, policy: Policy) -> int | None:
    """The level after the current one (the first level when none was reached); None at the top."""
    if snapshot.current_level is None:
        return 0
    for index, level in enumerate(policy.levels):
        if level.level > snapshot.current_level:
            return index
    return None


def _catch_up_skips(policy: Policy, index: int, due_date: date, today: date) -> bool:
    """catch_up=skip: the next level is skippable and the level after it is already due as well."""
    if policy.catch_up is not CatchUp.SKIP or index + 1 >= len(policy.levels):
        return False
    level = policy.levels[index]
    if level.action in _NEVER_SKIPPED or level.requires_approval or level.terminal or level.notice_of_default:
        return False
    return level_date(policy.levels[index + 1], due_date, today) <= today


def _decision(
    snapshot: InvoiceSnapshot,
    policy: Policy,
    level: Level,
    today: date,
    inputs: dict[str, str],
    *,
    rule: str,
    skipped: bool = False,
    rates: RateTable | None = None,
    needs_provider_pause: bool = False,
    approval: bool = False,
) -> Decision:
    costs: CostLine | None = None
    withheld: str | None = None
    letter_costs: CostLine | None = None
    interest: Decimal | None = None
    unverified = False
    if not skipped and level.charge_costs and policy.costs.enabled:
        costs, withheld = chargeable_costs(snapshot, policy, today)
    if not skipped and level.action is Action.FOURTEEN_DAY_LETTER:
        letter_costs = costs_to_state(snapshot, policy)  # the caller records what the letter stated as evidence
    if not skipped and level.charge_interest and policy.interest.enabled:
        if rates is None:
            raise ConfigurationError("a level charges interest but no statutory interest table was loaded")
        result = interest_due(snapshot, policy, today, rates)
        interest, unverified = result.amount, result.uses_unverified_rate
        kind, start = interest_kind(snapshot, policy), interest_start(snapshot, policy)
        inputs = {**inputs, "interest_kind": kind.value, "interest_start": str(start)}
    default = default_since(snapshot, policy)
    inputs = {**inputs, "default_since": str(default)}
    return Decision(
        invoice_ref=snapshot.invoice_ref,
        debtor_ref=snapshot.debtor_ref,
        administration_ref=snapshot.administration_ref,
        currency=snapshot.currency,
        policy_name=policy.name,
        from_level=snapshot.current_level,
        level=level.level,
        level_name=level.name,
        action=level.action,
        channel=level.channel,
        template=level.template,
        open_amount=snapshot.open_amount,
        skipped=skipped,
        costs=costs,
        costs_withheld=withheld,
        letter_costs=letter_costs,
        interest=interest,
        interest_uses_unverified_rate=unverified,
        requires_approval=level.requires_approval or approval,
        needs_provider_pause=needs_provider_pause and not skipped,
        default_since=default,
        notice_term_days=policy.notice_term_days
        if level.notice_of_default and needs_notice(snapshot, policy)
        else None,
        email_may_replace_letter=level.email_may_replace_letter,
        terminal=level.level == policy.levels[-1].level,
        min_days_between_messages=policy.min_days_between_messages,
        debtor_last_message_on=snapshot.last_message_to_debtor_on,
        why=_why(snapshot, rule, {**inputs, "policy": policy.name, "open_amount": str(snapshot.open_amount)}),
    )


def _why(snapshot: InvoiceSnapshot, rule: str, inputs: dict[str, str]) -> Why:
    base = {
        "due_date": snapshot.due_date.isoformat(),
        "status": snapshot.status.value,
        "current_level": str(snapshot.current_level),
        "level_reached_on": str(snapshot.level_reached_on),
        "segment": snapshot.legal_segment.value,
    }
    return Why(rule=rule, inputs={**base, **inputs}, synced_at=snapshot.synced_at)


def _non(
    snapshot: InvoiceSnapshot,
    reason: Reason,
    detail: str,
    rule: str,
    inputs: dict[str, str],
    *,
    next_date: date | None = None,
) -> NonDecision:
    return NonDecision(
        invoice_ref=snapshot.invoice_ref,
        debtor_ref=snapshot.debtor_ref,
        administration_ref=snapshot.administration_ref,
        reason=reason,
        detail=detail,
        next_date=next_date,
        why=_why(snapshot, rule, inputs),
    )
