"""Test databases: a fresh SQLite file, and a fresh PostgreSQL database on 127.0.0.1:5432 when reachable.

``DUNNING_TEST_BACKEND=postgres`` is the suite's second pass (``./scripts/test``): every test installation
(``installation_url``: the demo stacks, the command line's ``cli``, the flows) then lives in a fresh
PostgreSQL database instead of a SQLite file, and the ``db_url`` tests, which ran on both in the first pass,
run on PostgreSQL only.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
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

        with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", connect_timeout=2):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not usable here"
        return False


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """Create a throw-away database and yield its URL; dropped afterwards."""
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432 (user postgres, database test): skipped")
    import psycopg

    name = f"dunning_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        from sqlalchemy import create_engine

        create_engine(PG_ADMIN_URL).dispose()
        with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'dunning.db'}"
    else:
        with fresh_postgres() as url:
            yield url


@contextmanager
def installation_url(tmp_path: Path) -> Iterator[str]:
    """The database of a test's installation: ``var/dunning.db`` under ``tmp_path``, or a fresh PostgreSQL
    database in the suite's PostgreSQL pass."""
    if backend() == "postgres":
        with fresh_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'var' / 'dunning.db'}"
