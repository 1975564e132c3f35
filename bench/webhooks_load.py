"""Webhook load benchmark: signed Xero deliveries at a fixed rate against gunicorn started the way ``dunning serve``
starts it (the command itself, in a child process), on SQLite with the SQLite job queue.

One Xero administration is connected (its tenant routed to the bench organisation); the app-wide webhook key
signs each delivery (``x-xero-signature``, base64 HMAC-SHA256 over the raw body). For each rate (50, 200 and 500
requests a second by default) a bounded pool of client threads sends one distinct INVOICE event per delivery on
a fixed schedule for ``--seconds``; latency is measured from each request's scheduled time (so a stalled server
shows in the figures instead of slowing the client down). Afterwards the inbox must hold exactly one row per 2xx
(every acknowledged delivery was persisted before it was answered). Result JSON: bench/results/webhooks_load.json.

``.venv/bin/python -m bench.webhooks_load [--rates 50 200 500] [--seconds 10]``
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from bench.common import machine, write_json
from bench.webhooks import percentiles
from connector import services
from connector.auth.crypto import TokenCipher
from connector.model import Tenant
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction, upgrade

RATES = (50, 200, 500)
SECONDS = 10
CLIENTS = 64
TENANT = "bench-xero-tenant"
KEY = "bench-xero-webhook-key"
DEFAULT_OUT = Path(__file__).parent / "results" / "webhooks_load.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(env: dict[str, str]) -> None:
    """Migrate and connect one Xero administration whose tenant the deliveries name."""
    upgrade(env["DUNNING_DATABASE_URL"])
    rt = Runtime(Settings(database_url=env["DUNNING_DATABASE_URL"], secret_keys=json.loads(env["DUNNING_SECRET_KEYS"])))
    try:
        org_id = services.ensure_organisation(rt, "default")
        with transaction(rt.sessions) as s:
            connection = repos.create_connection(s, org_id, "xero", display_name="Xero")
            repos.upsert_administration(s, org_id, connection.id, "xero", Tenant(provider_tenant_id=TENANT, name="B"))
    finally:
        rt.close()


def _delivery(number: int) -> bytes:
    event = {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{number}",
        "resourceId": f"00000000-0000-4000-8000-{number:012d}",
        "eventDateUtc": "2026-11-24T10:00:00.000Z",
        "eventType": "UPDATE",
        "eventCategory": "INVOICE",
        "tenantId": TENANT,
        "tenantType": "ORGANISATION",
    }
    return json.dumps({"events": [event], "firstEventSequence": number, "lastEventSequence": number}).encode()


def _signed(raw: bytes) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(KEY.encode(), raw, hashlib.sha256).digest()).decode()
    return {"Content-Type": "application/json", "x-xero-signature": digest}


def _inbox_rows(database_url: str) -> int:
    rt = Runtime(Settings(database_url=database_url, secret_keys=[TokenCipher.generate_key()]))
    try:
        with rt.sessions() as s:
            org_id = services.choose_organisation(rt, None)
            return len(repos.inbox_events(s, org_id, limit=10_000_000))
    finally:
        rt.close()


def _run_rate(url: str, rate: int, seconds: float, first: int) -> dict[str, Any]:
    total = int(rate * seconds)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    local = threading.local()
    start = time.perf_counter() + 0.5

    def one(i: int) -> None:
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        http = getattr(local, "http", None) or requests.Session()
        local.http = http
        raw = _delivery(first + i)
        try:
            status = str(http.post(url, data=raw, headers=_signed(raw), timeout=30).status_code)
        except requests.RequestException:
            status = "error"
        with lock:
            latencies.append((time.perf_counter() - due) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(one, range(total)))
    elapsed = time.perf_counter() - began - 0.5
    ok = sum(n for s, n in statuses.items() if s.startswith("2"))
    return {
        "target_rps": rate,
        "sent": total,
        "achieved_rps": round(total / elapsed, 1),
        "ok": ok,
        "statuses": statuses,
        **percentiles(latencies),
    }


def main(rates: tuple[int, ...] = RATES, seconds: float = SECONDS, out: Path = DEFAULT_OUT) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="dunning-bench-load-") as tmp:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")}
        env |= {
            "DUNNING_VAR_DIR": tmp,
            "DUNNING_DATABASE_URL": f"sqlite:///{tmp}/dunning.db",
            "DUNNING_SECRET_KEYS": json.dumps([TokenCipher.generate_key()]),
            "DUNNING_BASE_URL": f"http://127.0.0.1:{port}",
            "DUNNING_XERO__WEBHOOK_KEY": KEY,
            "DUNNING_LOG_LEVEL": "WARNING",
        }
        _prepare(env)
        dunning = str(Path(sys.executable).parent / "dunning")
        log = Path(tmp) / "serve.log"
        with log.open("wb") as sink:
            server = subprocess.Popen([dunning, "serve", "--port", str(port)], env=env, stdout=sink, stderr=sink)
        url = f"http://127.0.0.1:{port}/webhooks/xero"
        try:
            for _ in range(300):
                try:
                    requests.get(f"http://127.0.0.1:{port}/login", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            runs, first = [], 0
            for rate in rates:
                runs.append(_run_rate(url, rate, seconds, first))
                first += runs[-1]["sent"]
            rows = _inbox_rows(env["DUNNING_DATABASE_URL"])
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    ok = sum(r["ok"] for r in runs)
    payload = {
        "benchmark": "webhooks_load",
        "setup": "dunning serve (gunicorn gthread, 2 workers x 8 threads, preloaded), SQLite + SQLite queue, "
        f"{CLIENTS} client threads on a fixed schedule, latency from the scheduled send time",
        "runs": runs,
        "checks": {"acknowledged": ok, "inbox_rows": rows, "every_ack_stored": rows == ok},
        "verified": rows == ok,
        "machine": machine(),
    }
    write_json(out, payload)
    for r in runs:
        print(
            f"{r['target_rps']}/s: achieved {r['achieved_rps']}/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
            f"statuses {r['statuses']}"
        )
    print(f"acknowledged {ok}, inbox rows {rows}, verified: {payload['verified']}")
    return payload


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Webhook load through dunning serve (bench/README.md)")
    parser.add_argument("--rates", type=int, nargs="+", default=list(RATES))
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    main(tuple(args.rates), args.seconds, args.out)
