"""Engine and session construction for SQLite and PostgreSQL, plus schema upgrade through Alembic.

The one door to SQLAlchemy: nothing outside ``connector.storage`` imports it (an import contract says so), so the
few names others need (the ``Session`` and ``Engine`` types, the database errors a command explains, ``make_url``
to show a URL without its password) are re-exported here.

SQLite gets WAL, a busy timeout and foreign keys on every connection, and write transactions that start with
``BEGIN IMMEDIATE`` (the pysqlite event recipe) so two writers queue instead of failing mid-transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as Engine
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url as make_url
from sqlalchemy.exc import DBAPIError as DBAPIError
from sqlalchemy.exc import OperationalError as OperationalError
from sqlalchemy.exc import ProgrammingError as ProgrammingError
from sqlalchemy.exc import SQLAlchemyError as SQLAlchemyError
from sqlalchemy.orm import Session as Session
from sqlalchemy.orm import sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
Sessions = sessionmaker[Session]  # ``with sessions() as s`` reads; ``with transaction(sessions) as s`` writes


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite, create the parent directory and set the pragmas and locking recipe."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _sqlite_recipe(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_recipe(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine, clock: Callable[[], datetime] | None = None) -> Sessions:
    """Sessions for ``engine``; with ``clock``, repository timestamps follow it (``repos.now(session)``)."""
    return sessionmaker(engine, expire_on_commit=False, info={"clock": clock} if clock is not None else {})


@contextmanager
def transaction(factory: Sessions) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creates the SQLite file if needed)."""
    from alembic import command

    make_engine(url).dispose()  # creates var/ for SQLite
    command.upgrade(alembic_config(url), revision)


def ping(engine: Engine) -> None:
    """Open a connection and run ``SELECT 1``: raises ``OperationalError`` when the database cannot be reached."""
    from sqlalchemy import text

    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def migration_status(engine: Engine) -> tuple[str | None, str]:
    """(the revision the database is at, or None when it has none; the newest revision this version ships)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head() or ""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head
