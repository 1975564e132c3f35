"""The report pages: aging, DSO with its monthly trend and the weekly cash-flow forecast, each a chart with the
figures in a table beside it, and the same rows as CSV or XLSX (``?format=csv|xlsx``).

A page blueprint beside ``dashboard.pages``: it loads the organisation's receivables once through
``connector.reports.build.load`` (scoped by ``dashboard.access.current_org_id``), computes the figures with
``connector.reports.views`` and draws them with ``dashboard.charts``. Every chart belongs to one currency
(docs/reports.md#currencies); any role may read the reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from flask import Blueprint, Response, abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from connector.errors import NotFound
from connector.reports.aging import AGING_COLUMNS, Bucket
from connector.reports.build import load
from connector.reports.export import Sheet, to_csv, to_xlsx
from connector.reports.forecast import forecast
from connector.reports.views import aging_charts, dso_series, forecast_charts, week_label
from dashboard.access import current_org_id
from dashboard.charts import PALETTE, Series, bar_chart
from dashboard.common import page, services
from dashboard.i18n import money, number

bp = Blueprint("reports", __name__, template_folder="templates")
BUCKETS = {
    Bucket.NOT_DUE: _l("Not due"),
    Bucket.DAYS_1_30: _l("1-30 days"),
    Bucket.DAYS_31_60: _l("31-60 days"),
    Bucket.DAYS_61_90: _l("61-90 days"),
    Bucket.OVER_90: _l("Over 90 days"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope() -> dict[str, str]:
    """The query arguments a report page keeps in its tabs and downloads: one administration (the cockpit's
    drill-down) and where the reader came from."""
    return {k: v for k, v in request.args.items() if k in ("administration", "from")}


def _today_and_data() -> tuple[Any, Any]:
    rt, org_id = services().runtime, current_org_id()
    chosen = request.args.get("administration", "")
    try:
        data = load(rt, org_id, int(chosen) if chosen.isdigit() and len(chosen) < 12 else None)
    except NotFound:
        abort(404)
    return rt.today(org_id), data


def _only(data: Any) -> str | None:
    """The administration's name when the page shows one administration only."""
    return data.administrations[0].name if "administration" in request.args and data.administrations else None


def _download(name: str, columns: Sequence[str], records: list[dict[str, str]], numeric: set[str]) -> Response | None:
    """The rows as a file when ``?format=`` asks for one; None to show the page."""
    kind = request.args.get("format")
    if kind == "csv":
        return Response(
            to_csv(records, columns),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if kind == "xlsx":
        data = to_xlsx([Sheet(name, columns, records, frozenset(numeric))])
        return Response(data, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return None


@bp.get("/reports")
def reports() -> Response:
    """The aging: a stacked bar per administration and one for all of them, per currency."""
    today, data = _today_and_data()
    report, charts = aging_charts(data.items, today)
    numeric = {"invoices", *(b.value for b in Bucket), "total"}
    file = _download("aging", AGING_COLUMNS, report.records(), numeric)  # with a row per debtor too
    if file is not None:
        return file
    drawn = []
    for chart in charts:
        labels = [r.administration or _("All administrations") for r in chart.rows]
        series = [Series(str(BUCKETS[b]), [r.amount(b) for r in chart.rows], PALETTE[i]) for i, b in enumerate(Bucket)]
        svg = bar_chart(
            chart_id=f"aging-{chart.currency}",
            title=_("Aging in %(currency)s", currency=chart.currency),
            categories=labels,
            series=series,
            fmt=partial(money, currency=chart.currency),
        )
        drawn.append({"chart": chart, "svg": svg, "labels": labels})
    return page(
        "reports/aging.html",
        today=today,
        charts=drawn,
        buckets=BUCKETS,
        section="reports",
        scope=_scope(),
        only=_only(data),
    )


@bp.get("/reports/dso")
def dso() -> Response:
    """DSO per administration and currency, with a bar per month for its trend."""
    today, data = _today_and_data()
    series = dso_series(data.items, data.payments_by_administration, data.administrations, today)
    columns = ["administration", "currency", "month", "period_start", "period_end", "open_receivables"]
    columns += ["credit_sales", "dso"]
    records = [
        {
            "administration": s.administration,
            "currency": s.currency,
            "month": p.month,
            "period_start": p.result.period_start.isoformat() if p.result.period_start else "",
            "period_end": p.result.period_end.isoformat() if p.result.period_end else "",
            "open_receivables": str(p.result.open_receivables),
            "credit_sales": str(p.result.credit_sales),
            "dso": "" if p.result.value is None else str(p.result.value),
        }
        for s in series
        for p in s.points
    ]
    file = _download("dso", columns, records, {"open_receivables", "credit_sales", "dso"})
    if file is not None:
        return file
    drawn = [
        {
            "series": s,
            "svg": bar_chart(
                chart_id=f"dso-{index}",
                title=_(
                    "DSO of %(administration)s (%(currency)s)", administration=s.administration, currency=s.currency
                ),
                categories=[p.month for p in s.points],
                series=[Series(_("DSO"), [p.result.value for p in s.points], PALETTE[5])],
                fmt=lambda v: _("%(days)s days", days=number(v.quantize(Decimal("0.1")))),
            ),
        }
        for index, s in enumerate(series)
    ]
    return page("reports/dso.html", today=today, charts=drawn, section="reports", scope=_scope(), only=_only(data))


@bp.get("/reports/forecast")
def cash_forecast() -> Response:
    """Expected receipts per ISO week, stacked by administration, per currency."""
    today, data = _today_and_data()
    result = forecast(data.items, data.history, today)
    columns = ["administration", "currency", "week", "iso_year", "iso_week", "week_start", "invoices", "expected"]
    file = _download("forecast", columns, result.records(), {"iso_year", "iso_week", "invoices", "expected"})
    if file is not None:
        return file
    drawn = []
    for index, chart in enumerate(forecast_charts(result)):
        labels = [_("later") if week_label(w) == "beyond" else week_label(w) for w in chart.weeks]
        series = [
            Series(name, [chart.amounts.get((name, w.week), Decimal(0)) for w in chart.weeks], PALETTE[i % 9])
            for i, name in enumerate(chart.administrations)
        ]
        svg = bar_chart(
            chart_id=f"forecast-{index}",
            title=_("Expected receipts in %(currency)s", currency=chart.currency),
            categories=labels,
            series=series,
            fmt=partial(money, currency=chart.currency),
        )
        drawn.append({"chart": chart, "svg": svg, "labels": labels})
    return page("reports/forecast.html", today=today, charts=drawn, section="reports", scope=_scope(), only=_only(data))
