"""A demo-seeded installation for the API tests (SQLite, or PostgreSQL when ``DUNNING_TEST_BACKEND=postgres``): the
Moneybird sandbox synced and run once, our web app live on 127.0.0.1 (a werkzeug thread, as ``dunning demo`` serves
it), and a read key and a write key of its organisation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connector import apikeys, clock, demo
from connector.settings import Settings
from tests.dbs import installation_url


@dataclass
class ApiWorld:
    run: demo.DemoRun
    read_key: str
    write_key: str

    @property
    def url(self) -> str:
        return f"{self.run.web.url}/api/v1"

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.read_key}"}


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    home = Path(tmp_path_factory.mktemp("api"))
    with installation_url(home) as url:  # SQLite, or PostgreSQL in the suite's PostgreSQL pass
        # schemathesis makes ~1,600 calls a minute: under the default limit most would be 429s and test nothing
        settings = Settings(var_dir=home / "var", database_url=url, api_rate_limit_per_minute=100_000)
        run = demo.start(
            settings,
            providers=["moneybird"],
            options={
                "moneybird": {"invoices_per_administration": 30, "contacts_per_administration": 8, "rate_limits": False}
            },
        )
        demo.run_provider(run, "moneybird", clock.today())
        read = apikeys.create_key(run.runtime, run.org_id, "read", "tests").key
        write = apikeys.create_key(run.runtime, run.org_id, "write", "tests").key
        yield ApiWorld(run=run, read_key=read, write_key=write)
        run.shutdown()
