"""bench.cockpit at tiny sizes: the JSON names each size's render time and SQL statements, the first page answers at
every size, and its statements do not grow with the administrations (structure and counts only, never timings)."""

from __future__ import annotations

from bench import cockpit


def test_cockpit_benchmark_reports_time_and_statements_per_size() -> None:
    result = cockpit.run([3, 12], invoices=4, repeats=1)
    assert result["database"] == "sqlite", "without --database-url the benchmark runs on SQLite"
    sizes = [s["administrations"] for s in result["sizes"]]
    assert sizes == [3, 12], f"a result per size: {sizes}"
    for size in result["sizes"]:
        assert size["open_invoices"] == size["administrations"] * 4, f"seeded invoices at {size['administrations']}"
        assert set(size["pages"]) == set(cockpit.PAGES), "a timing per cockpit page"
        for name, page in size["pages"].items():
            assert page["median_ms"] >= 0 and page["bytes"] > 0, f"{name} rendered nothing"
    statements = {s["pages"]["first_page"]["sql_statements"] for s in result["sizes"]}
    assert len(statements) == 1, f"the first page's SQL statements vary with the administrations: {statements}"
