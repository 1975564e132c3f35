"""Sync benchmark: API calls against each provider's minimum, wall time and peak memory for N invoices.

For every provider and N, one tenant (administration / organisation / division) is seeded with N sales invoices
in the provider sandbox, served in-process (``sandboxes.runner.serve_in_thread``, ``rate_limits=False``, no
``state_path``). Against it two fresh stacks (``bench.common.start_stack``: temp SQLite DB, ``Runtime`` with a
memory budget whose limits are scaled so it never waits — see ``UnthrottledBudget``) each connect through the
real OAuth redirect flow over HTTP and run a full ``connector.sync.sync_connection``:

* the *timed* run measures wall time and API calls (per stream, per endpoint), then an incremental re-sync with
  nothing changed (calls and wall time);
* the *traced* run measures peak Python memory with ``tracemalloc`` (started after connecting, so the sandbox's
  seeded books are not counted). The sandbox serves from the same interpreter, so the peak also holds the
  sandbox's copy of the response being served; ``retained_max_bytes`` is the most memory still held *between*
  pages (sampled after each stored page), which is what would grow if the sync kept something per invoice.

Minimums (the records the invoice stream must deliver, ``stream_records``, counted in the sandbox):
Moneybird 1 + ceil(records/100) (one id+version list, 100 ids per POST, docs/providers/moneybird.md#incremental-sync);
Xero ceil(records/1000) (pages of 1,000, docs/providers/xero.md#requests) plus one empty page when records is a multiple
of 1,000; Exact ceil(rows/1000) over the PaymentTerms sync stream (1,000 rows a call, receivable and payable lines
mixed, docs/providers/exact.md#invoices) plus ``bulk/Cashflow/Receivables`` re-reads of the sales entries whose terms a
page boundary split (``EXTRA_CALLS``).
"""

from __future__ import annotations

import argparse
import gc
import math
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from bench.common import (
    BenchStack,
    bench_settings,
    machine,
    provider_settings,
    quiet,
    serve_in_child,
    start_stack,
    write_json,
)
from bench.memory import MemoryProbe, verdicts
from connector import demo, services, sync
from connector.storage import repos
from sandboxes.runner import sandbox_factory, serve_in_thread

PROVIDERS = ("moneybird", "xero", "exact")
SIZES = (1000, 10000)
CONTACTS = 50  # the same number of debtors at every N, so only the invoice count varies
DEFAULT_OUT = Path(__file__).parent / "results" / "sync.json"
EXTRA_CALLS = {
    "moneybird": "0",
    "xero": "+1 when records is a multiple of 1000 (the empty page that proves the end)",
    "exact": "+ bulk/Cashflow/Receivables re-reads of entries split across a page boundary (40 entries a call)",
}


def sandbox_options(provider: str, n: int) -> dict[str, Any]:
    sizes = {
        "moneybird": {"administrations": 1, "invoices_per_administration": n, "contacts_per_administration": CONTACTS},
        # the Xero sandbox reports X-MinLimit-Remaining even with rate_limits=False, and a 0 there parks the
        # tenant in our budget (correctly): generous limits keep the reported remainder above zero
        "xero": {
            "tenants": 1,
            "invoices_per_tenant": n,
            "contacts_per_tenant": CONTACTS,
            "minute_limit": 60_000,
            "day_limit": 5_000_000,
            "app_minute_limit": 10_000_000,
        },
        "exact": {"divisions": 1, "items_per_division": n, "accounts_per_division": CONTACTS},
    }[provider]
    return {"client_id": demo.DEMO_CLIENT_ID, "client_secret": demo.DEMO_CLIENT_SECRET, "rate_limits": False, **sizes}


def stream_records(provider: str, state: Any) -> int:
    """What the invoice stream has to deliver on a full read, counted in the sandbox's own books."""
    tenant = state.tenant_ids()[0]
    if provider == "moneybird":
        return len(state.administration(tenant)["invoices"])  # GET synchronization lists every sales invoice
    if provider == "xero":
        return sum(1 for i in state.org(tenant).invoices.values() if i["Type"] == "ACCREC")  # incl. DELETED
    return len(state.division(tenant)["terms"])  # every PaymentTerms row, receivable and payable


def minimum_calls(provider: str, records: int) -> int:
    if provider == "moneybird":
        return 1 + math.ceil(records / 100)
    return math.ceil(records / 1000)


