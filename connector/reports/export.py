"""CSV, XLSX and JSON for the reports (``dunning report ... --csv|--json``, the dashboard's download links).

CSV is RFC 4180 with a header row, amounts as plain decimal strings (``1234.56``, never locale-formatted) so a
spreadsheet or a test can recompute them; JSON carries the same rows plus the method (formula, buckets, period).
``*_from_csv`` read a file back into rows, which the tests use to prove the round trip loses nothing. XLSX holds
the same rows as CSV, amounts as exact decimal numbers (written from ``Decimal``, never through a float).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.reports.aging import AGING_COLUMNS, AgingReport, AgingRow
from connector.reports.dso import DsoResult
from connector.reports.forecast import FORECAST_COLUMNS, Forecast, ForecastRow


def to_csv(records: Iterable[Mapping[str, str]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), restval="", extrasaction="raise")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def to_json(report: AgingReport | DsoResult | Forecast) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)


def aging_csv(report: AgingReport) -> str:
    return to_csv(report.records(), AGING_COLUMNS)


def aging_from_csv(text: str) -> list[AgingRow]:
    return [AgingRow.from_record(r) for r in read_csv(text)]


def dso_csv(result: DsoResult) -> str:
    record: dict[str, Any] = {k: "" if v is None else str(v) for k, v in result.to_dict().items()}
    return to_csv([record], list(record))


def forecast_csv(report: Forecast) -> str:
    return to_csv(report.records(), FORECAST_COLUMNS)


def forecast_from_csv(text: str) -> list[ForecastRow]:
    return [ForecastRow.from_record(r) for r in read_csv(text)]


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a title (at most 31 characters in XLSX), the header row, and rows as CSV writes them;
    the cells of ``numeric`` columns become numbers."""

    title: str
    columns: Sequence[str]
    records: Sequence[Mapping[str, str]]
    numeric: frozenset[str] = frozenset()


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """A workbook with one worksheet per ``Sheet``, header row in bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(sheet.title[:31])
        ws.append(list(sheet.columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for record in sheet.records:
            ws.append([_cell(record.get(c, ""), c in sheet.numeric) for c in sheet.columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: str, numeric: bool) -> str | Decimal | int | None:
    if value == "":
        return None
    if not numeric:
        return value
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    return int(number) if number == number.to_integral_value() and "." not in value else number
