"""The debtors' world (one organisation, one live administration, a settable clock), reused for policies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.debtors.conftest import World, _world


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    yield from _world(sqlite_url, tmp_path)


@pytest.fixture
def any_world(db_url: str, tmp_path: Path) -> Iterator[World]:
    """The same world on SQLite and on PostgreSQL."""
    yield from _world(db_url, tmp_path)