def expected_extra(provider: str, records: int, endpoint_calls: Counter[str]) -> int:
    """The documented constant on top of ``minimum_calls`` (see ``EXTRA_CALLS``)."""
    if provider == "xero":
        return 1 if records % 1000 == 0 else 0
    if provider == "exact":
        return sum(c for path, c in endpoint_calls.items() if "bulk/Cashflow/Receivables" in path)
    return 0


# which endpoint serves which stream; calls are attributed by URL, so list_tenants and the settings read are apart
STREAM_ENDPOINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "moneybird": (
        (r"/contacts/synchronization", "debtors"),
        (r"/sales_invoices/synchronization", "invoices"),
        (r"/administrations\.json", "tenants"),
        (r"/workflows\.json", "settings"),
    ),
    "xero": (
        (r"/Contacts$", "debtors"),
        (r"/Invoices$", "invoices"),
        (r"/CreditNotes$", "credit_notes"),
        (r"/(Payments|Overpayments|Prepayments)$", "payments"),
        (r"(/connections|/Organisation)$", "tenants"),
        (r"/InvoiceReminders/", "settings"),
    ),
    "exact": (
        (r"/CRM/Accounts$", "debtors"),
        (r"/Cashflow/(PaymentTerms|Receivables)$", "invoices"),
        (r"(/Me|/system/Divisions)$", "tenants"),
    ),
}
_ID_SEGMENT = re.compile(r"/(\d+|[0-9a-fA-F-]{32,36})(?=/|$)")


def endpoint(method: str, url: str) -> str:
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    return f"{method} /{_ID_SEGMENT.sub('/{id}', '/' + path).lstrip('/')}"


def connect(stack: BenchStack, provider: str) -> int:
    """The real OAuth web flow over HTTP: /connect -> sandbox authorize (auto-consent) -> our callback."""
    response = requests.get(f"{stack.web.url}/connect/{provider}", timeout=60, allow_redirects=True)
    connection_id = services.existing_connection(stack.runtime, stack.org_id, provider)
    if response.status_code != 200 or connection_id is None:
        raise RuntimeError(f"connecting {provider} failed ({response.status_code}): {response.text[:300]}")
    return connection_id


def settle(timeout: float = 5.0) -> None:
    """Wait until the web app has finished every request (the OAuth callback's page render loads Babel's locale
    data once per process, ~10 MB, in a server thread that outlives the response), then collect garbage, so
    that neither lands in the sync's measurements."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(
        "process_request_thread" in t.name for t in threading.enumerate() if t is not threading.current_thread()
    ):
        time.sleep(0.01)
    gc.collect()


class CallLog:
    """Counts wire requests per endpoint with a requests response hook on the connection's HTTP session."""

    def __init__(self, stack: BenchStack, connection_id: int) -> None:
        self.runtime, self.connection_id = stack.runtime, connection_id
        self.endpoints: Counter[str] = Counter()
        with stack.runtime.sessions() as s:
            connection = repos.get_connection(s, stack.org_id, connection_id)
        stack.runtime.http_for(connection).session.hooks["response"].append(self._hook)

    def _hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.endpoints[endpoint(response.request.method or "GET", response.request.url or "")] += 1

    def calls(self) -> int:
        return self.runtime.calls_for(self.connection_id)

    def per_stream(self, provider: str) -> dict[str, int]:
        """Calls per sync stream (plus ``tenants`` and ``settings``), from the endpoints they went to."""
        result = dict.fromkeys((*sync.STREAMS, "tenants", "settings", "other"), 0)
        for name, calls in self.endpoints.items():
            stream = next((s for pattern, s in STREAM_ENDPOINTS[provider] if re.search(pattern, name)), "other")
            result[stream] += calls
        return result


def _run(provider: str, sandbox_url: str, work: Path, *, traced: bool) -> dict[str, Any]:
    stack = start_stack(provider_settings(bench_settings(work), provider, sandbox_url))
    try:
        connection_id = connect(stack, provider)
        settle()
        log = CallLog(stack, connection_id)
        probe = MemoryProbe() if traced else None

        def progress(stream: str, _records: int) -> None:
            if probe is not None:
                probe.page_stored(stream)

        if probe is not None:
            probe.start()
        began = time.perf_counter()
        report = sync.sync_connection(stack.runtime, stack.org_id, connection_id, full=True, progress=progress)
        wall = time.perf_counter() - began
        if probe is not None:
            probe.stop()
        result: dict[str, Any] = {
            "wall_seconds": round(wall, 3),
            "api_calls": report.api_calls,
            "stream_calls": log.per_stream(provider),
            "endpoint_calls": dict(sorted(log.endpoints.items())),
            "pages": report.pages,
            "changed": dict(report.changed),
            "memory": probe.summary() if probe is not None else None,
        }
        with stack.runtime.sessions() as s:
            administrations = repos.list_administrations(s, stack.org_id, connection_id)
            result["stored"] = repos.counts(s, stack.org_id, [a.id for a in administrations])
        if not traced:
            log.endpoints.clear()
            began = time.perf_counter()
            incremental = sync.sync_connection(stack.runtime, stack.org_id, connection_id)
            result["incremental"] = {
                "wall_seconds": round(time.perf_counter() - began, 3),
                "api_calls": incremental.api_calls,
                "stream_calls": log.per_stream(provider),
                "endpoint_calls": dict(sorted(log.endpoints.items())),
                "changed": dict(incremental.changed),
            }
        return result
    finally:
        stack.close()


