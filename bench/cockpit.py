"""Cockpit benchmark: server time and SQL statements of the ``/cockpit`` first page at 10, 100 and 1,000 client
administrations (200 open invoices each by default: 200,000 at 1,000).

Seeds straight through ``connector.storage.repos`` (``insert_invoices``: one multi-row insert per administration,
not the sandboxes), growing one database from the smallest size to the largest, so each size adds administrations
to the ones before. Per size it times ``GET /cockpit`` through the real Flask app (test client, as the operator of
an installation without accounts: our code only, no network) and reports the median of ``repeats`` after one
warm-up request, with the number of SQL statements the page ran (counted with SQLAlchemy's
``before_cursor_execute``). SQLite in a temp directory by default; ``--database-url`` names an empty PostgreSQL
database instead (it is migrated here, and ``ANALYZE``d after each seeding as autovacuum would after a bulk load)
and the JSON says which (docs/cockpit.md#what-it-costs).

``.venv/bin/python -m bench.cockpit [--sizes 10,100,1000] [--invoices 200] [--repeats 5] [--database-url URL]
[--out bench/results/cockpit.json]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.common import bench_settings, machine, quiet, write_json
from connector import model, services
from connector.storage import repos
from connector.storage.db import upgrade
from dashboard import create_app

PROVIDERS = ("moneybird", "xero", "exact")
PAGES = {"first_page": "/cockpit?lang=nl", "sorted_by_overdue": "/cockpit?sort=overdue&dir=desc&lang=nl"}


def _invoices(adm: int, count: int, today: date) -> list[dict[str, Any]]:
    """``count`` open invoices of one administration, due from 150 days ago to 40 days ahead."""
    rows = []
    for i in range(count):
        due = today - timedelta(days=(adm * 7 + i * 13) % 190 - 40)
        minor = 5_000 + (adm * 31 + i * 977) % 400_000
        rows.append(
            {
                "provider_ref": f"{adm}-{i}",
                "number": f"{adm}-{i}",
                "debtor_ref": f"d{i % 40}",
                "invoice_date": due - timedelta(days=30),
                "due_date": due,
                "currency": "EUR",
                "total_minor": minor,
                "open_minor": minor,
                "status": model.InvoiceStatus.OPEN.value,
                "provider_state": "open",
            }
        )
    return rows


def seed(rt: Any, org_id: int, first: int, last: int, invoices: int, today: date, now: datetime) -> None:
    """Client administrations ``first`` .. ``last - 1`` over the three packages, each with ``invoices`` open ones;
    every tenth in safe mode, every seventh paused, the rest live."""
    with rt.sessions.begin() as s:
        connections = {c.provider: c.id for c in repos.list_connections(s, org_id) if c.display_name == "cockpit bench"}
        for provider in PROVIDERS:
            if provider not in connections:
                connections[provider] = repos.create_connection(s, org_id, provider, "cockpit bench").id
        for n in range(first, last):
            provider = PROVIDERS[n % len(PROVIDERS)]
            tenant = model.Tenant(provider_tenant_id=f"client-{n}", name=f"Client {n:04} BV")
            adm = repos.upsert_administration(s, org_id, connections[provider], provider, tenant)
            adm.safe_mode, adm.paused = n % 10 == 0, n % 7 == 0
            repos.insert_invoices(s, org_id, adm.id, _invoices(n, invoices, today), now)


def run(sizes: list[int], invoices: int, repeats: int, database_url: str | None = None) -> dict[str, Any]:
    quiet()
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(Path(tmp))
        if database_url:
            settings = settings.model_copy(update={"database_url": database_url})
        upgrade(settings.database_url)
        app = create_app(settings)
        rt = app.extensions["dunning"].runtime
        org_id = services.ensure_organisation(rt, "Cockpit bench practice", "practice")
        app.extensions["dunning"].org_id = org_id
        client = app.test_client()  # no accounts: this machine is the operator (dashboard.access)
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(str(args[2]))

        results = []
        seeded = 0
        for size in sorted(sizes):
            started = time.perf_counter()
            seed(rt, org_id, seeded, size, invoices, rt.today(org_id), rt.clock())
            seed_seconds = time.perf_counter() - started
            if rt.engine.dialect.name == "postgresql":  # fresh statistics, as autovacuum takes after a bulk load
                with rt.engine.connect() as connection:
                    connection.exec_driver_sql("ANALYZE")
                    connection.commit()
            seeded = size
            pages: dict[str, Any] = {}
            for name, path in PAGES.items():
                client.get(path)  # warm-up: templates, catalogues, connection pool
                times, queries = [], 0
                for _ in range(repeats):
                    statements.clear()
                    event.listen(rt.engine, "before_cursor_execute", count)
                    begun = time.perf_counter()
                    response = client.get(path)
                    times.append(time.perf_counter() - begun)
                    event.remove(rt.engine, "before_cursor_execute", count)
                    if response.status_code != 200:
                        raise SystemExit(f"{path} at {size} administrations answered {response.status_code}")
                    queries = len(statements)
                pages[name] = {
                    "path": path,
                    "median_ms": round(statistics.median(times) * 1000, 1),
                    "best_ms": round(min(times) * 1000, 1),
                    "sql_statements": queries,
                    "bytes": len(response.data),
                }
            results.append(
                {
                    "administrations": size,
                    "open_invoices": size * invoices,
                    "seed_seconds": round(seed_seconds, 1),
                    "pages": pages,
                }
            )
        rt.close()
    backend = "postgresql" if (database_url or "").startswith("postgresql") else "sqlite"
    return {
        "benchmark": "cockpit",
        "database": backend,
        "invoices_per_administration": invoices,
        "repeats": repeats,
        "sizes": results,
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/cockpit.json"))
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    result = run(sizes, args.invoices, args.repeats, args.database_url)
    write_json(args.out, result)
    for size in result["sizes"]:
        first = size["pages"]["first_page"]
        print(
            f"{result['database']}: {size['administrations']} administrations, {size['open_invoices']} invoices: "
            f"{first['median_ms']} ms, {first['sql_statements']} SQL statements"
        )


if __name__ == "__main__":
    main()
