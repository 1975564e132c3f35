"""The credit controller's daily work: the worklist, its actions, the debtor and invoice pages and search.

Sits above ``connector.services``, ``connector.queries`` and ``connector.debtors`` and below the dashboard, the
API and the CLI, which call only what is exported here (and ``connector.debtors`` for the inline actions: calls,
promises, holds, arrangements, credit stops). ``items`` reads the worklist (filters, keyset paging, totals);
``actions`` approves, skips and snoozes items one by one or in bulk; ``debtor`` and ``invoice`` build the two
pages (timeline, next step and why); ``preview`` renders a step's message as it will go out; ``search`` finds
invoices and debtors. See docs/worklist.md.
"""

from __future__ import annotations

from connector.worklist.actions import (
    BulkResult,
    acting_as,
    approve,
    approve_many,
    skip,
    skip_many,
    snooze,
    snooze_many,
)
from connector.worklist.debtor import DebtorInvoice, DebtorView, TimelineEntry, debtor_view
from connector.worklist.invoice import HistoryLine, InvoiceView, Outcome, invoice_view
from connector.worklist.items import (
    OPEN_STATUSES,
    TABS,
    InvoiceLink,
    WorklistPage,
    WorklistQuery,
    WorklistRow,
    worklist_page,
)
from connector.worklist.preview import MessagePreview, preview
from connector.worklist.search import SearchHit, search

__all__ = [
    "OPEN_STATUSES",
    "TABS",
    "BulkResult",
    "DebtorInvoice",
    "DebtorView",
    "HistoryLine",
    "InvoiceLink",
    "InvoiceView",
    "MessagePreview",
    "Outcome",
    "SearchHit",
    "TimelineEntry",
    "WorklistPage",
    "WorklistQuery",
    "WorklistRow",
    "acting_as",
    "approve",
    "approve_many",
    "debtor_view",
    "invoice_view",
    "preview",
    "search",
    "skip",
    "skip_many",
    "snooze",
    "snooze_many",
    "worklist_page",
]
