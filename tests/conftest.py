"""Shared fixtures: migrated databases on SQLite and PostgreSQL (skipped with a reason when unreachable), and the
installation every test runs against (``tests/dbs.py``: SQLite under ``var/``, or PostgreSQL + Redis in the suite's
PostgreSQL pass, placed through the test's environment so nothing has to name it)."""

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
from tests.dbs import backend, database_url, installation_environment


@pytest.fixture(autouse=True)
def installation_env(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """Every test's installation: in the PostgreSQL pass its ``DUNNING_DATABASE_URL`` (a fresh PostgreSQL database),
    ``DUNNING_QUEUE_URL`` and ``DUNNING_QUEUE_NAME`` (a Redis queue of its own) are set in the environment, so
    ``Settings()``, the ``cli`` fixture and any process the test starts use them; nothing in the SQLite pass. A test
    marked ``sqlite_only`` (about the SQLite default itself) is skipped in the PostgreSQL pass."""
    if backend() == "postgres" and request.node.get_closest_marker("sqlite_only") is not None:
        pytest.skip("about the SQLite default itself: ran in the SQLite pass of the suite")
    with installation_environment(tmp_path) as env:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield env


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
def installation_db(tmp_path: Path, installation_env: dict[str, str]) -> str:
    """The database URL of a test installation: SQLite under ``tmp_path/var``, or a fresh PostgreSQL database in
    the suite's PostgreSQL pass (``tests.dbs.installation_url``)."""
    return installation_env.get("DUNNING_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'dunning.db'}")


@pytest.fixture
def migrated_db(installation_db: str) -> str:
    """The test installation's database (``installation_db``) brought to the latest migration."""
    upgrade(installation_db)
    return installation_db


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
def cli(tmp_path: Path, installation_env: dict[str, str]) -> Cli:
    """``dunning`` in an empty folder with its own ``var/`` and a freshly generated key (no other settings; in the
    suite's PostgreSQL pass also the installation's database and Redis queue, ``installation_env``)."""
    import json

    from connector.auth.crypto import TokenCipher

    env = {"DUNNING_VAR_DIR": str(tmp_path / "var"), "DUNNING_SECRET_KEYS": json.dumps([TokenCipher.generate_key()])}
    env.update(installation_env)
    return Cli(cwd=tmp_path, env=env)
