"""Smoke test of bench/render_worklist.py: at a tiny size every page answers 200 and the JSON has its figures (structure
only, never a timing)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import render_worklist as render


def test_render_benchmark_writes_every_page(tmp_path: Path) -> None:
    out = tmp_path / "render.json"
    render.main(["--invoices", "120", "--repeats", "1", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["invoices"] == 120 and result["outbox_items"] > 0, "seeded and decided"
    paths = [p["path"] for p in result["pages"]]
    assert {"/worklist", "/debtors", "/search?q=2026-0004"} <= set(paths), f"the pages timed: {paths}"
    for page in result["pages"]:
        assert page["status"] == 200 and page["bytes"] > 1000, f"{page['path']} rendered"
        assert page["median_ms"] >= page["best_ms"] >= 0, f"{page['path']} has its figures"