def one_tenant(provider: str, state: Any) -> None:
    """Moneybird's sandbox always seeds at least two administrations (an accountant's); keep only the first."""
    if provider == "moneybird":
        for extra in state.tenant_ids()[1:]:
            del state.data["administrations"][extra]


def bench_one(provider: str, n: int, work: Path) -> dict[str, Any]:
    seeding = time.perf_counter()
    app = sandbox_factory(provider)(**sandbox_options(provider, n))
    seed_seconds = time.perf_counter() - seeding
    state = app.extensions["sandbox"]
    one_tenant(provider, state)
    if len(state.tenant_ids()) != 1:
        raise RuntimeError(f"{provider} sandbox has {len(state.tenant_ids())} tenants; the benchmark needs one")
    records = stream_records(provider, state)
    open_in_sandbox = len(state.open_invoice_ids(state.tenant_ids()[0]))
    with serve_in_thread(app) as sandbox:
        timed = _run(provider, sandbox.url, work / f"{provider}-{n}-timed", traced=False)
        shared = _run(provider, sandbox.url, work / f"{provider}-{n}-traced-shared", traced=True)
    with serve_in_child(app) as url:
        traced = _run(provider, url, work / f"{provider}-{n}-traced", traced=True)
    invoice_calls = timed["stream_calls"]["invoices"]
    minimum = minimum_calls(provider, records)
    extra = expected_extra(provider, records, Counter(timed["endpoint_calls"]))
    return {
        "provider": provider,
        "n": n,
        "sandbox_seed_seconds": round(seed_seconds, 3),
        "stream_records": records,
        "open_invoices_in_sandbox": open_in_sandbox,
        "invoice_stream_calls": invoice_calls,
        "minimum_calls": minimum,
        "minimum_calls_over_n": minimum_calls(provider, n),
        "documented_extra_calls": extra,
        "documented_extra_rule": EXTRA_CALLS[provider],
        "calls_match_minimum_plus_extra": invoice_calls == minimum + extra,
        "total_api_calls": timed["api_calls"],
        "wall_seconds": timed["wall_seconds"],
        "invoices_per_second": round(records / timed["wall_seconds"], 1) if timed["wall_seconds"] else None,
        "stream_calls": timed["stream_calls"],
        "endpoint_calls": timed["endpoint_calls"],
        "pages": timed["pages"],
        "changed": timed["changed"],
        "stored": timed["stored"],
        **{k: v for k, v in traced["memory"].items()},
        "peak_bytes_sandbox_in_process": shared["memory"]["peak_bytes"],
        "traced_wall_seconds": traced["wall_seconds"],
        "incremental": timed["incremental"],
    }


def main(
    sizes: tuple[int, ...] = SIZES,
    providers: tuple[str, ...] = PROVIDERS,
    out: Path = DEFAULT_OUT,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    quiet()
    entries = []
    with tempfile.TemporaryDirectory(prefix="dunning-bench-sync-") as tmp:
        for provider in providers:
            for n in sizes:
                entry = bench_one(provider, n, Path(tmp))
                entries.append(entry)
                echo(
                    f"{provider:9} N={n:>6}: invoice stream {entry['invoice_stream_calls']} calls "
                    f"(minimum {entry['minimum_calls']} + {entry['documented_extra_calls']}), "
                    f"total {entry['total_api_calls']}, {entry['wall_seconds']} s, "
                    f"peak {entry['peak_bytes'] / 1e6:.1f} MB, incremental {entry['incremental']['api_calls']} calls"
                )
    payload = {"benchmark": "sync", "machine": machine(), "runs": entries, "memory": verdicts(entries)}
    write_json(out, payload)
    return payload


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--providers", default=",".join(PROVIDERS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    main(tuple(int(s) for s in _csv(args.sizes)), _csv(args.providers), args.out)
