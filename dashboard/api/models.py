"""The API's request and response models: the single source of both validation and the OpenAPI schemas.

Amounts are decimal strings next to their ISO currency, never numbers (docs/api.md#money); dates are ISO
``YYYY-MM-DD``, instants ISO 8601 in UTC. Lists are ``Page`` subclasses with ``items`` and ``next_cursor``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from dashboard.api.paging import ListQuery, Page

Amount = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", examples=["1234.50"], description="decimal string")]
Currency = Annotated[str, Field(min_length=3, max_length=3, examples=["EUR"])]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class Administration(Out):
    id: int
    provider: str
    name: str
    safe_mode: bool
    provider_reminders_active: bool
    invoices: int
    open_invoices: int
    open_amount: Amount
    currency: Currency
    connection_status: str


class AdministrationList(Page):
    items: list[Administration]


class Debtor(Out):
    id: int
    administration_id: int
    administration: str
    name: str
    reference: str
    customer_number: str | None
    segment: str | None
    currency: Currency
    open_invoices: int
    open_amount: Amount
    overdue_invoices: int
    overdue_amount: Amount
    oldest_due_date: date | None
    risk_class: str | None
    flags: list[str]


class DebtorList(Page):
    items: list[Debtor]


class DebtorQuery(ListQuery):
    administration_id: int | None = Field(None, ge=0, le=2**31 - 1)
    q: str | None = Field(None, max_length=200, description="part of the name, reference or customer number")


class Invoice(Out):
    id: int
    administration_id: int
    administration: str
    number: str
    reference: str
    debtor: str
    debtor_ref: str
    invoice_date: date | None
    due_date: date
    days_overdue: int | None
    status: str
    currency: Currency
    total: Amount
    open_amount: Amount


class InvoiceList(Page):
    items: list[Invoice]


class InvoiceQuery(ListQuery):
    administration_id: int | None = Field(None, ge=0, le=2**31 - 1)
    debtor: str | None = Field(None, max_length=200, description="debtor reference, customer number or name")
    overdue: bool = Field(False, description="only open invoices past their due date")
    status: Literal["open", "paid", "credited", "cancelled", "draft"] | None = None


class WhyEntry(BaseModel):
    at: str
    kind: str
    message: str


class InvoiceDetail(Invoice):
    level: int | None = Field(description="the step of our ladder this invoice has reached")
    level_name: str | None
    hold_reason: str | None
    hold_until: date | None
    promise_date: date | None
    next_step: str | None = Field(description="what the rules decide for it today")
    why: list[WhyEntry] = Field(description="today's decision, then every recorded one, newest first")


class WorklistItem(Out):
    id: int
    administration: str
    debtor: str
    level: int
    level_name: str
    channel: str
    action: str
    invoices: int
    status: str
    run_date: date
    open_amount: Amount | None
    currency: Currency | None
    last_error: str | None


class WorklistPage(Page):
    items: list[WorklistItem]


class WorklistQuery(ListQuery):
    status: str | None = Field(None, max_length=32, description="e.g. awaiting_approval, pending, task_open")


class SnoozeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: date = Field(description="the day to put it back on the worklist")


class SkipBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=300, pattern=r"\S", description="why it is skipped (the audit trail keeps it)")


class ApiKeyOut(Out):
    prefix: str
    name: str
    scope: Literal["read", "write"]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
