"""Shared fixtures: migrated databases on SQLite and PostgreSQL (skipped with a reason when unreachable)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connector import clock, demo
from connector.settings import Settings
from connector.storage.db import make_engine, session_factory, upgrade
from tests.clirunner import Cli
from tests.dbs import backend, database_url, installation_url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database URL, once on SQLite and once on PostgreSQL (PostgreSQL only in the suite's PostgreSQL
    pass: the SQLite case ran in the first)."""
    if request.param == "sqlite" and backend() == "postgres":
        pytest.skip("SQLite case: ran in the SQLite pass of the suite")
    with database_url(request.param, tmp_path) as url:
        upgrade(url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'dunning.db'}"
    upgrade(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def installation_db(tmp_path: Path) -> Iterator[str]:
    """The database URL of a test installation: SQLite under ``tmp_path/var``, or a fresh PostgreSQL database in
    the suite's PostgreSQL pass (``tests.dbs.installation_url``)."""
    with installation_url(tmp_path) as url:
        yield url


@pytest.fixture
def stack(tmp_path: Path, installation_db: str) -> Iterator[demo.DemoRun]:
    """A fresh installation: empty database, a small Moneybird sandbox (2 administrations, 40 invoices each, no
    rate limits), our web app and the demo's SMTP mailbox, all on 127.0.0.1."""
    settings = Settings(var_dir=tmp_path / "var", database_url=installation_db)
    run = demo.start(
        settings,
        providers=["moneybird"],
        options={
            "moneybird": {"invoices_per_administration": 40, "contacts_per_administration": 10, "rate_limits": False}
        },
    )
    yield run
    run.shutdown()


@pytest.fixture
def today() -> date:
    """Today in the organisation's time zone, from the runtime's clock (moved with it under time-machine)."""
    return clock.today()


@pytest.fixture
def cli(tmp_path: Path, installation_db: str) -> Cli:
    """``dunning`` in an empty folder with its own ``var/`` and a freshly generated key (no other settings; in the
    suite's PostgreSQL pass also ``DUNNING_DATABASE_URL``, a fresh PostgreSQL database)."""
    import json

    from connector.auth.crypto import TokenCipher

    env = {"DUNNING_VAR_DIR": str(tmp_path / "var"), "DUNNING_SECRET_KEYS": json.dumps([TokenCipher.generate_key()])}
    if backend() == "postgres":
        env["DUNNING_DATABASE_URL"] = installation_db
    return Cli(cwd=tmp_path, env=env)
