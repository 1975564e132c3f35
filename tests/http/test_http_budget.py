"""RateBudget: per-tenant buckets on memory, a shared SQLite file (two instances, two processes) and Redis."""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest

from connector.errors import RateLimited
from connector.http.budget import RateBudget
from connector.ports import RateLimit, RateObservation
from tests.http.fakes import FakeAdapter

REDIS_URL = "redis://127.0.0.1:6379/15"


class MoneybirdLike(FakeAdapter):
    limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(150, 300, scope="connection", name="5min"),)


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def unique_adapter() -> type[FakeAdapter]:
    """A fresh provider id, so runs never share bucket keys (Redis persists between runs)."""
    return type("Fresh", (FakeAdapter,), {"id": f"fake-{uuid.uuid4().hex[:8]}"})


@pytest.fixture(params=["memory", "sqlite", "redis"])
def budget_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "memory":
        yield "memory://"
    elif request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ratelimit.db'}"
    else:
        if not redis_available():
            pytest.skip("Redis not reachable on 127.0.0.1:6379: Redis bucket not tested")
        yield REDIS_URL


def test_61st_call_in_a_minute_is_refused_for_that_tenant_only(budget_url: str) -> None:
    adapter = unique_adapter()
    budget = RateBudget(budget_url, max_wait=0)
    for _ in range(60):
        budget.acquire(adapter, "tenant-a")
    with pytest.raises(RateLimited) as caught:
        budget.acquire(adapter, "tenant-a")
    assert caught.value.scope == "minute"
    assert caught.value.until is not None
    assert caught.value.until <= datetime.now(UTC) + timedelta(seconds=61)
    budget.acquire(adapter, "tenant-b")  # another tenant is unaffected
    budget.close()


def test_61st_call_waits_within_the_bound(budget_url: str) -> None:
    adapter = unique_adapter()
    sleeps: list[float] = []
    budget = RateBudget(budget_url, max_wait=90, sleep=sleeps.append)
    for _ in range(60):
        budget.acquire(adapter, "tenant-a")
    assert sleeps == []
    with pytest.raises(RateLimited):  # the injected sleep does not move time, so it ends refused
        budget.acquire(adapter, "tenant-a")
    assert len(sleeps) == 1
    assert 0 < sleeps[0] <= 60.01


def test_connection_scoped_limits_key_on_the_connection() -> None:
    adapter = type("MB", (MoneybirdLike,), {"id": f"mb-{uuid.uuid4().hex[:8]}"})
    budget = RateBudget("memory://", max_wait=0)
    for i in range(150):
        budget.acquire(adapter, f"administration-{i % 3}", connection_key="conn-1")
    with pytest.raises(RateLimited):
        budget.acquire(adapter, "administration-9", connection_key="conn-1")
    budget.acquire(adapter, "administration-0", connection_key="conn-2")


def test_two_instances_share_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ratelimit.db'}"
    first, second = RateBudget(url, max_wait=0), RateBudget(url, max_wait=0)
    for _ in range(30):
        first.acquire(FakeAdapter, "t")
        second.acquire(FakeAdapter, "t")
    with pytest.raises(RateLimited):
        first.acquire(FakeAdapter, "t")
    with pytest.raises(RateLimited):
        second.acquire(FakeAdapter, "t")


def _spend(url: str, attempts: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    budget = RateBudget(url, max_wait=0)
    admitted = 0
    for _ in range(attempts):
        try:
            budget.acquire(FakeAdapter, "shared-tenant")
            admitted += 1
        except RateLimited:
            pass
    results.put(admitted)


def test_two_processes_share_the_sqlite_bucket(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ratelimit.db'}"
    RateBudget(url).close()  # create the file before the race
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    workers = [ctx.Process(target=_spend, args=(url, 45, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    admitted = [results.get(timeout=5) for _ in workers]
    assert sum(admitted) == 60  # exactly the minute limit across both processes, never more


def test_two_instances_share_the_redis_bucket() -> None:
    if not redis_available():
        pytest.skip("Redis not reachable on 127.0.0.1:6379: shared Redis bucket not tested")
    adapter = unique_adapter()
    first, second = RateBudget(REDIS_URL, max_wait=0), RateBudget(REDIS_URL, max_wait=0)
    for _ in range(30):
        first.acquire(adapter, "t")
        second.acquire(adapter, "t")
    with pytest.raises(RateLimited):
        second.acquire(adapter, "t")


def test_park_refuses_until_the_instant_then_releases(budget_url: str) -> None:
    adapter = unique_adapter()
    now = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    budget = RateBudget(budget_url, max_wait=0, clock=lambda: now[0])
    reset = now[0] + timedelta(hours=15)
    budget.park((adapter.id, "t"), reset, "day")
    assert budget.parked_until((adapter.id, "t")) == reset
    with pytest.raises(RateLimited) as caught:
        budget.acquire(adapter, "t")
    assert caught.value.until == reset and caught.value.scope == "day"
    budget.acquire(adapter, "other")
    now[0] = reset + timedelta(seconds=1)
    assert budget.parked_until((adapter.id, "t")) is None
    budget.acquire(adapter, "t")


def test_observe_parks_when_the_provider_reports_nothing_left() -> None:
    reset = datetime.now(UTC) + timedelta(hours=3)

    class Observing(FakeAdapter):
        id = f"obs-{uuid.uuid4().hex[:8]}"

        @staticmethod
        def rate_observation(headers, now):  # type: ignore[no-untyped-def]
            return [RateObservation("day", int(headers["X-DayLimit-Remaining"]), reset)]

    budget = RateBudget("memory://", max_wait=0)
    seen = budget.observe(Observing, "t", {"X-DayLimit-Remaining": "12"})
    assert seen[0].remaining == 12 and budget.parked_until((Observing.id, "t")) is None
    budget.observe(Observing, "t", {"X-DayLimit-Remaining": "0"})
    assert budget.parked_until((Observing.id, "t")) == reset
    assert budget.observe(FakeAdapter, "t", {}) == []  # adapters without the hook are fine
