"""Render benchmark: server time of the report pages (aging, DSO with its trend, forecast) at N invoices.

Seeds a throwaway SQLite database straight through ``connector.storage.repos`` with N open and paid invoices
(seeded random, due dates from 200 days overdue to 60 days ahead, a payment for every paid one) in two
administrations, one in EUR and one in USD, then times ``GET`` of each page through the real Flask app (test
client: our code only, no network) — best of ``repeats`` — and the CSV and XLSX downloads of the aging.

``.venv/bin/python -m bench.render [--invoices 10000] [--repeats 3] [--out bench/results/render.json]``
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import bench_settings, machine, quiet, write_json
from connector import clock, model
from connector.storage import repos
from connector.storage.db import upgrade
from dashboard import create_app

PAGES = {
    "aging": "/reports?lang=nl",
    "dso": "/reports/dso?lang=nl",
    "forecast": "/reports/forecast?lang=nl",
    "aging_csv": "/reports?format=csv",
    "aging_xlsx": "/reports?format=xlsx",
}


def _seed(rt: Any, org_id: int, invoices: int) -> None:
    rng = random.Random(12)  # noqa: S311
    today, now = clock.today(), clock.utcnow()
    with rt.sessions.begin() as s:
        connection = repos.create_connection(s, org_id, "moneybird")
        for n, currency in enumerate(("EUR", "USD")):
            tenant = model.Tenant(provider_tenant_id=f"bench-{n}", name=f"Bench {currency}", currency=currency)
            adm = repos.upsert_administration(s, org_id, connection.id, "moneybird", tenant)
            rows, payments = [], []
            for i in range(invoices // 2 + (invoices % 2 if n == 0 else 0)):
                due = today + timedelta(days=rng.randint(-200, 60))
                total = Decimal(rng.randint(1_000, 500_000)) / 100
                paid = rng.random() < 0.4 and due < today
                ref = f"{n}-{i}"
                rows.append(
                    model.Invoice(
                        provider_ref=ref,
                        number=ref,
                        debtor_ref=f"d{rng.randint(1, 400)}",
                        invoice_date=due - timedelta(days=30),
                        due_date=due,
                        currency=currency,
                        total=total,
                        open_amount=Decimal(0) if paid else total,
                        status=model.InvoiceStatus.PAID if paid else model.InvoiceStatus.OPEN,
                        provider_state="paid" if paid else "open",
                    )
                )
                if paid:
                    payments.append(
                        model.Payment(
                            provider_ref=f"p{ref}",
                            invoice_ref=ref,
                            payment_date=due + timedelta(days=rng.randint(-5, 40)),
                            amount=total,
                            currency=currency,
                            kind="payment",
                        )
                    )
            repos.upsert_invoices(s, org_id, adm.id, rows, now)
            repos.upsert_payments(s, org_id, adm.id, payments, now)


def run(invoices: int, repeats: int) -> dict[str, Any]:
    quiet()
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(Path(tmp))
        upgrade(settings.database_url)
        app = create_app(settings)
        services = app.extensions["dunning"]
        _seed(services.runtime, services.org_id, invoices)
        client = app.test_client()  # no accounts: this machine is the operator (dashboard.access)
        timings: dict[str, Any] = {}
        for name, path in PAGES.items():
            best = None
            size = 0
            for _ in range(repeats):
                started = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")
                size = len(response.data)
                best = elapsed if best is None else min(best, elapsed)
            timings[name] = {"path": path, "seconds": round(best or 0.0, 4), "bytes": size}
        services.runtime.close()
    return {"benchmark": "render", "invoices": invoices, "repeats": repeats, "pages": timings, "machine": machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/render.json"))
    args = parser.parse_args()
    result = run(args.invoices, args.repeats)
    write_json(args.out, result)
    for name, timing in result["pages"].items():
        print(f"{name:12} {timing['seconds']:8.3f} s  {timing['bytes']:>9} bytes")


if __name__ == "__main__":
    main()
