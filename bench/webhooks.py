"""Webhook acknowledgement benchmark: how long ``POST /webhooks/moneybird`` takes to verify, persist and answer.

The real web app (``dashboard.create_app``) runs on a temp SQLite DB, served by werkzeug in a thread, with a
``RecordingQueue`` (``enqueue`` is a list append, i.e. ``queue_immediate=False`` semantics with no queue cost),
so the figure is the receiver's own work: signature check against the per-administration secret (decrypted
from the DB), parse, dedupe, insert, commit, 200. One administration is registered the way
``connect.register_webhooks`` stores it (Fernet ciphertext bound to ``webhook:moneybird:<tenant>``). K
correctly signed deliveries with distinct ``Idempotency-Key``s are sent one after another over one keep-alive
connection, then D re-deliveries of already-acknowledged keys (freshly signed, as Moneybird's retries are).
Afterwards every acknowledged key must have exactly one inbox row and one enqueued job, and duplicates none.

``.venv/bin/python -m bench.webhooks [--deliveries 500] [--duplicates 200] [--out bench/results/webhooks.json]``
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from bench.common import BenchStack, bench_settings, machine, quiet, start_stack, write_json
from connector.model import Tenant
from connector.storage import repos, tables
from connector.storage.db import transaction

DELIVERIES = 500
DUPLICATES = 200
TENANT = "123456789012345678"
WEBHOOK_SECRET = "bench-webhook-secret-of-this-administration"  # noqa: S105 - a throwaway benchmark secret
DEFAULT_OUT = Path(__file__).parent / "results" / "webhooks.json"


def register_administration(stack: BenchStack) -> int:
    """A connected Moneybird administration whose webhook secret is stored as ``register_webhooks`` stores it."""
    rt = stack.runtime
    with transaction(rt.sessions) as s:
        connection = repos.create_connection(s, stack.org_id, "moneybird", display_name="Moneybird")
        adm = repos.upsert_administration(
            s, stack.org_id, connection.id, "moneybird", Tenant(provider_tenant_id=TENANT, name="Bench B.V.")
        )
        adm.webhook_ref = "bench-webhook"
        binding = rt.webhook_secret_binding("moneybird", TENANT)
        adm.webhook_secret_ciphertext = rt.cipher.encrypt(binding, {"secret": WEBHOOK_SECRET})
        return adm.id


def delivery(invoice_number: int) -> bytes:
    """A Moneybird ``sales_invoice_updated`` push (docs/providers/moneybird.md#payload), as raw bytes."""
    body = {
        "administration_id": TENANT,
        "webhook_id": "bench-webhook",
        "webhook_token": "",
        "entity_type": "SalesInvoice",
        "entity_id": str(400_000_000_000_000_000 + invoice_number),
        "state": "open",
        "action": "sales_invoice_updated",
        "entity": {"id": str(400_000_000_000_000_000 + invoice_number), "state": "open", "version": 1_700_000_000},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def signed_headers(raw: bytes, idempotency_key: str) -> dict[str, str]:
    """``Moneybird-Signature: t=<unix>,v1=<hex HMAC-SHA256 over "t." + raw body>`` (computed here, not imported)."""
    timestamp = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "Moneybird-Signature": f"t={timestamp},v1={digest}",
        "Idempotency-Key": idempotency_key,
    }


def percentiles(latencies_ms: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {
        "count": len(ordered),
        "p50_ms": round(cuts[49], 3),
        "p95_ms": round(cuts[94], 3),
        "p99_ms": round(cuts[98], 3),
        "max_ms": round(ordered[-1], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


def send(http: requests.Session, url: str, raw: bytes, key: str) -> tuple[int, float]:
    began = time.perf_counter()
    response = http.post(url, data=raw, headers=signed_headers(raw, key), timeout=30)
    return response.status_code, (time.perf_counter() - began) * 1000


def main(
    deliveries: int = DELIVERIES,
    duplicates: int = DUPLICATES,
    out: Path = DEFAULT_OUT,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    quiet()
    with tempfile.TemporaryDirectory(prefix="dunning-bench-webhooks-") as tmp:
        stack = start_stack(bench_settings(Path(tmp)))
        try:
            register_administration(stack)
            payload = measure(stack, deliveries, duplicates)
        finally:
            stack.close()
    payload["machine"] = machine()
    write_json(out, payload)
    first, again = payload["first_deliveries"], payload["duplicates"]
    echo(
        f"webhooks: {first['count']} deliveries p50 {first['p50_ms']} ms, p95 {first['p95_ms']} ms, p99 "
        f"{first['p99_ms']} ms, max {first['max_ms']} ms; {again['count']} duplicates p50 {again['p50_ms']} ms; "
        f"verified: {payload['verified']}"
    )
    return payload


def measure(stack: BenchStack, deliveries: int, duplicates: int) -> dict[str, Any]:
    url = f"{stack.web.url}/webhooks/moneybird"
    keys = [str(uuid.uuid4()) for _ in range(deliveries)]
    first_ms: list[float] = []
    again_ms: list[float] = []
    acknowledged: list[str] = []
    statuses: dict[str, int] = {}
    with requests.Session() as http:
        send(http, url, delivery(-1), "warm-up")  # first request pays for imports and the connection
        for number, key in enumerate(keys):
            status, elapsed = send(http, url, delivery(number), key)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            first_ms.append(elapsed)
            if status == 200:
                acknowledged.append(key)
        repeat = [keys[i % deliveries] for i in range(duplicates)]
        duplicate_statuses: dict[str, int] = {}
        for number, key in enumerate(repeat):
            status, elapsed = send(http, url, delivery(number % deliveries), key)
            duplicate_statuses[str(status)] = duplicate_statuses.get(str(status), 0) + 1
            again_ms.append(elapsed)
    checks = verify(stack, acknowledged, duplicates)
    return {
        "benchmark": "webhooks",
        "provider": "moneybird",
        "setup": "dashboard.create_app on SQLite, werkzeug threaded server, enqueue = list append, sequential",
        "first_deliveries": {**percentiles(first_ms), "statuses": statuses},
        "duplicates": {**percentiles(again_ms), "statuses": duplicate_statuses},
        "checks": checks,
        "verified": all(checks[k] for k in ("every_ack_stored", "duplicates_stored_none", "one_job_per_event")),
    }


def verify(stack: BenchStack, acknowledged: list[str], duplicates: int) -> dict[str, Any]:
    """Every 200 has its inbox row; the duplicates added no row and no job."""
    with stack.runtime.sessions() as s:
        stored_keys = set(
            s.scalars(
                select(tables.InboxEvent.dedupe_id).where(
                    tables.InboxEvent.org_id == stack.org_id, tables.InboxEvent.provider == "moneybird"
                )
            )
        )
        rows = s.scalar(select(func.count()).select_from(tables.InboxEvent)) or 0
    jobs = [job for job in stack.queue.jobs if job[0] == "process_event"]
    unique_jobs = {job[1] for job in jobs}
    expected_rows = len(acknowledged) + 1  # plus the warm-up delivery
    return {
        "acknowledged": len(acknowledged),
        "inbox_rows": rows,
        "enqueued_jobs": len(jobs),
        "every_ack_stored": set(acknowledged) <= stored_keys,
        "duplicates_sent": duplicates,
        "duplicates_stored_none": rows == expected_rows,
        "one_job_per_event": len(jobs) == expected_rows == len(unique_jobs),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Webhook acknowledgement latency (bench/README.md)")
    parser.add_argument("--deliveries", type=int, default=DELIVERIES)
    parser.add_argument("--duplicates", type=int, default=DUPLICATES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    main(args.deliveries, args.duplicates, args.out)
