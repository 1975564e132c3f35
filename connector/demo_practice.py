"""``dunning demo --clients N``: an accounting practice with N client administrations across the three sandboxes.

Beside ``connector.demo`` (whose sandboxes, mailbox, web app and OAuth connect it reuses): ``client_sizes`` gives
the clients realistic sizes (most 5-50 invoices, one in ten 100-300, one in forty 1,000-1,500), ``spread`` deals
them over Exact Online (one connection, many divisions), Moneybird (one user, many administrations) and Xero (one
connection, many organisations), each sandbox seeded with exactly those books. The practice's organisation (kind
``practice``) connects each package through the web app, then ``connector.cycle`` syncs, decides and writes back
every client under the providers' limits. The sandboxes keep their books in memory (saving a practice's books
after every write would cost more than the run), so a folder holds one practice demo (``MARKER``). The sandboxes,
the runtime and the rate budget share a ``SimulatedClock``: a wait for a limit (Moneybird's 150 calls per 5
minutes are the tightest) is skipped instead of slept, and the summary says how long the limits would have made a
real run wait (docs/operations.md#capacity).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from connector import cycle, demo, services
from connector.clock import SimulatedClock, utcnow
from connector.model import Money
from connector.settings import Settings
from connector.storage import repos

PRACTICE_ORG = "Demo practice"
PRACTICE_OWNER = "owner@practice.example"  # printed by `dunning demo --clients N` with its password
PRACTICE_PASSWORD = "demo-practice-password"  # noqa: S105 - a demo on 127.0.0.1, printed for the person trying it
PROVIDERS = ("exact", "moneybird", "xero")
MARKER = "practice-demo.json"  # under var/: this folder's practice demo has run (its sandboxes are gone with it)


def already_ran(settings: Settings) -> int | None:
    """How many clients the practice demo that ran in this folder had (None: it has not run here)."""
    marker = settings.var_dir / MARKER
    return int(json.loads(marker.read_text())["clients"]) if marker.exists() else None


def client_sizes(clients: int, seed: int = 13) -> list[int]:
    """Invoices per client: most small (5-50), one in ten medium (100-300), one in forty large (1,000-1,500)."""
    rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not a secret
    sizes = []
    for index in range(clients):
        if index % 40 == 7:
            sizes.append(rng.randint(1000, 1500))
        elif index % 10 == 3:
            sizes.append(rng.randint(100, 300))
        else:
            sizes.append(rng.randint(5, 50))
    return sizes


def spread(sizes: list[int], providers: tuple[str, ...] = PROVIDERS) -> dict[str, list[int]]:
    """The clients dealt over the packages in turn (each gets its share of small, medium and large ones)."""
    dealt: dict[str, list[int]] = {p: [] for p in providers}
    for index, size in enumerate(sizes):
        dealt[providers[index % len(providers)]].append(size)
    return {p: books for p, books in dealt.items() if books}


def sandbox_options(books: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
    """Each sandbox seeded with its clients' books; Moneybird's own reminder workflow off (we send)."""
    options: dict[str, dict[str, Any]] = {p: {"sizes": sizes} for p, sizes in books.items()}
    if "moneybird" in options:
        options["moneybird"] |= {"administrations": len(books["moneybird"]), "auto_reminders": False}
    if "exact" in options:
        options["exact"]["divisions"] = len(books["exact"])
    if "xero" in options:
        options["xero"]["tenants"] = len(books["xero"])
    return options


ROWS = ("administrations", "invoices", "open_invoices", "open_amount", "decisions", "writebacks", "api_calls")


@dataclass
class PracticeSummary:
    clients: int
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)  # per package: ROWS
    wall_seconds: float = 0.0
    limit_wait_seconds: float = 0.0  # skipped by the simulated clock: what the limits would have made us wait
    cycle: dict[str, object] = field(default_factory=dict)

    def totals(self) -> dict[str, Any]:
        summed: dict[str, Any] = {k: sum(p[k] for p in self.providers.values()) for k in ROWS if k != "open_amount"}
        amounts: Counter[str] = Counter()
        for counts in self.providers.values():
            amounts.update(counts["open_amount"])
        return summed | {"open_amount": dict(sorted(amounts.items()))}

    def as_dict(self) -> dict[str, Any]:
        def plain(counts: dict[str, Any]) -> dict[str, Any]:
            return counts | {"open_amount": {c: str(a) for c, a in counts["open_amount"].items()}}

        return {
            "clients": self.clients,
            "providers": {name: plain(counts) for name, counts in sorted(self.providers.items())},
            "total": plain(self.totals()),
            "wall_seconds": round(self.wall_seconds, 1),
            "limit_wait_seconds": round(self.limit_wait_seconds, 1),
            "cycle": self.cycle,
        }


def start(
    base: Settings,
    clients: int,
    *,
    port: int = 0,
    providers: list[str] | None = None,
    sizes: list[int] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    persist: bool = False,
) -> demo.DemoRun:
    """The practice's sandboxes and web app; ``sizes`` and ``options`` (per provider, e.g. scaled-down limits) for
    tests and benchmarks."""
    chosen = tuple(p for p in PROVIDERS if not providers or p in providers)
    practice = demo.Practice(
        org=PRACTICE_ORG,
        owner=PRACTICE_OWNER,
        password=PRACTICE_PASSWORD,
        state_dir=f"practice-{clients}",
        clock=SimulatedClock(utcnow()),
        persist=persist,
    )
    books = spread(sizes or client_sizes(clients), chosen)
    seeded = sandbox_options(books)
    for provider, extra in (options or {}).items():
        seeded.setdefault(provider, {}).update(extra)
    return demo.start(base, providers=list(books), port=port, options=seeded, practice=practice)


def run(run: demo.DemoRun, clients: int) -> PracticeSummary:
    """Connect every package, then one day's cycle over all the practice's clients; the totals."""
    clock = run.runtime.clock
    if not isinstance(clock, SimulatedClock):  # pragma: no cover - start() always gives one
        raise TypeError("the practice demo runs on a simulated clock")

    began = time.monotonic()
    rt, org_id = run.runtime, run.org_id
    for provider in run.sandboxes:
        demo.connect(run, provider)
    with rt.sessions() as s:
        administrations = repos.list_administrations(s, org_id)
    for adm in administrations:
        if adm.safe_mode:
            services.set_safe_mode(rt, org_id, adm.id, False)  # the demo sends to its own sandboxes
    waited_before = clock.waited
    report = cycle.run_cycle(rt, [org_id])
    cycle.finish_connections(rt, [org_id], report)
    with rt.sessions() as s:
        connections = repos.list_connections(s, org_id)
    summary = PracticeSummary(clients=clients, cycle=report.as_dict())
    for connection in connections:
        ids = [a.id for a in administrations if a.connection_id == connection.id]
        with rt.sessions() as s:
            counts = repos.counts(s, org_id, ids)
            amounts = repos.open_by_currency(s, org_id, ids)
        name = connection.provider
        summary.providers[name] = {
            "administrations": len(ids),
            "invoices": counts["invoices"],
            "open_invoices": counts["open_invoices"],
            "open_amount": {c: Money.from_minor(minor, c).amount for c, minor in amounts.items()},
            "decisions": report.decisions[name],
            "writebacks": report.writebacks[name],
            "api_calls": rt.calls_for(connection.id),  # connecting included
        }
    (run.settings.var_dir / MARKER).write_text(json.dumps({"clients": clients}))
    summary.wall_seconds = time.monotonic() - began
    summary.limit_wait_seconds = clock.waited - waited_before
    return summary
