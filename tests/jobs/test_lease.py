"""``with_lease``: one holder per named lease across workers; the second caller skips (None); expiry and release.

Runs on SQLite and, when reachable, PostgreSQL. "Concurrent" is real: the first holder blocks in a thread until
the second caller has tried.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connector import services
from connector.auth.crypto import TokenCipher
from connector.jobs import LEASE, with_lease
from connector.runtime import Runtime, utcnow
from connector.settings import Settings
from connector.storage import tables


def _runtime(db_url: str, tmp_path: Path) -> Runtime:
    settings = Settings(var_dir=tmp_path / "var", database_url=db_url, secret_keys=[TokenCipher.generate_key()])
    return Runtime(settings, budget_url="memory://")


@pytest.fixture
def runtimes(db_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, Runtime]]:
    """Two workers: separate runtimes (engines, connection pools) on one database."""
    first, second = _runtime(db_url, tmp_path), _runtime(db_url, tmp_path)
    yield first, second
    first.close()
    second.close()


def _hold(rt: Runtime, org_id: int, name: str) -> tuple[threading.Thread, threading.Event, threading.Event, list[Any]]:
    """Start a holder in a thread; returns (thread, holding, release, result)."""
    holding, release, result = threading.Event(), threading.Event(), []

    def work() -> str:
        holding.set()
        assert release.wait(30), "the test never released the holder"
        return "first"

    thread = threading.Thread(target=lambda: result.append(with_lease(rt, org_id, name, work)))
    thread.start()
    assert holding.wait(30), "the first holder never got the lease"
    return thread, holding, release, result


def test_the_second_concurrent_caller_skips(runtimes: tuple[Runtime, Runtime]) -> None:
    first, second = runtimes
    org_id = services.ensure_organisation(first, "lease test")
    thread, _, release, result = _hold(first, org_id, "dunning")
    ran: list[str] = []
    try:
        assert with_lease(second, org_id, "dunning", lambda: ran.append("second")) is None
        assert ran == [], "the work of a skipped caller never runs"
        assert with_lease(second, org_id, "outbox", lambda: "other lease") == "other lease"
    finally:
        release.set()
        thread.join(30)
    assert result == ["first"]
    assert with_lease(second, org_id, "dunning", lambda: "after release") == "after release"
    with second.sessions() as s:
        assert s.query(tables.Lease).count() == 0


def test_an_expired_lease_is_taken_over(runtimes: tuple[Runtime, Runtime]) -> None:
    first, second = runtimes
    org_id = services.ensure_organisation(first, "lease test")
    thread, _, release, result = _hold(first, org_id, "sync:1")
    second.clock = lambda: utcnow() + LEASE + timedelta(minutes=1)  # the holder crashed long ago
    try:
        assert with_lease(second, org_id, "sync:1", lambda: "taken over") == "taken over"
    finally:
        release.set()
        thread.join(30)
    assert result == ["first"]


def test_the_lease_is_released_when_the_work_fails(runtimes: tuple[Runtime, Runtime]) -> None:
    first, second = runtimes
    org_id = services.ensure_organisation(first, "lease test")

    def crash() -> None:
        raise RuntimeError("simulated crash inside the job")

    with pytest.raises(RuntimeError, match="simulated crash"):
        with_lease(first, org_id, "dunning", crash)
    assert with_lease(second, org_id, "dunning", lambda: "free again") == "free again"


def test_leases_of_different_organisations_do_not_collide(runtimes: tuple[Runtime, Runtime]) -> None:
    first, second = runtimes
    org_a = services.ensure_organisation(first, "accountant A")
    org_b = services.ensure_organisation(first, "accountant B")
    thread, _, release, _ = _hold(first, org_a, "dunning")
    try:
        assert with_lease(second, org_b, "dunning", lambda: "B runs too") == "B runs too"
    finally:
        release.set()
        thread.join(30)


def test_a_race_for_a_new_lease_has_one_winner_and_no_errors(db_url: str, tmp_path: Path) -> None:
    workers = [_runtime(db_url, tmp_path) for _ in range(8)]
    org_id = services.ensure_organisation(workers[0], "lease test")
    start, release = threading.Barrier(len(workers)), threading.Event()
    outcomes: list[Any] = []
    errors: list[BaseException] = []

    def contend(rt: Runtime, index: int) -> None:
        def work() -> int:
            assert release.wait(30)
            return index

        start.wait(30)
        try:
            outcomes.append(with_lease(rt, org_id, "race", work))
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)
            release.set()

    threads = [threading.Thread(target=contend, args=(rt, i)) for i, rt in enumerate(workers)]
    for thread in threads:
        thread.start()
    try:
        deadline = 50
        while len(outcomes) + len(errors) < len(workers) - 1 and deadline:
            threading.Event().wait(0.1)
            deadline -= 1
    finally:
        release.set()
        for thread in threads:
            thread.join(30)
        for rt in workers:
            rt.close()
    assert errors == []
    winners = [o for o in outcomes if o is not None]
    assert len(winners) == 1 and outcomes.count(None) == len(workers) - 1
