"""Reports over receivables: aging (docs/credit-management.md#aging), DSO (docs/credit-management.md#dso) and a
cash-flow forecast (docs/credit-management.md#cash-flow-forecast), plus CSV/JSON export.

Beside the pipeline, reading what sync stored. Pure computations over plain inputs (``connector.reports.inputs``),
fed from storage by ``connector.reports.build`` and shown by ``dunning report aging|dso|forecast``. Apart from
``build``, no database and no clock: ``today`` and the period are arguments, so every figure is reproducible from
the same rows.
"""

from __future__ import annotations

from connector.reports.aging import AGING_COLUMNS, AgingReport, AgingRow, Bucket, aging, bucket_for
from connector.reports.dso import COUNTBACK_FORMULA, DSO_FORMULA, DsoResult, dso, dso_countback, dso_for_period
from connector.reports.export import (
    aging_csv,
    aging_from_csv,
    dso_csv,
    forecast_csv,
    forecast_from_csv,
    read_csv,
    to_csv,
    to_json,
)
from connector.reports.forecast import (
    FORECAST_COLUMNS,
    ExpectedReceipt,
    Forecast,
    ForecastRow,
    average_delays,
    forecast,
)
from connector.reports.inputs import PaidInvoice, ReceivableItem, paid_invoices

__all__ = [
    "AGING_COLUMNS",
    "COUNTBACK_FORMULA",
    "DSO_FORMULA",
    "FORECAST_COLUMNS",
    "AgingReport",
    "AgingRow",
    "Bucket",
    "DsoResult",
    "ExpectedReceipt",
    "Forecast",
    "ForecastRow",
    "PaidInvoice",
    "ReceivableItem",
    "aging",
    "aging_csv",
    "aging_from_csv",
    "average_delays",
    "bucket_for",
    "dso",
    "dso_countback",
    "dso_csv",
    "dso_for_period",
    "forecast",
    "forecast_csv",
    "forecast_from_csv",
    "paid_invoices",
    "read_csv",
    "to_csv",
    "to_json",
]
