"""Day-cycle benchmark: a practice's N client administrations synced, decided and written back under the limits.

Runs what `dunning demo --clients N` runs (``connector.demo_practice``: the three sandboxes with their real
limits, OAuth connect through our web app, ``connector.cycle``), on a simulated clock shared by the sandboxes,
the runtime and the rate budget: a wait for a provider's window is skipped instead of slept, and counted. Two days
are measured: the first (every administration read in full) and the next (incremental reads, the rules again,
what is due written back). For each: administrations, invoices, API calls per provider against the minimum reads,
the wall time we took, the time the limits made us wait (skipped), the time the limits impose at least (the
busiest lane's calls over its rate), and how long the last client waited. Sizes: ``realistic`` (most 5-50
invoices, one in ten 100-300, one in forty 1,000-1,500) or ``small`` (5-50 each).
Writes ``bench/results/daycycle.json``. Run: ``python -m bench.daycycle [--clients 100,1000] [--sizes small]``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import machine, quiet, write_json
from connector import cycle, demo, demo_practice, services
from connector.clock import SimulatedClock
from connector.registry import adapter_class
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import upgrade

DEFAULT_OUT = Path(__file__).parent / "results" / "daycycle.json"
READS_PER_PAGE = {"moneybird": 100, "xero": 1000, "exact": 1000}  # invoices per page of the invoice stream


def small_sizes(clients: int, seed: int = 13) -> list[int]:
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    return [rng.randint(5, 50) for _ in range(clients)]


def minimum_reads(provider: str, invoices: int) -> int:
    """The fewest calls that read an administration's invoice stream (bench/README.md, the sync benchmark)."""
    pages = max(1, math.ceil(invoices / READS_PER_PAGE[provider]))
    return pages + (1 if provider == "moneybird" else 0)  # Moneybird: the id list, then the objects


def imposed_seconds(calls: Counter[str], moneybird_connections: int) -> dict[str, float]:
    """The least time each provider's shared limit needs for these calls: windows beyond the first, full."""
    imposed: dict[str, float] = {}
    for provider, count in calls.items():
        shared = [x for x in adapter_class(provider).limits if x.scope in ("app", "connection")]
        seconds = 0.0
        for limit in shared:
            per_key = count / (moneybird_connections if limit.scope == "connection" else 1)
            seconds = max(seconds, max(math.ceil(per_key / limit.calls) - 1, 0) * limit.seconds)
        imposed[provider] = seconds
    return imposed


def day(run: demo.DemoRun, clock: SimulatedClock, sizes: dict[int, tuple[str, int]]) -> dict[str, Any]:
    rt = run.runtime
    started, waited = time.monotonic(), clock.waited
    report = cycle.run_cycle(rt, [run.org_id])
    cycle.finish_connections(rt, [run.org_id], report)
    wall = time.monotonic() - started
    minimum: Counter[str] = Counter()
    for provider, invoices in sizes.values():
        minimum[provider] += minimum_reads(provider, invoices)
    with rt.sessions() as s:
        moneybird = len(repos.list_connections(s, run.org_id, "moneybird"))
    imposed = imposed_seconds(report.api_calls, max(moneybird, 1))
    return {
        **report.as_dict(),
        "api_calls_minimum_invoice_reads": dict(sorted(minimum.items())),
        "wall_seconds": round(wall, 1),
        "limit_wait_seconds": round(clock.waited - waited, 1),
        "limits_impose_at_least_seconds": {p: round(s, 1) for p, s in sorted(imposed.items())},
        "simulated_elapsed_seconds": round((report.finished_at - report.started_at).total_seconds(), 1)
        if report.finished_at
        else None,
    }


def bench_one(clients: int, kind: str, work: Path) -> dict[str, Any]:
    sizes = demo_practice.client_sizes(clients) if kind == "realistic" else small_sizes(clients)
    settings = Settings(var_dir=work / f"{kind}-{clients}", database_url=f"sqlite:///{work / f'{kind}-{clients}.db'}")
    upgrade(settings.database_url)
    seeded = time.monotonic()
    run = demo_practice.start(settings, clients, sizes=sizes, persist=False)
    try:
        seed_seconds = time.monotonic() - seeded
        clock = run.runtime.clock
        assert isinstance(clock, SimulatedClock)
        web_queue = run.web.app.extensions["dunning"].queue
        web_queue.enqueue = lambda *_args, **_kwargs: None  # connecting enqueues no sync: the cycle does it
        connected = time.monotonic()
        for provider in run.sandboxes:
            demo.connect(run, provider)
        connect_seconds = time.monotonic() - connected
        with run.runtime.sessions() as s:
            administrations = repos.list_administrations(s, run.org_id)
            kinds = {c.id: c.provider for c in repos.list_connections(s, run.org_id)}
        for adm in administrations:
            if adm.safe_mode:
                services.set_safe_mode(run.runtime, run.org_id, adm.id, False)
        books = demo_practice.spread(sizes, tuple(run.sandboxes))
        by_adm: dict[int, tuple[str, int]] = {}
        for provider in books:
            mine = [a for a in administrations if kinds[a.connection_id] == provider]
            by_adm.update({a.id: (provider, n) for a, n in zip(mine, books[provider], strict=False)})
        first = day(run, clock, by_adm)
        clock.sleep(86400)  # the next day's cycle
        second = day(run, clock, {})
        rejected = {
            name: sum(1 for _m, _p, status in server.app.extensions["sandbox"].request_log if status == 429)
            for name, server in run.sandboxes.items()
        }
    finally:
        run.shutdown()
    per_provider = Counter(kinds[a.connection_id] for a in administrations)
    return {
        "clients": clients,
        "sizes": kind,
        "administrations": dict(sorted(per_provider.items())),
        "invoices": sum(sizes),
        "largest_administration": max(sizes),
        "seed_seconds": round(seed_seconds, 1),
        "connect_seconds": round(connect_seconds, 1),
        "first_day": first,
        "next_day": second,
        "rejected_429": rejected,
    }


def main(
    clients: tuple[int, ...] = (100,),
    kind: str = "realistic",
    out: Path = DEFAULT_OUT,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    quiet()
    runs = []
    with tempfile.TemporaryDirectory(prefix="dunning-bench-daycycle-") as tmp:
        for n in clients:
            entry = bench_one(n, kind, Path(tmp))
            runs.append(entry)
            for label in ("first_day", "next_day"):
                d = entry[label]
                echo(
                    f"N={n} {kind} {label}: {d['done']}/{d['administrations']} done, calls {d['api_calls']}, "
                    f"wall {d['wall_seconds']} s, limits waited {d['limit_wait_seconds']} s "
                    f"(impose >= {d['limits_impose_at_least_seconds']}), "
                    f"last client after {d['done_after_max_seconds']} s"
                )
    payload: dict[str, Any] = {
        "benchmark": "daycycle",
        "machine": machine(),
        "how": "sandboxes with their real limits on a simulated clock: waits skipped and counted, not slept",
        "runs": runs,
    }
    if out.exists():  # runs of other sizes measured before stay beside these
        fresh = {(r["clients"], r["sizes"]) for r in runs}
        kept = [r for r in json.loads(out.read_text()).get("runs", []) if (r["clients"], r["sizes"]) not in fresh]
        payload["runs"] = sorted(kept + runs, key=lambda r: (r["sizes"], r["clients"]))
    write_json(out, payload)
    return payload


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", default="100")
    parser.add_argument("--sizes", choices=("realistic", "small"), default="realistic")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    main(tuple(int(n) for n in args.clients.split(",") if n.strip()), args.sizes, args.out)
