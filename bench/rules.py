"""Rules benchmark: ``connector.rules.evaluate`` throughput and memory, and an end-to-end dunning run.

Part 1 builds N synthetic ``InvoiceSnapshot``s (seeded random: ~60 % B2B / 40 % B2C on a few hundred debtors,
due dates from 200 days overdue to 30 days ahead, part of them already at a level, a few paid, disputed, on hold
or with a 14-day letter on file) and times ``evaluate`` with the packaged policies
(``load_policies(Settings().policies_dir)``) and the statutory-interest table — best of ``repeats`` runs — then
measures its tracemalloc peak in a separate run (snapshots already built, so only the engine's own memory).

Part 2 (unless ``--no-end-to-end``) seeds a Moneybird sandbox administration with N invoices, connects and syncs
it into a temp SQLite DB exactly like ``bench.sync``, then times ``decide.run_administration`` twice: a dry run
(snapshots from storage + rules, nothing written) and the real run with safe mode off (outbox items, reminder
states and audit rows committed in one transaction).

``.venv/bin/python -m bench.rules [--invoices 10000] [--no-end-to-end] [--out bench/results/rules.json]``
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import bench_settings, machine, provider_settings, quiet, start_stack, write_json
from bench.sync import connect, one_tenant, sandbox_options
from connector import decide, services, sync
from connector.model import InvoiceStatus, Segment
from connector.rules import (
    EvaluationResult,
    FourteenDayLetterEvidence,
    InvoiceSnapshot,
    LetterChannel,
    RunContext,
    evaluate,
    load_policies,
    load_rate_table,
    select_policy,
)
from connector.rules.letter import letter_dates
from connector.settings import Settings
from connector.storage import repos
from sandboxes.runner import sandbox_factory, serve_in_thread

INVOICES = 10_000
REPEATS = 3
TODAY = date(2026, 6, 15)  # fixed, so the synthetic ladder positions (and the figures) are reproducible
DEFAULT_OUT = Path(__file__).parent / "results" / "rules.json"


def synthetic_snapshots(count: int, today: date = TODAY, seed: int = 7) -> list[InvoiceSnapshot]:
    rng = random.Random(seed)
    debtors = max(count // 25, 1)
    synced = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    snapshots = []
    for number in range(count):
        debtor = rng.randrange(debtors)
        consumer = debtor % 5 < 2
        due = today + timedelta(days=rng.randint(-200, 30))
        total = Decimal(rng.randint(1_500, 2_500_000)) / 100
        roll = rng.random()
        level = rng.choice((None, None, 0, 1, 2, 3)) if due < today - timedelta(days=5) else None
        snapshots.append(
            InvoiceSnapshot(
                invoice_ref=f"INV-{number:06d}",
                debtor_ref=f"D-{debtor:05d}",
                administration_ref="bench",
                segment=Segment.B2C if consumer else (Segment.B2B if debtor % 17 else None),
                currency="EUR",
                due_date=due,
                invoice_date=due - timedelta(days=rng.choice((14, 30))),
                open_amount=(total if roll > 0.2 else total / 2).quantize(Decimal("0.01")),
                total=total.quantize(Decimal("0.01")),
                status=InvoiceStatus.PAID if roll < 0.03 else InvoiceStatus.OPEN,
                current_level=level,
                level_reached_on=due + timedelta(days=3 + 7 * level) if level is not None else None,
                disputed=0.03 <= roll < 0.05,
                on_hold=0.05 <= roll < 0.06,
                hold_reason="bench hold" if 0.05 <= roll < 0.06 else None,
                provider_reminders_active=0.06 <= roll < 0.10,
                fourteen_day_letter=(
                    FourteenDayLetterEvidence(
                        sent_on=due + timedelta(days=21),
                        channel=LetterChannel.EMAIL,
                        stated_costs=Decimal("40.00"),
                        printed_term_ends=letter_dates(due + timedelta(days=21), LetterChannel.EMAIL).term_ends,
                        text_counts_from_receipt=True,
                    )
                    if consumer and level == 3 and due + timedelta(days=21) < today
                    else None
                ),
                default_needs_notice=False if consumer and debtor % 2 else None,
                notice_of_default_on=due + timedelta(days=14) if consumer and level and level >= 2 else None,
                synced_at=synced,
            )
        )
    return snapshots


def _evaluate(snapshots: list[InvoiceSnapshot], settings: Settings) -> tuple[EvaluationResult, float]:
    policies = load_policies(settings.policies_dir)
    rates = load_rate_table(settings.interest_rates_file)
    began = time.perf_counter()
    result = evaluate(
        snapshots,
        lambda snap: select_policy(snap, policies),
        TODAY,
        run_context=RunContext(connection_id="bench", rates=rates),
    )
    return result, time.perf_counter() - began


def rules_throughput(count: int, repeats: int) -> dict[str, Any]:
    settings = Settings()
    began = time.perf_counter()
    snapshots = synthetic_snapshots(count)
    build_seconds = time.perf_counter() - began
    timings = []
    result = None
    for _ in range(repeats):
        result, seconds = _evaluate(snapshots, settings)
        timings.append(seconds)
    assert result is not None
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    _evaluate(snapshots, settings)
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    best = min(timings)
    return {
        "invoices": count,
        "today": TODAY.isoformat(),
        "segments": dict(Counter(s.legal_segment.value for s in snapshots)),
        "snapshot_build_seconds": round(build_seconds, 3),
        "evaluate_seconds": [round(t, 4) for t in timings],
        "evaluate_best_seconds": round(best, 4),
        "invoices_per_second": round(count / best, 1),
        "peak_bytes": peak,
        "peak_bytes_per_invoice": round(peak / count, 1),
        "decisions": len(result.decisions),
        "messages": len(result.messages),
        "skipped": len(result.skipped),
        "non_decisions": dict(Counter(nd.reason.value for nd in result.non_decisions)),
    }


def end_to_end(count: int) -> dict[str, Any]:
    """Sync ``count`` Moneybird invoices into SQLite, then time ``decide.run_administration`` dry and for real."""
    app = sandbox_factory("moneybird")(**sandbox_options("moneybird", count))
    one_tenant("moneybird", app.extensions["sandbox"])
    with tempfile.TemporaryDirectory(prefix="dunning-bench-rules-") as tmp, serve_in_thread(app) as sandbox:
        stack = start_stack(provider_settings(bench_settings(Path(tmp)), "moneybird", sandbox.url))
        try:
            rt = stack.runtime
            connection_id = connect(stack, "moneybird")
            began = time.perf_counter()
            sync.sync_connection(rt, stack.org_id, connection_id, full=True)
            sync_seconds = time.perf_counter() - began
            with rt.sessions() as s:
                (adm,) = repos.list_administrations(s, stack.org_id, connection_id)
                counts = repos.counts(s, stack.org_id, [adm.id])
            policies, rates = decide.load_rules(rt)
            today = rt.today(stack.org_id)
            began = time.perf_counter()
            dry = decide.run_administration(rt, adm, today, policies, rates, dry_run=True)
            dry_seconds = time.perf_counter() - began
            services.set_safe_mode(rt, stack.org_id, adm.id, False)
            with rt.sessions() as s:
                adm = repos.get_administration(s, stack.org_id, adm.id)
            began = time.perf_counter()
            real = decide.run_administration(rt, adm, today, policies, rates)
            real_seconds = time.perf_counter() - began
        finally:
            stack.close()
    return {
        "provider": "moneybird",
        "invoices_synced": counts["invoices"],
        "open_invoices": counts["open_invoices"],
        "sync_seconds": round(sync_seconds, 3),
        "dry_run_seconds": round(dry_seconds, 3),
        "dry_run_decisions": dry.decisions,
        "run_seconds": round(real_seconds, 3),
        "run_decisions": real.decisions,
        "run_outbox_items": real.queued,
        "open_invoices_per_second": round(counts["open_invoices"] / real_seconds, 1) if real_seconds else None,
    }


def main(
    invoices: int = INVOICES,
    repeats: int = REPEATS,
    out: Path = DEFAULT_OUT,
    with_end_to_end: bool = True,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    quiet()
    rules = rules_throughput(invoices, repeats)
    echo(
        f"rules: {invoices} snapshots evaluated in {rules['evaluate_best_seconds']} s "
        f"({rules['invoices_per_second']} invoices/s), peak {rules['peak_bytes'] / 1e6:.1f} MB, "
        f"{rules['decisions']} decisions in {rules['messages']} messages"
    )
    payload: dict[str, Any] = {"benchmark": "rules", "machine": machine(), "evaluate": rules, "end_to_end": None}
    if with_end_to_end:
        e2e = end_to_end(invoices)
        payload["end_to_end"] = e2e
        echo(
            f"end to end: {e2e['open_invoices']} open of {e2e['invoices_synced']} synced; dry run "
            f"{e2e['dry_run_seconds']} s, committed run {e2e['run_seconds']} s ({e2e['run_outbox_items']} outbox items)"
        )
    write_json(out, payload)
    return payload


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Rules throughput and an end-to-end dunning run (bench/README.md)")
    parser.add_argument("--invoices", type=int, default=INVOICES)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--no-end-to-end", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    main(args.invoices, args.repeats, args.out, not args.no_end_to_end)
