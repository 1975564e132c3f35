"""CLI tests: ``dunning`` invoked through typer's CliRunner with a fresh var/ directory and a generated key.

Every ``DUNNING_*`` variable of the surrounding environment is removed first, so a developer's shell cannot leak
into a test; logging (configured by each command onto the runner's stderr) is reset afterwards.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from connector.auth.crypto import TokenCipher
from connector.cli import app
from connector.logging import unconfigure_logging


@dataclass
class Cli:
    var_dir: Path
    key: str
    runner: CliRunner

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args), catch_exceptions=False)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, f"dunning {' '.join(args)} -> {result.exit_code}\n{result.output}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args).stdout)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    for name in list(os.environ):
        if name.startswith("DUNNING_"):
            monkeypatch.delenv(name)
    key = TokenCipher.generate_key()
    var_dir = tmp_path / "var"
    monkeypatch.setenv("DUNNING_VAR_DIR", str(var_dir))
    monkeypatch.setenv("DUNNING_SECRET_KEYS", json.dumps([key]))
    yield Cli(var_dir=var_dir, key=key, runner=CliRunner())
    unconfigure_logging()
