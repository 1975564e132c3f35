"""Read endpoints of the API: administrations, debtors, invoices (with our level, next step and why), worklist.

Each reads through ``connector.queries`` / ``connector.apiviews`` scoped to the key's organisation, and pages
with the signed cursors of ``dashboard.api.paging``.
"""

from __future__ import annotations

from flask import g

from connector import apiviews
from connector.runtime import Runtime
from dashboard.api.models import (
    Administration,
    AdministrationList,
    Debtor,
    DebtorList,
    DebtorQuery,
    Invoice,
    InvoiceDetail,
    InvoiceList,
    InvoiceQuery,
    WorklistItem,
    WorklistPage,
    WorklistQuery,
)
from dashboard.api.paging import ListQuery, keyset, read_cursor
from dashboard.api.problems import Problem
from dashboard.api.spec import endpoint
from dashboard.common import services


def _rt() -> tuple[Runtime, int]:
    return services().runtime, g.api_caller.org_id


@endpoint("GET", "/administrations", summary="The organisation's administrations", tag="administrations",
          response=AdministrationList, query=ListQuery)  # fmt: skip
def administrations(query: ListQuery) -> AdministrationList:
    rt, org_id = _rt()
    rows = apiviews.administrations(rt, org_id, after_id=read_cursor(query), limit=query.limit + 1)
    page, cursor = keyset([Administration.model_validate(r) for r in rows], lambda r: r.id, query)
    return AdministrationList(items=page, next_cursor=cursor)


@endpoint("GET", "/administrations/{administration_id}", summary="One administration", tag="administrations",
          response=Administration)  # fmt: skip
def administration(administration_id: int) -> Administration:
    rt, org_id = _rt()
    found = apiviews.administrations(rt, org_id, limit=1, administration_id=administration_id)
    if not found:
        raise Problem(404, f"No administration {administration_id} here.")
    return Administration.model_validate(found[0])


@endpoint("GET", "/debtors", summary="Debtors with what they owe", tag="debtors", response=DebtorList,
          query=DebtorQuery)  # fmt: skip
def debtors(query: DebtorQuery) -> DebtorList:
    rt, org_id = _rt()
    rows = apiviews.debtors(
        rt,
        org_id,
        after_id=read_cursor(query),
        limit=query.limit + 1,
        administration_id=query.administration_id,
        text=query.q,
    )
    page, cursor = keyset([Debtor.model_validate(r) for r in rows], lambda r: r.id, query)
    return DebtorList(items=page, next_cursor=cursor)


@endpoint("GET", "/debtors/{debtor_id}", summary="One debtor", tag="debtors", response=Debtor)
def debtor(debtor_id: int) -> Debtor:
    rt, org_id = _rt()
    return Debtor.model_validate(apiviews.debtor(rt, org_id, debtor_id))


@endpoint("GET", "/invoices", summary="Invoices in id order", tag="invoices", response=InvoiceList,
          query=InvoiceQuery)  # fmt: skip
def invoices(query: InvoiceQuery) -> InvoiceList:
    rt, org_id = _rt()
    rows = apiviews.invoices(
        rt,
        org_id,
        after_id=read_cursor(query),
        limit=query.limit + 1,
        administration_id=query.administration_id,
        debtor=query.debtor,
        overdue=query.overdue,
        status=query.status,
    )
    page, cursor = keyset([Invoice.model_validate(r) for r in rows], lambda r: r.id, query)
    return InvoiceList(items=page, next_cursor=cursor)


@endpoint("GET", "/invoices/{invoice_id}", summary="One invoice with our level, its next step and why",
          tag="invoices", response=InvoiceDetail)  # fmt: skip
def invoice(invoice_id: int) -> InvoiceDetail:
    rt, org_id = _rt()
    return InvoiceDetail.model_validate(apiviews.invoice_detail(rt, org_id, invoice_id))


@endpoint("GET", "/worklist", summary="The worklist: open items and what was done in the last week",
          tag="worklist", response=WorklistPage, query=WorklistQuery)  # fmt: skip
def worklist(query: WorklistQuery) -> WorklistPage:
    rt, org_id = _rt()
    rows = apiviews.worklist(rt, org_id, after_id=read_cursor(query), limit=query.limit + 1, status=query.status)
    page, cursor = keyset([WorklistItem.model_validate(r) for r in rows], lambda r: r.id, query)
    return WorklistPage(items=page, next_cursor=cursor)
