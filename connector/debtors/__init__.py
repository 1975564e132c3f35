"""Debtor management (docs/credit-management.md#practices, docs/law.md#insolvency): the services a credit controller
uses on one debtor or invoice.

Sits below ``connector.services`` and ``connector.jobs`` (called by the CLI, the dashboard and the daily job) and
above the decide step (``connector.decide``), whose snapshots (``connector.snapshots``) it reuses; writes our own
dunning state (holds, promises, arrangements, contact moments, flags) that every ``InvoiceSnapshot`` is built
from, and queues write-backs for ``connector.outbox``. See the submodules (each cites the
section of docs/credit-management.md or docs/law.md it implements): ``holds``, ``flags``, ``arrangements``,
``contacts`` (and letter receipt), ``checks`` (the daily follow-up), ``classify`` (risk class), ``handover``
(the dossier), ``letters`` (the post queue: print, mark posted),
``privacy`` (a debtor's export and erasure) and ``retention`` (the daily purges).
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
    set_default_start,
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
from connector.debtors.letters import PostLetter, letters_to_post, mark_posted, posted_letters, print_letters
from connector.debtors.privacy import ExportResult, erase_debtor, export_debtor
from connector.debtors.retention import RETENTION, RetentionRule, run_retention

__all__ = [
    "ArrangementCheck",
    "Claim",
    "CollectionStatus",
    "DailyCheck",
    "RETENTION",
    "DebtorRisk",
    "ExportResult",
    "HandOverResult",
    "HoldReason",
    "PostLetter",
    "RetentionRule",
    "cancel_arrangement",
    "check_arrangements",
    "check_promises",
    "claim",
    "classify_debtors",
    "create_arrangement",
    "daily_checks",
    "erase_debtor",
    "expire_holds",
    "export_debtor",
    "hand_over",
    "hold_debtor",
    "hold_invoice",
    "late_reasons",
    "letters_to_post",
    "list_arrangements",
    "mark_invoice_uncollectible",
    "mark_posted",
    "pay_installment",
    "posted_letters",
    "print_letters",
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
    "run_retention",
    "set_collection_status",
    "set_credit_stop",
    "set_credit_limit",
    "set_default_start",
    "set_insolvent",
    "set_segment",
    "split_amount",
]
