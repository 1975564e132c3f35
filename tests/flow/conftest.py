"""A running demo stack per test: Moneybird sandbox + our web app on 127.0.0.1, fresh var/ directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector import demo
from connector.settings import Settings


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[demo.DemoRun]:
    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'var' / 'dunning.db'}")
    run = demo.start(
        settings,
        providers=["moneybird"],
        options={
            "moneybird": {"invoices_per_administration": 40, "contacts_per_administration": 10, "rate_limits": False}
        },
    )
    yield run
    run.shutdown()
