"""Smoke tests for the benchmarks: each main() runs at tiny sizes into tmp_path and writes well-formed JSON.

Structural checks only (never timings): the invoice stream's API calls equal each provider's minimum plus the
constant documented in ``bench/sync.py`` (the formulas are restated here, not imported), an incremental re-sync
with nothing changed reads the invoice stream with one call, the webhook receiver stored exactly one row per
acknowledged delivery, and the rules benchmark produced decisions.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench import rules as rules_bench
from bench import sync as sync_bench
from bench import webhooks as webhooks_bench
from connector.sync import STREAMS

SIZES = (120, 250)
RUN_KEYS = {
    "provider",
    "n",
    "stream_records",
    "invoice_stream_calls",
    "minimum_calls",
    "documented_extra_calls",
    "total_api_calls",
    "wall_seconds",
    "peak_bytes",
    "retained_max_bytes",
    "page_held_bytes",
    "in_run_growth_bytes",
    "peak_bytes_sandbox_in_process",
    "stream_calls",
    "endpoint_calls",
    "stored",
    "incremental",
}


def expected_invoice_calls(provider: str, records: int, endpoints: dict[str, int]) -> int:
    if provider == "moneybird":  # one id+version list, then 100 ids per POST
        return 1 + math.ceil(records / 100)
    if provider == "xero":  # pages of 1000; a full last page needs an empty one to prove the end
        return math.ceil(records / 1000) + (1 if records % 1000 == 0 else 0)
    bulk = sum(calls for path, calls in endpoints.items() if "bulk/Cashflow/Receivables" in path)
    return math.ceil(records / 1000) + bulk  # Exact: 1000 PaymentTerms rows a call + split-entry re-reads


@pytest.fixture(scope="module")
def sync_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "sync.json"
    returned = sync_bench.main(SIZES, sync_bench.PROVIDERS, out, echo=lambda _line: None)
    written: dict[str, Any] = json.loads(out.read_text())
    assert written["runs"] == json.loads(json.dumps(returned["runs"], default=str))
    return written


def test_sync_json_has_one_entry_per_provider_and_size(sync_results: dict[str, Any]) -> None:
    runs = sync_results["runs"]
    assert [(r["provider"], r["n"]) for r in runs] == [(p, n) for p in sync_bench.PROVIDERS for n in SIZES]
    for run in runs:
        assert RUN_KEYS <= run.keys(), RUN_KEYS - run.keys()
        assert run["peak_bytes"] > 0 and run["retained_max_bytes"] > 0
    assert set(sync_results["memory"]) == set(sync_bench.PROVIDERS)
    for verdict in sync_results["memory"].values():
        assert {"peak_ratio", "growth_bytes", "one_page_held_bytes", "within_one_page", "flat"} <= verdict.keys()


@pytest.mark.parametrize("provider", sync_bench.PROVIDERS)
def test_invoice_stream_calls_are_the_minimum_plus_the_documented_constant(
    sync_results: dict[str, Any], provider: str
) -> None:
    for run in (r for r in sync_results["runs"] if r["provider"] == provider):
        expected = expected_invoice_calls(provider, run["stream_records"], run["endpoint_calls"])
        assert run["invoice_stream_calls"] == expected, run["endpoint_calls"]
        assert run["calls_match_minimum_plus_extra"] is True
        assert run["total_api_calls"] >= run["invoice_stream_calls"] + run["stream_calls"]["debtors"]
        assert sum(run["stream_calls"].values()) == run["total_api_calls"]


@pytest.mark.parametrize("provider", sync_bench.PROVIDERS)
def test_incremental_resync_without_changes_reads_each_stream_once(sync_results: dict[str, Any], provider: str) -> None:
    for run in (r for r in sync_results["runs"] if r["provider"] == provider):
        incremental = run["incremental"]
        assert incremental["stream_calls"]["invoices"] == 1, incremental["endpoint_calls"]
        assert all(incremental["stream_calls"][stream] <= 1 for stream in STREAMS), incremental
        assert sum(incremental["changed"].values()) == 0


def test_moneybird_full_sync_stores_every_sales_invoice(sync_results: dict[str, Any]) -> None:
    for run in (r for r in sync_results["runs"] if r["provider"] == "moneybird"):
        stored = run["stored"]
        assert stored["invoices"] + stored["credit_notes"] == run["stream_records"] == run["n"]


def test_webhook_benchmark_acknowledges_stores_and_deduplicates(tmp_path: Path) -> None:
    out = tmp_path / "webhooks.json"
    webhooks_bench.main(deliveries=25, duplicates=10, out=out, echo=lambda _line: None)
    result = json.loads(out.read_text())
    assert result["verified"] is True
    first, again, checks = result["first_deliveries"], result["duplicates"], result["checks"]
    assert first["statuses"] == {"200": 25} and again["statuses"] == {"200": 10}
    assert {"p50_ms", "p95_ms", "p99_ms", "max_ms"} <= first.keys()
    assert first["p50_ms"] <= first["p99_ms"] <= first["max_ms"]
    assert checks["inbox_rows"] == checks["enqueued_jobs"] == 26  # 25 + the warm-up delivery, no duplicates


def test_rules_benchmark_reports_throughput_and_an_end_to_end_run(tmp_path: Path) -> None:
    out = tmp_path / "rules.json"
    rules_bench.main(invoices=150, repeats=1, out=out, echo=lambda _line: None)
    result = json.loads(out.read_text())
    evaluate = result["evaluate"]
    assert evaluate["invoices"] == 150 and evaluate["invoices_per_second"] > 0 and evaluate["peak_bytes"] > 0
    assert evaluate["decisions"] > 0 and evaluate["messages"] > 0
    assert set(evaluate["segments"]) == {"b2b", "b2c"}
    assert evaluate["decisions"] + sum(evaluate["non_decisions"].values()) == 150  # one outcome per snapshot
    e2e = result["end_to_end"]
    assert e2e["invoices_synced"] > 0 and e2e["open_invoices"] > 0
    assert e2e["run_decisions"] == e2e["dry_run_decisions"] > 0


def test_daycycle_benchmark_does_every_client_on_two_days_without_a_429(tmp_path: Path) -> None:
    from bench import daycycle

    out = tmp_path / "daycycle.json"
    daycycle.main((6,), "small", out, echo=lambda _line: None)
    payload = json.loads(out.read_text())
    (run,) = payload["runs"]
    assert run["clients"] == 6 and sum(run["administrations"].values()) == 6, "every client connected"
    for day in ("first_day", "next_day"):
        assert run[day]["done"] == 6 and run[day]["unfinished"] == 0, f"{day}: every client done"
        assert set(run[day]["api_calls"]) == {"exact", "moneybird", "xero"}, f"{day}: calls per provider"
    assert run["rejected_429"] == {"exact": 0, "moneybird": 0, "xero": 0}, "no limit overstepped"
    assert run["first_day"]["api_calls_minimum_invoice_reads"], "the minimum reads are reported"
