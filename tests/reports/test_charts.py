"""The SVG bar chart: one bar per category, one segment per positive value, labels escaped, nothing executable."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from dashboard.charts import Series, bar_chart

D = Decimal


@pytest.mark.parametrize(
    ("categories", "series", "segments"),
    [
        (["A"], [[D("10")]], 1),
        (["A", "B", "all"], [[D("10"), D("0"), D("10")], [D("5"), D("7"), D("12")]], 5),  # a zero is not drawn
        (["w1", "w2"], [[None, D("-3")]], 0),  # missing and negative values are left to the table
        ([], [], 0),
    ],
)
def test_bars_and_segments_match_the_data(
    categories: list[str], series: list[list[Decimal | None]], segments: int
) -> None:
    svg = bar_chart(
        chart_id="c",
        title="t",
        categories=categories,
        series=[Series(f"s{i}", values, "#000") for i, values in enumerate(series)],
        fmt=str,
    )
    assert svg.count('<g class="bar"') == len(categories), "one bar per category"
    assert svg.count('class="segment"') == segments, "one segment per positive value"
    assert "<script" not in svg and "style=" not in svg, "nothing a strict Content-Security-Policy would block"


def test_stacked_heights_add_up_to_the_tallest_bar() -> None:
    svg = bar_chart(
        chart_id="c",
        title="t",
        categories=["A", "B"],
        series=[Series("x", [D("30"), D("10")], "#111"), Series("y", [D("10"), D("10")], "#222")],
        fmt=str,
    )
    heights = [D(h) for h in re.findall(r'class="segment"[^>]*height="([0-9.]+)"', svg)]
    assert sum(heights[:2]) == D("204.0"), "the tallest bar fills the plot (300 - 40 - 56 pixels)"
    assert sum(heights[2:]) == D("102.0"), "a bar half as high is half as tall"


def test_labels_are_escaped() -> None:
    svg = bar_chart(chart_id="c", title="<b>", categories=["<script>"], series=[Series("&", [D(1)], "#000")], fmt=str)
    assert "<script>" not in svg and "&lt;script&gt;" in svg, "a name from the package cannot inject markup"
