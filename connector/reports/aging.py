"""Aging analysis (ouderdomsanalyse, docs/credit-management.md#aging): open amounts in buckets by days past the due
date.

Buckets: not due (due today or later), 1-30, 31-60, 61-90 and over 90 days overdue, where days overdue =
``today - due_date`` in calendar days. Only invoices with status ``open`` and a non-zero open amount count; the
open amount is taken as it is (a part payment lowers it, an overpaid invoice would show negative). Rows are per
administration and debtor, per administration, and over all administrations, always per currency (amounts in
different currencies are never added).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from connector.reports.inputs import ReceivableItem


class Bucket(str, enum.Enum):
    NOT_DUE = "not_due"
    DAYS_1_30 = "days_1_30"
    DAYS_31_60 = "days_31_60"
    DAYS_61_90 = "days_61_90"
    OVER_90 = "over_90"


def bucket_for(days_overdue: int) -> Bucket:
    if days_overdue <= 0:
        return Bucket.NOT_DUE
    if days_overdue <= 30:
        return Bucket.DAYS_1_30
    if days_overdue <= 60:
        return Bucket.DAYS_31_60
    if days_overdue <= 90:
        return Bucket.DAYS_61_90
    return Bucket.OVER_90


AGING_COLUMNS = (
    "scope",
    "administration",
    "debtor_ref",
    "debtor_name",
    "currency",
    "invoices",
    *(b.value for b in Bucket),
    "total",
)


@dataclass(frozen=True)
class AgingRow:
    """One line of the report. ``scope`` is ``debtor``, ``administration`` or ``total`` (all administrations)."""

    scope: str
    administration: str
    debtor_ref: str
    debtor_name: str
    currency: str
    invoices: int
    buckets: Mapping[Bucket, Decimal] = field(default_factory=dict)

    def amount(self, bucket: Bucket) -> Decimal:
        return self.buckets.get(bucket, Decimal(0))

    @property
    def total(self) -> Decimal:
        return sum((self.amount(b) for b in Bucket), Decimal(0))

    def to_record(self) -> dict[str, str]:
        record = {
            "scope": self.scope,
            "administration": self.administration,
            "debtor_ref": self.debtor_ref,
            "debtor_name": self.debtor_name,
            "currency": self.currency,
            "invoices": str(self.invoices),
        }
        record.update({b.value: str(self.amount(b)) for b in Bucket})
        record["total"] = str(self.total)
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, str]) -> AgingRow:
        row = cls(
            scope=record["scope"],
            administration=record["administration"],
            debtor_ref=record["debtor_ref"],
            debtor_name=record["debtor_name"],
            currency=record["currency"],
            invoices=int(record["invoices"]),
            buckets={b: Decimal(record[b.value]) for b in Bucket},
        )
        if row.total != Decimal(record["total"]):
            raise ValueError(f"total {record['total']} does not equal the sum of the buckets {row.total}")
        return row

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AgingRow):
            return NotImplemented
        return self.to_record() == other.to_record()

    def __hash__(self) -> int:
        return hash(tuple(self.to_record().items()))


@dataclass(frozen=True)
class AgingReport:
    today: date
    rows: tuple[AgingRow, ...]

    def scoped(self, scope: str) -> tuple[AgingRow, ...]:
        return tuple(r for r in self.rows if r.scope == scope)

    def records(self) -> list[dict[str, str]]:
        return [r.to_record() for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "aging",
            "today": self.today.isoformat(),
            "buckets": [b.value for b in Bucket],
            "rule": "days overdue = today - due date; not due <= 0 < 1-30 <= 30 < 31-60 <= 60 < 61-90 <= 90 < over 90",
            "rows": self.records(),
        }


def aging(items: Iterable[ReceivableItem], today: date) -> AgingReport:
    """Bucket every open item by days overdue on ``today``; rows for debtors, administrations and the total."""
    sums: dict[tuple[str, str, str, str], dict[Bucket, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
    names: dict[tuple[str, str], str] = {}
    for item in items:
        if not item.is_open:
            continue
        inv = item.invoice
        bucket = bucket_for((today - inv.due_date).days)
        if item.debtor_name:
            names.setdefault((item.administration, inv.debtor_ref), item.debtor_name)
        for key in (
            ("debtor", item.administration, inv.debtor_ref, inv.currency),
            ("administration", item.administration, "", inv.currency),
            ("total", "", "", inv.currency),
        ):
            sums[key][bucket] += inv.open_amount
            counts[key] += 1
    order = {"total": 0, "administration": 1, "debtor": 2}
    rows = tuple(
        AgingRow(
            scope=scope,
            administration=admin,
            debtor_ref=debtor,
            debtor_name=names.get((admin, debtor), "") if scope == "debtor" else "",
            currency=currency,
            invoices=counts[(scope, admin, debtor, currency)],
            buckets=dict(sums[(scope, admin, debtor, currency)]),
        )
        for scope, admin, debtor, currency in sorted(sums, key=lambda k: (order[k[0]], k[1], k[2], k[3]))
    )
    return AgingReport(today=today, rows=rows)
