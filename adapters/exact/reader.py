"""Reads the open receivables of one division: the ``sync/Cashflow/PaymentTerms`` Timestamp cursor, made invoice-exact.

Sits between ``provider.py`` and ``client.py``/``mapping.py``. The sync stream (1,000 rows a call, receivable
and payable lines mixed, docs/providers/exact.md#invoices) delivers payment terms, not invoices. Rows are grouped by
sales entry; a group whose term amounts add up to the entry's amount is complete (a split term's parts sum to the
whole), anything else is re-read in full from ``bulk/Cashflow/Receivables`` by ``EntryID`` (a few calls, batched).
Matched terms become ``Payment`` records keyed by the term's own ``ID``. The cursor is
``{"ts": <highest Timestamp processed>}``; each page carries it, so a crash resumes after the last committed page
without duplicates (Timestamp is a row version, unique and increasing).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.exact.client import ExactClient, any_of
from adapters.exact.mapping import (
    RECEIVABLE_FIELDS,
    TERM_FIELDS,
    group_terms,
    is_complete,
    map_entry,
    map_payments,
    terms_version,
)
from connector.errors import GarbageResponse
from connector.model import CreditNote, Invoice, Page, Payment
from connector.ports import KnownVersions

SYNC_ENDPOINT = "sync/Cashflow/PaymentTerms"
BULK_ENDPOINT = "bulk/Cashflow/Receivables"
LIST_ENDPOINT = "read/financial/ReceivablesList"
ENTRY_BATCH = 40  # EntryID filters per call (URL ≤ 6,000 chars after encoding, docs/providers/exact.md#requests)
# docs/providers/exact.md#incremental-sync: PaymentTerms is not supported by SyncTimestamp → start at Timestamp gt 1
FIRST_TIMESTAMP = 1


def load_cursor(cursor: str | None) -> int:
    if not cursor:
        return FIRST_TIMESTAMP
    try:
        return int(json.loads(cursor)["ts"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GarbageResponse(f"unreadable Exact receivables cursor: {cursor!r}") from exc


def dump_cursor(timestamp: int) -> str:
    return json.dumps({"ts": timestamp})


class ReceivablesReader:
    def __init__(self, client: ExactClient) -> None:
        self.client = client

    def _terms_for(self, division: str, entries: Sequence[str]) -> dict[str, list[Mapping[str, Any]]]:
        rows: list[dict[str, Any]] = []
        for start in range(0, len(entries), ENTRY_BATCH):
            rows += self.client.get_all(
                division,
                BULK_ENDPOINT,
                select=RECEIVABLE_FIELDS,
                filter=any_of("EntryID", entries[start : start + ENTRY_BATCH]),
            )
        return group_terms(rows)

    def _build(
        self,
        groups: Mapping[str, Sequence[Mapping[str, Any]]],
        known: KnownVersions | None,
        versions: Mapping[str, str] | None = None,
    ) -> tuple[list[Invoice], list[CreditNote], list[Payment]]:
        stored = known(list(groups)) if known is not None else {}
        invoices: list[Invoice] = []
        credits: list[CreditNote] = []
        payments: list[Payment] = []
        for ref, terms in groups.items():
            version = (versions or {}).get(ref) or terms_version(terms)
            if stored.get(ref) == version:
                continue  # unchanged since the core last stored it
            record = map_entry(terms, version)
            (credits if isinstance(record, CreditNote) else invoices).append(record)  # type: ignore[arg-type]
            payments += map_payments(terms)
        return invoices, credits, payments

    def iter_pages(self, division: str, cursor: str | None, known: KnownVersions) -> Iterator[Page[Invoice]]:
        since = load_cursor(cursor)
        for rows in self.client.iter_pages(
            division, SYNC_ENDPOINT, select=TERM_FIELDS, filter=f"Timestamp gt {since}L"
        ):
            if not rows:
                continue
            since = max([since, *(int(r.get("Timestamp") or 0) for r in rows)])  # payable rows advance it too
            groups = group_terms(rows)
            versions = {ref: terms_version(terms) for ref, terms in groups.items()}  # the stream's row versions
            partial = [ref for ref, terms in groups.items() if not is_complete(terms)]
            if partial:
                refreshed = self._terms_for(division, partial)
                for ref in partial:
                    groups[ref] = refreshed.get(ref, groups[ref])
            invoices, credits, payments = self._build(groups, known, versions)
            yield Page(records=invoices, cursor=dump_cursor(since), payments=payments, credit_notes=credits)

    def fetch(self, division: str, refs: Sequence[str]) -> tuple[list[Invoice], list[Payment]]:
        """Current state of these sales entries; entries without any receivable term are gone."""
        groups = self._terms_for(division, [r.lower() for r in refs])
        invoices, _, payments = self._build(groups, None)
        return invoices, payments

    def open_items_by_number(self, division: str) -> dict[str, Decimal]:
        """docs/providers/exact.md#invoices: ReceivablesList has one row per open term; summed per invoice number."""
        totals: dict[str, Decimal] = {}
        for row in self.client.get_all(
            division, LIST_ENDPOINT, select=("HID", "InvoiceNumber", "EntryNumber", "Amount")
        ):
            number = str(row.get("InvoiceNumber") or row.get("EntryNumber"))
            totals[number] = totals.get(number, Decimal(0)) + Decimal(str(row.get("Amount", 0)))
        return totals
