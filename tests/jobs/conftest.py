"""Job tests: a demo stack (Moneybird sandbox + our web app) whose runtime the huey tasks use, and Redis access."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector import demo
from connector.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            pass
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "not usable here"
        return False


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[demo.DemoRun]:
    """Connected and fully synced (the OAuth callback queues a full sync; the demo's queue is immediate)."""
    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'var' / 'dunning.db'}")
    run = demo.start(
        settings,
        providers=["moneybird"],
        options={
            "moneybird": {"invoices_per_administration": 40, "contacts_per_administration": 10, "rate_limits": False}
        },
    )
    demo.connect(run, "moneybird")
    yield run
    run.shutdown()
