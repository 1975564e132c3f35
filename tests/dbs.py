"""Test databases: a fresh SQLite file, and a fresh PostgreSQL database on 127.0.0.1:5432 when reachable.

``DUNNING_TEST_BACKEND=postgres`` is the suite's second pass (``./scripts/test``): every test installation then
lives in a fresh PostgreSQL database with its jobs on a Redis queue of its own, instead of ``var/dunning.db`` and
``var/queue.db``. One helper does it for every test (``installation_environment``, applied to each test by the
autouse fixture in ``tests/conftest.py``): it sets ``DUNNING_DATABASE_URL``, ``DUNNING_QUEUE_URL`` and
``DUNNING_QUEUE_NAME`` in the test's environment, so ``Settings()`` in the test, ``dunning`` through the ``cli``
fixture, the demo stacks and every process a test starts all find the same installation without naming it; tests
that need the URL take the ``installation_db`` fixture. The ``db_url`` tests, which ran on both in the first pass,
run on PostgreSQL only. A test about SQLite itself (the default file under ``var/``) is marked ``sqlite_only``.
PostgreSQL databases are emptied and used again by later tests of the session (``_Pool``), all dropped at its end.
"""

from __future__ import annotations

import atexit
import os
import queue
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
REDIS_QUEUE_URL = "redis://127.0.0.1:6379/14"
BACKEND_VARIABLE = "DUNNING_TEST_BACKEND"
BACKENDS = ("sqlite", "postgres")


def backend() -> str:
    """The database this pass of the suite installs into: ``sqlite`` (the default) or ``postgres``."""
    chosen = os.environ.get(BACKEND_VARIABLE, "sqlite").strip() or "sqlite"
    if chosen not in BACKENDS:
        raise pytest.UsageError(f"{BACKEND_VARIABLE}={chosen!r}: choose one of {', '.join(BACKENDS)}")
    return chosen


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            pass
    except OSError:
        return False
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=2):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not usable here"
        return False


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            pass
        import redis

        return bool(redis.Redis.from_url(REDIS_QUEUE_URL, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "not usable here"
        return False


class _Pool:
    """Test databases used again instead of dropped one by one: a finished test's database is emptied (its
    ``public`` schema dropped and made again, a fraction of a second) on one background thread and handed to the
    next test; ``close()`` drops what is left when the session ends. PostgreSQL 15 checkpoints on every DROP
    DATABASE, about 3 s each on this machine, which would outlast the tests themselves."""

    def __init__(self) -> None:
        self.clean: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.dirty: queue.Queue[str] = queue.Queue()
        self.made: set[str] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def take(self) -> str:
        try:
            return self.clean.get_nowait()
        except queue.Empty:
            pass
        import psycopg

        name = f"dunning_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.keep(name)
        return name

    def keep(self, name: str) -> None:
        with self.lock:
            if not self.made:
                atexit.register(self.close)
            self.made.add(name)

    def give_back(self, name: str) -> None:
        self.dirty.put(name)
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._empty_each, name="empty-test-databases", daemon=True)
                self.thread.start()

    def _empty_each(self) -> None:
        while True:
            name = self.dirty.get()
            try:
                if _empty(name):
                    self.clean.put(name)
                else:
                    _drop(name)
                    with self.lock:
                        self.made.discard(name)
            finally:
                self.dirty.task_done()

    def close(self) -> None:
        self.dirty.join()
        with self.lock:
            names, self.made = sorted(self.made), set()
        for name in names:
            _drop(name)


def _empty(name: str) -> bool:
    """Drop everything in the database ``name`` (what a test installation makes lives in ``public``); False when
    that did not work and the database should go instead."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        with psycopg.connect(f"host=127.0.0.1 port=5432 dbname={name} user=postgres", autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
            others = conn.execute(
                "SELECT count(*) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN "
                "('information_schema', 'public')"
            ).fetchone()
        return others is not None and others[0] == 0
    except Exception:  # noqa: BLE001 - the database is dropped instead
        return False


def _drop(name: str) -> None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:  # noqa: BLE001, S110 - a leftover database is harmless; never fail a test for it
        pass


POOL = _Pool()


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """An empty database of the caller's own, its URL yielded; emptied for a later test afterwards."""
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432 (user postgres, database test): skipped")
    name = POOL.take()
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        POOL.give_back(name)


@contextmanager
def clone_postgres(url: str) -> Iterator[str]:
    """A copy of the PostgreSQL database at ``url`` (its sessions are ended first: a template must be idle), for a
    test that changes an installation others share (the demo's in ``tests/cli``)."""
    import psycopg

    source = url.rsplit("/", 1)[1]
    name = f"dunning_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (source,))
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    POOL.keep(name)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        POOL.give_back(name)


@contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'dunning.db'}"
    else:
        with fresh_postgres() as url:
            yield url


@contextmanager
def installation_environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The ``DUNNING_*`` variables that place a test's installation: none in the SQLite pass (``var/dunning.db``
    and ``var/queue.db`` under the folder the test chooses), a fresh PostgreSQL database and a Redis queue of its
    own in the PostgreSQL pass (skipped with the reason when either does not answer)."""
    if backend() != "postgres":
        yield {}
        return
    if not redis_reachable():
        pytest.skip("Redis not reachable on 127.0.0.1:6379: the PostgreSQL + Redis pass is skipped")
    name = f"test-{uuid.uuid4().hex[:12]}"
    with fresh_postgres() as url:
        try:
            yield {"DUNNING_DATABASE_URL": url, "DUNNING_QUEUE_URL": REDIS_QUEUE_URL, "DUNNING_QUEUE_NAME": name}
        finally:
            _forget_queue(name)


def _forget_queue(name: str) -> None:
    """Remove what huey kept in Redis for the queue ``name`` (its keys all carry the name)."""
    try:
        import redis

        conn = redis.Redis.from_url(REDIS_QUEUE_URL, socket_connect_timeout=1)
        keys = list(conn.scan_iter(match=f"*{name}*"))
        if keys:
            conn.delete(*keys)
    except Exception:  # noqa: BLE001, S110 - leftover keys of a finished test are harmless
        pass


@contextmanager
def installation_url(tmp_path: Path) -> Iterator[str]:
    """The database of a test's installation: ``var/dunning.db`` under ``tmp_path``, or a fresh PostgreSQL
    database in the suite's PostgreSQL pass."""
    with installation_environment(tmp_path) as env:
        yield env.get("DUNNING_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'dunning.db'}")
