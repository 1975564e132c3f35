"""The one way tests run ``dunning``: typer's CliRunner with an exact environment, in a chosen folder.

``Cli(env, cwd)`` runs the app with every ``DUNNING_*`` variable of the surrounding shell removed and ``env`` set,
inside ``cwd`` (where ``var/`` lands when ``DUNNING_VAR_DIR`` is not set), and returns the exit code, stdout and
stderr separately (``Outcome``). Logging, which each command points at the runner's stderr, is reset after every
run. The ``cli`` fixture in ``tests/conftest.py`` gives one with a fresh ``var/`` and a generated key.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from connector.cli import app
from connector.logging import unconfigure_logging
from connector.settings import Settings


@dataclass(frozen=True)
class Outcome:
    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        return f"dunning {' '.join(self.args)} -> {self.exit_code}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Cli:
    """Runs ``dunning`` with ``env`` (and nothing else of the shell's ``DUNNING_*``) inside ``cwd``."""

    cwd: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def var_dir(self) -> Path:
        return Path(self.env.get("DUNNING_VAR_DIR", self.cwd / "var"))

    @property
    def key(self) -> str:
        return str(json.loads(self.env["DUNNING_SECRET_KEYS"])[0])

    def with_env(self, **changes: str | None) -> Cli:
        """The same folder with some variables changed (``None`` removes one)."""
        env = {**self.env, **{k: v for k, v in changes.items() if v is not None}}
        for name, value in changes.items():
            if value is None:
                env.pop(name, None)
        return Cli(self.cwd, env)

    def __call__(self, *args: str, input: str | None = None) -> Outcome:  # noqa: A002 - CliRunner's name
        cleared: Mapping[str, str | None] = {name: None for name in os.environ if name.startswith("DUNNING_")}
        runner = CliRunner()
        try:
            with contextlib.chdir(self.cwd):
                result = runner.invoke(app, list(args), env={**cleared, **self.env}, input=input)
        finally:
            unconfigure_logging()
        exception = result.exception if not isinstance(result.exception, SystemExit) else None
        return Outcome(tuple(args), result.exit_code, result.stdout, result.stderr, exception)

    def ok(self, *args: str) -> Outcome:
        outcome = self(*args)
        if outcome.exception is not None:
            raise AssertionError(outcome.describe()) from outcome.exception
        assert outcome.exit_code == 0, outcome.describe()
        return outcome

    def json(self, *args: str) -> Any:
        return self.ok(*args).json()

    def settings(self) -> Settings:
        """The settings ``dunning`` reads in this folder with this environment (and nothing of the shell's), for
        a test that opens what a command left behind: the same database on either backend (``tests/dbs.py``)."""
        saved = {name: value for name, value in os.environ.items() if name.startswith("DUNNING_")}
        try:
            for name in saved:
                del os.environ[name]
            os.environ.update(self.env)
            with contextlib.chdir(self.cwd):
                return Settings(var_dir=self.var_dir.absolute())
        finally:
            for name in [name for name in os.environ if name.startswith("DUNNING_")]:
                del os.environ[name]
            os.environ.update(saved)
