"""The state ``dunning demo`` leaves in an empty folder, shared by the CLI tests that look around after it.

The demo runs twice per test session (Moneybird only, in-process sandboxes on free ports) in an empty folder with
no ``DUNNING_*`` variable (but the installation's database and queue in the suite's PostgreSQL pass): it keeps its
key in ``var/demo-secret.key`` and its data in the organisation ``connector.demo.DEMO_ORG``. Every later command
finds both by itself: no key to set, no ``--org`` to give.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clirunner import Cli, Outcome
from tests.dbs import installation_environment


@pytest.fixture(scope="session")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cli, list[Outcome]]]:
    """An empty folder after two demo runs without any setting, and what each run printed."""
    folder = tmp_path_factory.mktemp("newcomer")
    with installation_environment(folder) as installation:  # PostgreSQL + Redis in that pass of the suite
        cli = Cli(cwd=folder, env=installation)
        runs = [cli.ok("demo", "--no-serve", "--json", "--provider", "moneybird") for _ in range(2)]
        yield cli, runs


@pytest.fixture
def after_demo(demo_state: tuple[Cli, list[Outcome]]) -> Cli:
    return demo_state[0]
