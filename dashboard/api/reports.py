"""The API's reports: aging, DSO and the cash-flow forecast, per currency, amounts as strings with their currency.

Built by the same code as the report pages and ``dunning report`` (``connector.reports`` through
``connector.apiviews.report``), as of the organisation's today (docs/api.md#reports).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask import g
from pydantic import BaseModel, Field

from connector import apiviews
from dashboard.api.models import Amount, Currency
from dashboard.api.spec import endpoint
from dashboard.common import services


class AgingRow(BaseModel):
    scope: Literal["debtor", "administration", "total"]
    administration: str
    debtor_ref: str
    debtor_name: str
    currency: Currency
    invoices: int
    not_due: Amount
    days_1_30: Amount
    days_31_60: Amount
    days_61_90: Amount
    over_90: Amount
    total: Amount


class AgingReport(BaseModel):
    today: date
    rule: str = Field(description="how days overdue put an invoice in a bucket")
    rows: list[AgingRow] = Field(description="a row per debtor, per administration and a total, per currency")


class DsoRow(BaseModel):
    currency: Currency
    method: str
    formula: str
    period_start: date | None
    period_end: date | None
    days_in_period: int
    open_receivables: Amount
    credit_sales: Amount
    dso: Amount | None = Field(description="days, rounded; null without credit sales in the period")
    dso_exact: Amount | None


class DsoReport(BaseModel):
    today: date
    rows: list[DsoRow] = Field(description="one per currency")


class ForecastRow(BaseModel):
    administration: str
    currency: Currency
    week: str
    week_start: date | None
    invoices: int
    expected: Amount


class ForecastReport(BaseModel):
    today: date
    weeks: int
    method: str
    portfolio_delay_days: int | None
    rows: list[ForecastRow]


def _report(kind: str) -> dict[str, object]:
    return apiviews.report(services().runtime, int(g.api_caller.org_id), kind)


@endpoint("GET", "/reports/aging", summary="Aging of open receivables per debtor, administration and currency",
          tag="reports", response=AgingReport)  # fmt: skip
def aging() -> AgingReport:
    return AgingReport.model_validate(_report("aging"))


@endpoint("GET", "/reports/dso", summary="Days sales outstanding over the last 90 days, per currency",
          tag="reports", response=DsoReport)  # fmt: skip
def dso() -> DsoReport:
    return DsoReport.model_validate(_report("dso"))


@endpoint("GET", "/reports/forecast", summary="Expected receipts per week for 13 weeks", tag="reports",
          response=ForecastReport)  # fmt: skip
def forecast() -> ForecastReport:
    result = _report("forecast")
    rows = [{**r, "week_start": r.get("week_start") or None} for r in result["rows"]]  # type: ignore[attr-defined]
    return ForecastReport.model_validate({**result, "rows": rows})
