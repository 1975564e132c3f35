"""The API's debtor work: holds, promises, call logs and payment arrangements, listed and recorded.

Lists read one keyset page at a time through ``connector.apiviews`` (filters and paging in SQL); every change calls
the service the web pages use (``connector.debtors``), inside ``acting_as`` so the audit trail names the key. A
refusal of the service (a past date, an invoice that is not open) is a 409; an unknown id of this organisation a
404 (docs/api.md#debtor-work).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from flask import g
from pydantic import BaseModel, ConfigDict, Field

from connector import apiviews, debtors, worklist
from connector.errors import PermanentError
from connector.runtime import Runtime
from dashboard.api.actions import who
from dashboard.api.models import Amount, Currency, Out
from dashboard.api.paging import ListQuery, Page, make_cursor, read_cursor
from dashboard.api.spec import MAX_ID, endpoint
from dashboard.common import services

HoldCode = Literal[
    "dispute", "complaint", "awaiting_credit_note", "payment_claimed", "talk_first", "insolvency", "factored", "other"
]  # fmt: skip
Outcome = Literal[
    "promise_to_pay", "payment_arrangement", "dispute", "already_paid", "call_back", "no_answer", "voicemail",
    "wrong_number", "refused",
]  # fmt: skip
LateCode = Literal["miscommunication", "dissatisfied", "financial_trouble", "negligence", "other"]
assert set(HoldCode.__args__) == {r.value for r in debtors.HoldReason}  # type: ignore[attr-defined] # noqa: S101
Id = Field(None, ge=0, le=MAX_ID)


def _rt() -> tuple[Runtime, int]:
    return services().runtime, int(g.api_caller.org_id)


class Mark(Out):
    id: int = Field(description="the invoice's reminder-state id, or the debtor's id for a debtor-wide one")
    level: Literal["invoice", "debtor"]
    administration_id: int
    debtor_id: int | None
    debtor_ref: str
    invoice_id: int | None
    invoice_number: str | None


class Hold(Mark):
    reason: str | None
    until: date | None = Field(description="the hold's last day; null: until released")


class Promise(Mark):
    promise_date: date | None


class HoldList(Page):
    items: list[Hold]


class PromiseList(Page):
    items: list[Promise]


class MarkQuery(ListQuery):
    level: Literal["invoice", "debtor"] = Field("invoice", description="holds on invoices or on whole debtors")
    administration_id: int | None = Id


class HoldBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: HoldCode
    until: date | None = Field(None, description="last day of the hold (invoices only); none: until released")


class PromiseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    promise_date: date = Field(description="the day the debtor promised to pay by (today or later)")
    note: str = Field("", max_length=300)


def _marks(kind: str, query: MarkQuery) -> tuple[list[dict[str, object]], str | None]:
    rt, org_id = _rt()
    rows = apiviews.marks(
        rt,
        org_id,
        kind=kind,
        level=query.level,
        after_id=read_cursor(query),
        limit=query.limit + 1,
        administration_id=query.administration_id,
    )
    page = rows[: query.limit]
    cursor = make_cursor(page[-1].id, query) if len(rows) > query.limit else None
    items = [{**vars(r), "level": query.level, "promise_date": r.until} for r in page]
    return items, cursor


@endpoint("GET", "/holds", summary="Invoices or debtors on hold", tag="holds", response=HoldList, query=MarkQuery)
def holds(query: MarkQuery) -> HoldList:
    items, cursor = _marks("hold", query)
    return HoldList(items=[Hold.model_validate(i) for i in items], next_cursor=cursor)


@endpoint("POST", "/invoices/{invoice_id}/hold", summary="Put an invoice on hold with a reason code", tag="holds",
          response=None, body=HoldBody, status=204, errors=(409,))  # fmt: skip
def hold_invoice(invoice_id: int, body: HoldBody) -> None:
    rt, org_id = _rt()
    adm, ref = apiviews.invoice_target(rt, org_id, invoice_id)
    with worklist.acting_as(who()):
        debtors.hold_invoice(rt, org_id, adm, ref, body.reason, until=body.until)


@endpoint("DELETE", "/invoices/{invoice_id}/hold", summary="Release an invoice's hold", tag="holds", response=None,
          status=204)  # fmt: skip
def release_invoice(invoice_id: int) -> None:
    rt, org_id = _rt()
    adm, ref = apiviews.invoice_target(rt, org_id, invoice_id)
    with worklist.acting_as(who()):
        debtors.release_invoice(rt, org_id, adm, ref, note="(API)")


@endpoint("POST", "/debtors/{debtor_id}/hold", summary="Put all of a debtor's invoices on hold", tag="holds",
          response=None, body=HoldBody, status=204, errors=(409,))  # fmt: skip
def hold_debtor(debtor_id: int, body: HoldBody) -> None:
    rt, org_id = _rt()
    adm, ref = apiviews.debtor_target(rt, org_id, debtor_id)
    with worklist.acting_as(who()):
        debtors.hold_debtor(rt, org_id, adm, ref, body.reason)


@endpoint("DELETE", "/debtors/{debtor_id}/hold", summary="Release a debtor-wide hold", tag="holds", response=None,
          status=204)  # fmt: skip
def release_debtor(debtor_id: int) -> None:
    rt, org_id = _rt()
    adm, ref = apiviews.debtor_target(rt, org_id, debtor_id)
    with worklist.acting_as(who()):
        debtors.release_debtor(rt, org_id, adm, ref)


@endpoint("GET", "/promises", summary="Promises to pay on invoices or debtors", tag="promises",
          response=PromiseList, query=MarkQuery)  # fmt: skip
def promises(query: MarkQuery) -> PromiseList:
    items, cursor = _marks("promise", query)
    return PromiseList(items=[Promise.model_validate(i) for i in items], next_cursor=cursor)


@endpoint("POST", "/invoices/{invoice_id}/promise", summary="Record a promise to pay an invoice", tag="promises",
          response=None, body=PromiseBody, status=204, errors=(409,))  # fmt: skip
def promise_invoice(invoice_id: int, body: PromiseBody) -> None:
    rt, org_id = _rt()
    adm, ref = apiviews.invoice_target(rt, org_id, invoice_id)
    with worklist.acting_as(who()):
        debtors.promise_invoice(rt, org_id, adm, ref, body.promise_date, note=body.note)


@endpoint("POST", "/debtors/{debtor_id}/promise", summary="Record a promise to pay all of a debtor's invoices",
          tag="promises", response=None, body=PromiseBody, status=204, errors=(409,))  # fmt: skip
def promise_debtor(debtor_id: int, body: PromiseBody) -> None:
    rt, org_id = _rt()
    adm, ref = apiviews.debtor_target(rt, org_id, debtor_id)
    with worklist.acting_as(who()):
        debtors.promise_debtor(rt, org_id, adm, ref, body.promise_date, note=body.note)


class Call(Out):
    id: int
    administration_id: int
    debtor_id: int | None
    debtor_ref: str
    invoice_ref: str | None
    at: datetime
    outcome: str | None
    reason: str | None = Field(description="the late-payment reason, if the debtor gave one")
    promise_date: date | None
    note: str | None


class CallList(Page):
    items: list[Call]


class CallQuery(ListQuery):
    administration_id: int | None = Id
    debtor_id: int | None = Id


class CallBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    reason: LateCode | None = Field(None, description="why the invoice is late, as the debtor said")
    promise_date: date | None = Field(None, description="with promise_to_pay only: the promised day")
    invoice_id: int | None = Field(None, ge=0, le=MAX_ID, description="the invoice the call was about, if one")
    note: str = Field("", max_length=1000)


class CallLogged(BaseModel):
    id: int


@endpoint("GET", "/calls", summary="Logged calls with their outcome", tag="calls", response=CallList,
          query=CallQuery)  # fmt: skip
def calls(query: CallQuery) -> CallList:
    rt, org_id = _rt()
    rows = apiviews.calls(
        rt,
        org_id,
        after_id=read_cursor(query),
        limit=query.limit + 1,
        administration_id=query.administration_id,
        debtor_id=query.debtor_id,
    )
    page = rows[: query.limit]
    cursor = make_cursor(page[-1].id, query) if len(rows) > query.limit else None
    return CallList(items=[Call.model_validate(vars(r)) for r in page], next_cursor=cursor)


@endpoint("POST", "/debtors/{debtor_id}/calls", summary="Log a call with its outcome", tag="calls",
          response=CallLogged, body=CallBody, status=201, errors=(409,))  # fmt: skip
def log_call(debtor_id: int, body: CallBody) -> CallLogged:
    rt, org_id = _rt()
    adm, ref = apiviews.debtor_target(rt, org_id, debtor_id)
    invoice_ref = None
    if body.invoice_id is not None:
        invoice_adm, invoice_ref = apiviews.invoice_target(rt, org_id, body.invoice_id)
        if invoice_adm != adm:
            raise PermanentError(f"Invoice {body.invoice_id} belongs to another administration.")
    with worklist.acting_as(who()):
        moment = debtors.record_call_outcome(
            rt,
            org_id,
            adm,
            ref,
            body.outcome,
            reason=body.reason,
            promise_date=body.promise_date,
            invoice_ref=invoice_ref,
            note=body.note,
        )
    return CallLogged(id=moment)


class Installment(BaseModel):
    number: int
    due_date: date
    amount: Amount
    currency: Currency
    paid: bool
    paid_on: date | None


class Arrangement(Out):
    id: int
    administration_id: int
    debtor_id: int | None
    debtor_ref: str
    invoices: list[str] = Field(description="the provider references of the invoices it covers")
    status: Literal["active", "completed", "broken", "cancelled"]
    agreed_on: date
    closed_on: date | None
    note: str | None
    installments: list[Installment]


class ArrangementList(Page):
    items: list[Arrangement]


class ArrangementQuery(ListQuery):
    administration_id: int | None = Id
    status: Literal["active", "completed", "broken", "cancelled"] | None = None


class ArrangementBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    debtor_id: int = Field(ge=0, le=MAX_ID)
    invoice_ids: list[int] | None = Field(
        None, min_length=1, max_length=200, description="the debtor's open invoices it covers; none: all of them"
    )
    installments: int = Field(ge=1, le=24, description="number of terms (1-24)")
    first_due: date = Field(description="the first term's due date")
    every_days: int = Field(30, ge=7, le=92, description="days between terms (7-92)")
    note: str = Field("", max_length=500)


@endpoint("GET", "/arrangements", summary="Payment arrangements with their schedules", tag="arrangements",
          response=ArrangementList, query=ArrangementQuery)  # fmt: skip
def arrangements(query: ArrangementQuery) -> ArrangementList:
    rt, org_id = _rt()
    rows = apiviews.arrangements(
        rt,
        org_id,
        after_id=read_cursor(query),
        limit=query.limit + 1,
        administration_id=query.administration_id,
        status=query.status,
    )
    page = rows[: query.limit]
    cursor = make_cursor(int(page[-1]["id"]), query) if len(rows) > query.limit else None
    return ArrangementList(items=[Arrangement.model_validate(r) for r in page], next_cursor=cursor)


@endpoint("GET", "/arrangements/{arrangement_id}", summary="One arrangement and its schedule", tag="arrangements",
          response=Arrangement)  # fmt: skip
def arrangement(arrangement_id: int) -> Arrangement:
    rt, org_id = _rt()
    return Arrangement.model_validate(apiviews.arrangement(rt, org_id, arrangement_id))


@endpoint("POST", "/arrangements", summary="Agree a payment arrangement over a debtor's open invoices",
          tag="arrangements", response=Arrangement, body=ArrangementBody, status=201, errors=(409,))  # fmt: skip
def create_arrangement(body: ArrangementBody) -> Arrangement:
    rt, org_id = _rt()
    adm, ref = apiviews.debtor_target(rt, org_id, body.debtor_id)
    refs = apiviews.arrangement_invoices(rt, org_id, adm, ref, body.invoice_ids)
    with worklist.acting_as(who()):
        plan = debtors.create_arrangement(
            rt,
            org_id,
            adm,
            ref,
            refs,
            installments=body.installments,
            first_due=body.first_due,
            every_days=body.every_days,
            note=body.note or None,
        )
    return Arrangement.model_validate(apiviews.arrangement(rt, org_id, plan))
