"""Shared benchmark plumbing: a throwaway wired-up stack (settings, SQLite, Runtime, web app) and JSON output.

Sits beside the benchmarks, never in production code. ``BenchStack`` builds what ``connector.demo`` builds
(temp SQLite DB migrated with ``connector.storage.db.upgrade``, a ``Runtime`` with ``budget_url="memory://"``,
the real web app served in a thread for the OAuth callback and webhooks) but with a ``RecordingQueue``, so
nothing the web app enqueues runs inline, and an ``UnthrottledBudget`` (see its docstring) so that the provider's
published limits do not turn a benchmark of our code into a benchmark of ``time.sleep``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import os
import platform
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from werkzeug.serving import make_server

from connector import demo, services
from connector.auth.crypto import TokenCipher
from connector.http.budget import RateBudget
from connector.logging import configure_logging
from connector.ports import AccountingAdapter
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage.db import upgrade
from sandboxes.runner import RunningServer, serve_in_thread

LIMIT_FACTOR = 1000  # how much more generous than the published limit the benchmark budget is
BENCH_ORG = "Benchmark accountancy"


class UnthrottledBudget(RateBudget):
    """The production ``RateBudget`` (same buckets, same keys, same per-call ``put``) with every adapter's
    published limits multiplied by ``LIMIT_FACTOR``.

    Why: Moneybird allows 150 calls / 5 min and Xero and Exact 60 / min per tenant, so a 10,000-invoice full sync
    would spend most of its wall time waiting for the window; the figure we want is the cost of our own code and
    the number of calls, not the provider's budget. The sandboxes run with ``rate_limits=False`` for the same
    reason. Production limits are untouched: the adapter classes are not modified, ``acquire`` only passes a
    subclass of the adapter class whose ``limits`` are scaled (its ``id`` and so its bucket keys stay the same).
    """

    _scaled: dict[type[AccountingAdapter], type[AccountingAdapter]] = {}

    @classmethod
    def generous(cls, adapter_cls: type[AccountingAdapter]) -> type[AccountingAdapter]:
        scaled = cls._scaled.get(adapter_cls)
        if scaled is None:
            limits = tuple(dataclasses.replace(limit, calls=limit.calls * LIMIT_FACTOR) for limit in adapter_cls.limits)
            scaled = type(f"Unthrottled{adapter_cls.__name__}", (adapter_cls,), {"limits": limits})
            cls._scaled[adapter_cls] = scaled
        return scaled

    def acquire(self, adapter_cls: type[AccountingAdapter], tenant: str | None, connection_key: str = "") -> None:
        super().acquire(self.generous(adapter_cls), tenant, connection_key)


@dataclass
class RecordingQueue:
    """A ``JobQueue`` whose ``enqueue`` only appends: the web app's acknowledgement alone is measured, and the
    OAuth callback's full-sync job does not run inline (the benchmark runs the sync itself)."""

    jobs: list[tuple[str, str, Mapping[str, Any]]] = field(default_factory=list)

    def enqueue(self, name: str, key: str, payload: Mapping[str, Any], eta: datetime | None = None) -> None:
        self.jobs.append((name, key, payload))


@dataclass
class BenchStack:
    runtime: Runtime
    org_id: int
    web: RunningServer
    queue: RecordingQueue

    def close(self) -> None:
        self.web.shutdown()
        self.runtime.close()


def bench_settings(work_dir: Path, **update: Any) -> Settings:
    """Settings for a throwaway stack under ``work_dir``: its own SQLite DB, key and rate-limit file names."""
    work_dir.mkdir(parents=True, exist_ok=True)
    base = Settings(
        var_dir=work_dir,
        database_url=f"sqlite:///{work_dir / 'dunning.db'}",
        queue_url=f"sqlite:///{work_dir / 'queue.db'}",
        rate_limit_url="memory://",
        secret_keys=[SecretStr(TokenCipher.generate_key())],
    )
    return base.model_copy(update=update)


def provider_settings(settings: Settings, provider: str, sandbox_url: str) -> Settings:
    """Point ``provider`` at a sandbox with the demo's credentials (the same fields ``connector.demo`` sets)."""
    config = settings.provider(provider).model_copy(
        update={name: sandbox_url for name in demo.URL_SETTINGS[provider]}
        | {
            "client_id": demo.DEMO_CLIENT_ID,
            "client_secret": SecretStr(demo.DEMO_CLIENT_SECRET),
            "webhook_key": SecretStr(demo.DEMO_WEBHOOK_KEY),
        }
    )
    return settings.model_copy(update={provider: config})


def start_stack(settings: Settings) -> BenchStack:
    """Migrate the DB, build the Runtime (memory budget, unthrottled) and serve the web app on a free port."""
    from dashboard import create_app

    upgrade(settings.database_url)
    runtime = Runtime(settings, budget_url="memory://")
    runtime.budget.close()
    runtime.budget = UnthrottledBudget("memory://", clock=runtime.clock)
    org_id = services.ensure_organisation(runtime, BENCH_ORG)
    queue = RecordingQueue()
    web = serve_in_thread(create_app(settings, runtime=runtime, queue=queue, org_id=org_id))
    runtime.settings = settings.model_copy(update={"base_url": web.url})
    return BenchStack(runtime=runtime, org_id=org_id, web=web, queue=queue)


def _serve_forever(app: Any, port_out: Any) -> None:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port_out.send(server.server_port)
    server.serve_forever()


@contextmanager
def serve_in_child(app: Any, timeout: float = 30.0) -> Iterator[str]:
    """Serve an already-built (seeded) WSGI app from a forked child process and yield its URL.

    Used for the memory runs only: the sandbox is created in this process exactly as for the timed run, but
    its per-request allocations (some sandboxes copy a whole table per request) then happen in the child, so
    ``tracemalloc`` in this process measures the connector alone. The child is ended by its own pid.
    """
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_serve_forever, args=(app, send), daemon=True)
    child.start()
    try:
        if not receive.poll(timeout):
            raise RuntimeError("the forked sandbox did not report its port")
        yield f"http://127.0.0.1:{receive.recv()}"
    finally:
        child.terminate()
        child.join(timeout=10)


def quiet() -> None:
    """Warnings only: the per-request werkzeug lines and debug logs would dominate the wall time."""
    configure_logging("WARNING")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
