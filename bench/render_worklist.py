"""Render benchmark of the worklist area: server time of the worklist, debtor, invoice, debtors and search
pages on one administration with 10,000 invoices (the report pages have their own: ``bench.render``).

Seeds a temp SQLite DB directly through storage (``repos.upsert_debtors`` / ``upsert_invoices``: N invoices on
N/25 debtors, due dates from 200 days overdue to 30 days ahead, a tenth paid), turns safe mode off and runs the
real daily decision (``decide.run_administration``) so the worklist holds what a first live run queues, then times
each page through Flask's test client (the app ``create_app`` builds, signed in as the loopback operator of an
installation without accounts): the median and best of ``repeats`` requests after one warm-up request. Only the
server's render time is measured (no network, no browser).

``.venv/bin/python -m bench.render_worklist [--invoices 10000] [--repeats 5]``
(writes ``bench/results/render_worklist.json``)
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import bench_settings, machine, quiet, write_json
from connector import clock, decide, model
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction, upgrade

INVOICES = 10_000
REPEATS = 5
DEFAULT_OUT = Path(__file__).parent / "results" / "render_worklist.json"


def seed(rt: Runtime, count: int, today: date, seed: int = 11) -> tuple[int, int]:
    """One organisation and administration with ``count`` invoices; returns (org id, administration id)."""
    rng = random.Random(seed)
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    debtors = max(count // 25, 1)
    with transaction(rt.sessions) as s:
        org = repos.create_organisation(s, "Render benchmark")
        conn = repos.create_connection(s, org, "moneybird")
        tenant = model.Tenant(provider_tenant_id="1", name="Bench BV")
        adm = repos.upsert_administration(s, org, conn.id, "moneybird", tenant)
        adm.safe_mode = False
        adm_id = adm.id
        people = [
            model.Debtor(
                provider_ref=f"d{n}",
                name=f"Debiteur {n:05d} BV",
                email=f"debtor{n}@example.test",
                customer_number=f"C{n:05d}",
                kvk_number=f"{10000000 + n}",
                segment=model.Segment.B2B if n % 5 else model.Segment.B2C,
            )
            for n in range(debtors)
        ]
        repos.upsert_debtors(s, org, adm_id, people, now)
        invoices = []
        for n in range(count):
            due = today + timedelta(days=rng.randint(-200, 30))
            total = Decimal(rng.randint(5_000, 500_000)) / 100
            paid = rng.random() < 0.1
            invoices.append(
                model.Invoice(
                    provider_ref=f"i{n}",
                    number=f"2026-{n:05d}",
                    debtor_ref=f"d{rng.randrange(debtors)}",
                    invoice_date=due - timedelta(days=30),
                    due_date=due,
                    currency="EUR",
                    total=total,
                    open_amount=Decimal(0) if paid else total,
                    status=model.InvoiceStatus.PAID if paid else model.InvoiceStatus.OPEN,
                    provider_state="paid" if paid else "open",
                )
            )
        for start in range(0, count, 1000):
            repos.upsert_invoices(s, org, adm_id, invoices[start : start + 1000], now)
    return org, adm_id


def _time(client: Any, path: str, repeats: int) -> dict[str, Any]:
    first = client.get(path)  # warm-up: template compilation, catalogue load
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
    return {
        "path": path,
        "status": response.status_code,
        "warm_up_status": first.status_code,
        "median_ms": round(statistics.median(samples) * 1000, 1),
        "best_ms": round(min(samples) * 1000, 1),
        "bytes": len(response.get_data()),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=INVOICES)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    quiet()
    from dashboard import create_app

    with tempfile.TemporaryDirectory() as work:
        settings = bench_settings(Path(work))
        upgrade(settings.database_url)
        rt = Runtime(settings, budget_url="memory://")
        try:
            today = clock.today(clock=rt.clock)
            started = time.perf_counter()
            org, adm_id = seed(rt, args.invoices, today)
            seeded = time.perf_counter() - started
            policies, rates = decide.load_rules(rt)
            with rt.sessions() as s:
                adm = repos.get_administration(s, org, adm_id)
            started = time.perf_counter()
            report = decide.run_administration(rt, adm, today, policies, rates)
            decided = time.perf_counter() - started
            app = create_app(settings, runtime=rt, org_id=org)
            client = app.test_client()
            with rt.sessions() as s:
                biggest = max(
                    repos.get_debtors(s, org, adm_id).values(),
                    key=lambda d: len(repos.debtor_invoices(s, org, adm_id, d.provider_ref)),
                )
                invoice = repos.search_invoices(s, org, "2026-00042")[0]
                outbox = len(repos.outbox_items(s, org))
            pages = [
                "/worklist",
                "/worklist?tab=approval",
                "/worklist?q=Debiteur%2000042",
                f"/debtors/{biggest.id}",
                f"/invoices/{invoice.id}",
                "/debtors",
                "/search?q=2026-0004",
            ]
            timings = [_time(client, path, args.repeats) for path in pages]
        finally:
            rt.close()
    result = {
        "benchmark": "render_worklist",
        "invoices": args.invoices,
        "repeats": args.repeats,
        "seed_seconds": round(seeded, 2),
        "decide_seconds": round(decided, 2),
        "outbox_items": outbox,
        "queued_by_the_run": report.queued,
        "pages": timings,
        "machine": machine(),
    }
    write_json(args.out, result)
    return result


if __name__ == "__main__":
    for page in main()["pages"]:
        print(f"{page['path']:<40} {page['status']}  median {page['median_ms']:>8} ms  best {page['best_ms']:>8} ms")
