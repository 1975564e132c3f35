"""A connected world for the concurrency and crash suites: the three sandboxes, the SMTP mailbox and a database.

``start_world`` connects Xero, Exact and Moneybird through the demo's OAuth flow, syncs them, turns safe mode off
and runs today's rules (overdue invoices only record their lapsed notices on a first day), then hands out the
environment a separate ``dunning`` process needs to reach the same world on the next day, when the first reminders
are due (``World.env``: the clock moved by ``tests/timetravel/sitecustomize.py``). ``doubles`` counts what reached a
debtor or a package more than once per step: e-mails by Message-ID (a pure function of the idempotency key) and
write-backs by what they wrote (their text carries the step's marker), so a step done twice shows up whatever
process did it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector import clock, decide, demo, outbox, services, sync
from connector.settings import Settings
from connector.storage import repos

ROOT = Path(__file__).resolve().parents[2]
SIZES: dict[str, dict[str, Any]] = {
    "moneybird": {"invoices_per_administration": 30, "contacts_per_administration": 8, "rate_limits": False},
    "xero": {"tenants": 1, "invoices_per_tenant": 30, "contacts_per_tenant": 8, "rate_limits": False},
    "exact": {"divisions": 1, "items_per_division": 30, "accounts_per_division": 8, "rate_limits": False},
}
DAY_SECONDS = 86_400


@dataclass
class World:
    run: demo.DemoRun
    env: dict[str, str]

    def spawn(self, role: str, *extra: str, later: float = 0.0) -> subprocess.Popen[str]:
        """One ``tests.concurrency.driver`` process playing ``role`` against this world (``later`` seconds further
        on than the world's next day)."""
        env = dict(self.env)
        env["DUNNING_TEST_CLOCK_OFFSET"] = repr(float(env["DUNNING_TEST_CLOCK_OFFSET"]) + later)
        return subprocess.Popen(
            [sys.executable, "-m", "tests.concurrency.driver", role, *extra],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def outbox(self) -> list[Any]:
        with self.run.runtime.sessions() as s:
            return repos.outbox_items(s, self.run.org_id)

    def shutdown(self) -> None:
        self.run.shutdown()


def start_world(tmp_path: Path, database_url: str, providers: tuple[str, ...] = tuple(SIZES)) -> World:
    settings = Settings(var_dir=tmp_path / "var", database_url=database_url)
    run = demo.start(settings, providers=list(providers), options={p: SIZES[p] for p in providers})
    rt = run.runtime
    for provider in providers:
        connection_id = demo.connect(run, provider)
        sync.sync_connection(rt, run.org_id, connection_id)
        with rt.sessions() as s:
            administrations = repos.list_administrations(s, run.org_id, connection_id)
        for adm in administrations:
            services.set_safe_mode(rt, run.org_id, adm.id, False)
    decide.run_dunning(rt, run.org_id, clock.today(clock=rt.clock))
    outbox.drain(rt, run.org_id)
    s = run.settings
    offset = float(os.environ.get("DUNNING_TEST_CLOCK_OFFSET", "0")) + DAY_SECONDS  # this run's clock, a day on
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{ROOT / 'tests' / 'timetravel'}:{ROOT}",
        "DUNNING_TEST_NOW": clock.utcnow().isoformat(),  # replaced by the offset below, which wins
        "DUNNING_TEST_CLOCK_OFFSET": repr(offset),
        "DUNNING_VAR_DIR": str(s.var_dir),
        "DUNNING_DATABASE_URL": s.database_url,
        "DUNNING_SECRET_KEYS": json.dumps([k.get_secret_value() for k in s.secret_keys]),
        "DUNNING_BASE_URL": s.base_url,
        "DUNNING_SMTP__HOST": "127.0.0.1",
        "DUNNING_SMTP__PORT": str(run.mailbox.port),
        "DUNNING_SMTP__ENABLED": "true",
        "DUNNING_ORG": demo.DEMO_ORG,
        "DUNNING_WORLD_PROVIDERS": ",".join(providers),
    }
    for provider in providers:
        config = s.provider(provider)
        for name in demo.URL_SETTINGS[provider]:
            env[f"DUNNING_{provider.upper()}__{name.upper()}"] = getattr(config, name)
        env[f"DUNNING_{provider.upper()}__CLIENT_ID"] = demo.DEMO_CLIENT_ID
        env[f"DUNNING_{provider.upper()}__CLIENT_SECRET"] = demo.DEMO_CLIENT_SECRET
        env[f"DUNNING_{provider.upper()}__WEBHOOK_KEY"] = demo.DEMO_WEBHOOK_KEY
    return World(run=run, env=env)


def _write_identity(write: dict[str, Any]) -> str:
    """What a write-back did, without when: the same step written twice gives the same identity."""
    return json.dumps({k: v for k, v in write.items() if k not in ("at", "id", "created_at")}, sort_keys=True)


def doubles(world: World) -> dict[str, int]:
    """How many e-mails and write-backs reached their recipient more than once (0 everywhere when all is well)."""
    ids = Counter(m["Message-ID"] for m in world.run.mailbox.messages())
    found = {"emails": sum(n - 1 for n in ids.values() if n > 1)}
    for provider, server in world.run.sandboxes.items():
        sandbox = server.app.extensions["sandbox"]
        writes = Counter(_write_identity(w) for t in sandbox.tenant_ids() for w in sandbox.writes(t))
        found[provider] = sum(n - 1 for n in writes.values() if n > 1)
    return found


def sent(world: World) -> dict[str, int]:
    """How many e-mails and write-backs went out at all (a suite that sent nothing proves nothing)."""
    counts = {"emails": len(world.run.mailbox.messages())}
    for provider, server in world.run.sandboxes.items():
        sandbox = server.app.extensions["sandbox"]
        counts[provider] = sum(len(sandbox.writes(t)) for t in sandbox.tenant_ids())
    return counts
