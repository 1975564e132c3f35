"""The dunning work's own tables: runs and leases, payment arrangements with their installments, and contact
moments with a debtor.

Part of the schema in ``connector.storage.tables`` (same ``Base``, same conventions: every row carries ``org_id``,
money in integer minor units, datetimes in UTC); that module imports these classes, so callers keep
importing them from there. Only storage reads or writes them (``repos/runs.py``, ``repos/debtors.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from connector.storage.declarative import Base, _adm, _org


class DunningRun(Base):
    __tablename__ = "dunning_runs"
    __table_args__ = (UniqueConstraint("administration_id", "run_date", "dry_run"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    run_date: Mapped[date] = mapped_column(Date)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    decisions: Mapped[int] = mapped_column(Integer, default=0)


class Lease(Base):
    """Mutual exclusion across workers and machines (one sync per connection, one run per organisation)."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    org_id: Mapped[int] = _org()
    holder: Mapped[str] = mapped_column(String(200))
    until: Mapped[datetime]


class Arrangement(Base):
    """A payment arrangement (docs/credit-management.md#payment-arrangements) over one or more invoices of one debtor;
    pauses the ladder while kept."""

    __tablename__ = "arrangements"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    debtor_ref: Mapped[str] = mapped_column(String(100), index=True)
    invoice_refs: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|completed|broken|cancelled
    agreed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    closed_on: Mapped[date | None] = mapped_column(Date)


class Installment(Base):
    __tablename__ = "installments"
    __table_args__ = (UniqueConstraint("arrangement_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    arrangement_id: Mapped[int] = mapped_column(ForeignKey("arrangements.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1-based position in the schedule
    due_date: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    paid_on: Mapped[date | None] = mapped_column(Date)


class ContactMoment(Base):
    """One message, call, reply or note with a debtor (docs/credit-management.md#late-payment-reasons,
    docs/credit-management.md#the-debtor-file), with the late-payment reason if known."""

    __tablename__ = "contact_moments"
    __table_args__ = (Index("ix_contact_moments_debtor", "administration_id", "debtor_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    debtor_ref: Mapped[str] = mapped_column(String(100))
    invoice_ref: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(16))  # email|letter|phone|provider|note
    direction: Mapped[str] = mapped_column(String(8), default="out")  # out|in
    level: Mapped[int | None] = mapped_column(Integer)
    reason_code: Mapped[str | None] = mapped_column(String(32))  # connector.channels.phone.LateReason
    outcome: Mapped[str | None] = mapped_column(String(32))  # connector.channels.phone.CallOutcome
    note: Mapped[str | None] = mapped_column(Text)
    promise_date: Mapped[date | None] = mapped_column(Date)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
