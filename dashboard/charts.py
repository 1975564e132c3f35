"""Server-rendered SVG bar charts for the report pages: no script, no stylesheet, nothing loaded from elsewhere.

Used by ``dashboard.reports``. One chart kind serves all three reports: vertical bars, optionally stacked (the
aging's buckets, the forecast's administrations). Each bar is a ``<g class="bar">`` holding one
``<rect class="segment">`` per non-zero part, with a ``<title>`` naming it, so the chart can be checked against
the table beside it (docs/reports.md#charts). Geometry is computed with ``Decimal`` like the amounts it shows;
colours are presentation attributes (``fill``), which a Content-Security-Policy without inline styles allows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 96, 16, 40, 56
PALETTE = ("#2f6f4f", "#7fb069", "#e6aa68", "#ca3c25", "#6b2737", "#3d5a80", "#98c1d9", "#8d6a9f", "#5c6b73")
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Series:
    """One part of every bar (a bucket, an administration): its name, a value per category and its colour."""

    name: str
    values: Sequence[Decimal | None]
    color: str


def _px(value: Decimal) -> str:
    return str(value.quantize(_TENTH, rounding=ROUND_HALF_UP))


def _short(label: str, limit: int = 16) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[Decimal], str],
) -> Markup:
    """An SVG of one bar per category, its series stacked bottom-up; negative and missing values are not drawn
    (the table shows them). ``fmt`` writes a value as the reader reads it (money, days)."""
    plot_w = Decimal(WIDTH - LEFT - RIGHT)
    plot_h = Decimal(HEIGHT - TOP - BOTTOM)
    totals = [
        sum((max(Decimal(0), s.values[i] or Decimal(0)) for s in series), Decimal(0)) for i in range(len(categories))
    ]
    top = max(totals, default=Decimal(0)) or Decimal(1)
    slot = plot_w / max(len(categories), 1)
    bar_w = slot * Decimal("0.64")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-labelledby="{escape(chart_id)}-title">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    for fraction in (Decimal(0), Decimal("0.5"), Decimal(1)):  # gridlines at 0, half and the top
        y = Decimal(TOP) + plot_h - plot_h * fraction
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_px(y)}" y2="{_px(y)}" stroke="#d0d4de"/>'
            f'<text x="{LEFT - 6}" y="{_px(y + 4)}" text-anchor="end" font-size="11" fill="#3a4150">'
            f"{escape(fmt(top * fraction))}</text>"
        )
    for i, category in enumerate(categories):
        x = Decimal(LEFT) + slot * i + (slot - bar_w) / 2
        y = Decimal(TOP) + plot_h
        out.append(f'<g class="bar" data-category="{escape(category)}">')
        for s in series:
            value = s.values[i]
            if value is None or value <= 0:
                continue
            h = plot_h * value / top
            y -= h
            out.append(
                f'<rect class="segment" data-series="{escape(s.name)}" data-value="{value}" x="{_px(x)}"'
                f' y="{_px(y)}" width="{_px(bar_w)}" height="{_px(h)}" fill="{s.color}">'
                f"<title>{escape(category)} · {escape(s.name)}: {escape(fmt(value))}</title></rect>"
            )
        label_x = _px(x + bar_w / 2)
        out.append(
            f'<text x="{label_x}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" fill="#3a4150">'
            f"{escape(_short(category))}</text></g>"
        )
    if len(series) > 1:
        legend_x = LEFT
        for s in series:  # the legend, across the top
            out.append(
                f'<rect class="legend" x="{legend_x}" y="10" width="10" height="10" fill="{s.color}"/>'
                f'<text x="{legend_x + 14}" y="19" font-size="11" fill="#3a4150">{escape(_short(s.name, 20))}</text>'
            )
            legend_x += 24 + 7 * min(len(s.name), 20)
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704  every name and label above went through escape()
