"""bench.render at a tiny size: every report page answers and the JSON names each page's time and size."""

from __future__ import annotations

from bench import render


def test_render_benchmark_times_every_report_page() -> None:
    result = render.run(invoices=30, repeats=1)
    assert set(result["pages"]) == set(render.PAGES), "a timing per report page and download"
    for name, timing in result["pages"].items():
        assert timing["bytes"] > 0 and timing["seconds"] >= 0, f"{name} rendered nothing"
