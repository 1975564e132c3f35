"""Pure credit-management rules: policies, the evaluation engine and Dutch/EU legal math.

Sits between storage and the outbox: ``connector.decide`` builds ``InvoiceSnapshot``s, picks a ``Policy`` per
invoice (``select_policy``), calls ``evaluate`` and writes the ``Message``s into the outbox. The amounts a debtor
is charged (costs, interest) come from ``charges`` for the engine and the hand-over claim alike; the dates of the
14-day letter from ``letter`` (on the legal calendar of ``calendar``) for everyone. Imports only the
stdlib, pydantic, yaml, ``connector.model`` and ``connector.errors``; the only I/O is reading YAML from a path the
caller gives.
"""

from __future__ import annotations

from connector.rules.charges import chargeable_costs, interest_due
from connector.rules.decisions import Decision, EvaluationResult, Message, NonDecision, Reason, Why
from connector.rules.engine import RunContext, RunRefused, evaluate, evaluate_invoice, level_date
from connector.rules.grouping import group_by_debtor, idempotency_key
from connector.rules.interest import InterestKind, InterestPeriodError, RateTable, load_rate_table, statutory_interest
from connector.rules.law import (
    CostBasis,
    CostLine,
    compute_costs,
    costs_summary,
    vat_applies,
    vat_on_costs,
    wik_fee,
)
from connector.rules.letter import LetterCheck, LetterDates, LetterState, check_letter, letter_dates
from connector.rules.loader import load_policies, load_policy, select_policy
from connector.rules.policy import Action, CatchUp, Channel, ChaseOwner, Computation, Level, Policy
from connector.rules.snapshot import (
    Arrangement,
    FourteenDayLetterEvidence,
    Installment,
    InvoiceSnapshot,
    LetterChannel,
)

__all__ = [
    "Action",
    "Arrangement",
    "CatchUp",
    "Channel",
    "ChaseOwner",
    "Computation",
    "CostBasis",
    "CostLine",
    "Decision",
    "EvaluationResult",
    "FourteenDayLetterEvidence",
    "Installment",
    "InterestKind",
    "InterestPeriodError",
    "InvoiceSnapshot",
    "LetterChannel",
    "LetterCheck",
    "LetterDates",
    "LetterState",
    "Level",
    "Message",
    "NonDecision",
    "Policy",
    "RateTable",
    "Reason",
    "RunContext",
    "RunRefused",
    "Why",
    "chargeable_costs",
    "check_letter",
    "compute_costs",
    "costs_summary",
    "evaluate",
    "evaluate_invoice",
    "group_by_debtor",
    "idempotency_key",
    "interest_due",
    "letter_dates",
    "level_date",
    "load_policies",
    "load_policy",
    "load_rate_table",
    "select_policy",
    "statutory_interest",
    "vat_applies",
    "vat_on_costs",
    "wik_fee",
]
