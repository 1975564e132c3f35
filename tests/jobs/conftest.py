"""Job tests: a demo stack (Moneybird sandbox + our web app) whose runtime the huey tasks use, and Redis access."""

from __future__ import annotations

import socket

import pytest

from connector import demo

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
def stack(stack: demo.DemoRun) -> demo.DemoRun:
    """Connected and fully synced (the OAuth callback queues a full sync; the demo's queue is immediate)."""
    demo.connect(stack, "moneybird")
    return stack
