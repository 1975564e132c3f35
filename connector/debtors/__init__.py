"""Debtor management (P10-P19, L9): the services a credit controller uses on one debtor or invoice.

Sits below ``connector.services`` and ``connector.jobs`` (called by the CLI, the dashboard and the daily job) and
above the decide step (``connector.decide``), whose snapshots (``connector.snapshots``) it reuses; writes our own
dunning state (holds, promises, arrangements, contact moments, flags) that every ``InvoiceSnapshot`` is built
from, and queues write-backs for ``connector.outbox``. See the submodules: ``holds`` (P11, P13), ``flags`` (P2,
P14, P19, L9), ``arrangements`` (P12), ``contacts`` (P10, L2 receipt), ``checks`` (the daily follow-up),
``classify`` (risk class, P19) and ``handover`` (P16 dossier).
"""

from __future__ import annotations

from connector.debtors.arrangements import (
    ArrangementCheck,
    cancel_arrangement,
    check_arrangements,
    create_arrangement,
    list_arrangements,
    pay_installment,
    split_amount,
)
from connector.debtors.checks import DailyCheck, check_promises, daily_checks, expire_holds
from connector.debtors.classify import DebtorRisk, classify_debtors, risk_class
from connector.debtors.common import resolve_debtor, resolve_invoice
from connector.debtors.contacts import late_reasons, record_call_outcome, record_contact, record_letter_receipt
from connector.debtors.flags import (
    CollectionStatus,
    mark_invoice_uncollectible,
    set_collection_status,
    set_credit_limit,
    set_credit_stop,
    set_insolvent,
    set_segment,
)
from connector.debtors.handover import Claim, HandOverResult, claim, hand_over
from connector.debtors.holds import (
    HoldReason,
    hold_debtor,
    hold_invoice,
    promise_debtor,
    promise_invoice,
    release_debtor,
    release_invoice,
)

__all__ = [
    "ArrangementCheck",
    "Claim",
    "CollectionStatus",
    "DailyCheck",
    "DebtorRisk",
    "HandOverResult",
    "HoldReason",
    "cancel_arrangement",
    "check_arrangements",
    "check_promises",
    "claim",
    "classify_debtors",
    "create_arrangement",
    "daily_checks",
    "expire_holds",
    "hand_over",
    "hold_debtor",
    "hold_invoice",
    "late_reasons",
    "list_arrangements",
    "mark_invoice_uncollectible",
    "pay_installment",
    "promise_debtor",
    "promise_invoice",
    "record_call_outcome",
    "record_contact",
    "record_letter_receipt",
    "release_debtor",
    "release_invoice",
    "resolve_debtor",
    "resolve_invoice",
    "risk_class",
    "set_collection_status",
    "set_credit_stop",
    "set_credit_limit",
    "set_insolvent",
    "set_segment",
    "split_amount",
]
