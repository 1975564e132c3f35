"""Bad settings and unreachable services through the real ``dunning`` executable: one line each, no traceback,
a non-zero exit, for the long-running commands too (docs/operations.md#settings-checked-at-start).

Each case starts from a working installation (a migrated SQLite file, a key, the SQLite queue) and breaks one
thing. ``serve`` and ``worker`` run as real processes (a few at a time, in a module fixture: ``serve`` execs
gunicorn, so nothing may start before the check); the other commands run in-process through typer's runner.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from connector.auth.crypto import TokenCipher
from connector.storage.db import upgrade
from tests.clirunner import Cli

DUNNING = str(Path(sys.executable).with_name("dunning"))
PROCESSES = (["serve", "--port", "{port}"], ["worker"])
IN_PROCESS = (["doctor"], ["sync"], ["run"], ["outbox"], ["rotate-keys"], ["db", "upgrade"])


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe is closed


# (case, variables changed, what the one line must say (a regex), exit status)
CASES: list[tuple[str, dict[str, str], str, int]] = [
    ("database-url", {"DUNNING_DATABASE_URL": "nonsense"}, r"DUNNING_DATABASE_URL is not a database URL", 2),
    ("secret-keys", {"DUNNING_SECRET_KEYS": '["bad"]'}, r"DUNNING_SECRET_KEYS: key 1 of 1 is not a Fernet key", 2),
    ("http-timeout", {"DUNNING_HTTP_TIMEOUT_SECONDS": "-1"}, r"DUNNING_HTTP_TIMEOUT_SECONDS is -1(\.0)?: it must", 2),
    ("log-level", {"DUNNING_LOG_LEVEL": "LOUD"}, r"DUNNING_LOG_LEVEL 'LOUD' is not a log level", 2),
    ("not-a-number", {"DUNNING_HTTP_TIMEOUT_SECONDS": "soon"}, r"DUNNING_HTTP_TIMEOUT_SECONDS is not valid", 2),
    (
        "database-unreachable",
        {"DUNNING_DATABASE_URL": "postgresql://postgres@127.0.0.1:{closed}/test"},
        r"(cannot reach the database|database unreachable)",
        1,
    ),
]
# the queue matters to the processes that use it: doctor, serve (enqueues webhooks) and the worker
QUEUE_CASE = (
    "queue-unreachable",
    {"DUNNING_QUEUE_URL": "redis://:hunter2@127.0.0.1:{closed}/0"},
    r"queue unreachable",
    1,
)


Case = tuple[str, dict[str, str], str, int, list[str]]


def _cases(commands: tuple[list[str], ...], queue: tuple[list[str], ...]) -> list[Case]:
    table = [(name, env, said, code, cmd) for name, env, said, code in CASES for cmd in commands]
    return table + [(*QUEUE_CASE, cmd) for cmd in queue]


TABLE = _cases(PROCESSES, PROCESSES)
IN_PROCESS_TABLE = _cases(IN_PROCESS, (["doctor"],))
CLOSED = closed_port()


def _id(case: Case) -> str:
    return f"{case[0]}-{'-'.join(case[4][:2]) if case[4][0] == 'db' else case[4][0]}"


def _installation(home: Path) -> dict[str, str]:
    database = f"sqlite:///{home / 'dunning.db'}"
    upgrade(database)
    return {
        "DUNNING_VAR_DIR": str(home / "var"),
        "DUNNING_DATABASE_URL": database,
        "DUNNING_SECRET_KEYS": json.dumps([TokenCipher.generate_key()]),
    }


def _check(case: Case, code_seen: int, stdout: str, stderr: str) -> None:
    name, _, said, code, command = case
    shown = f"exit {code_seen}\nstdout:\n{stdout[-1500:]}\nstderr:\n{stderr[-1500:]}"
    assert code_seen == code, f"{name} / dunning {command[0]}: expected exit {code}\n{shown}"
    assert "Traceback" not in stdout + stderr, f"{name} / {command[0]}: a traceback\n{shown}"
    assert "hunter2" not in stdout + stderr, "a password from a URL was shown"
    if command[0] == "doctor" and code == 1:  # doctor reports the problem in its table and exits 1
        assert re.search(said, stdout), f"doctor does not say {said!r}\n{shown}"
        assert "db upgrade" not in stdout, f"doctor advises `db upgrade` for an unreachable service\n{shown}"
        return
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, f"{name} / {command[0]}: {len(errors)} error lines, not 1\n{shown}"
    assert re.search(said, errors[0]), f"{name} / {command[0]}: the line does not say {said!r}\n{shown}"
    assert len(stderr.strip().splitlines()) <= 2, f"more than the line and its hint\n{shown}"  # noqa: PLR2004


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    home = tmp_path_factory.mktemp("installation")
    base = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")} | _installation(home)

    def run(case: Case) -> subprocess.CompletedProcess[str]:
        env = base | {k: v.format(closed=CLOSED) for k, v in case[1].items()}
        args = [a.format(port=closed_port()) for a in case[4]]
        try:
            return subprocess.run(
                [DUNNING, *args], env=env, cwd=home, capture_output=True, text=True, timeout=240, check=False
            )
        except subprocess.TimeoutExpired as exc:  # a command that started instead of refusing
            return subprocess.CompletedProcess(args, -9, str(exc.stdout or ""), f"still running after {exc.timeout}s")

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, TABLE))
    yield {_id(case): result for case, result in zip(TABLE, results, strict=True)}


@pytest.mark.timeout(900)  # 14 interpreter starts on a shared machine
@pytest.mark.parametrize("case", TABLE, ids=[_id(c) for c in TABLE])
def test_serve_and_worker_refuse_with_one_line(
    outcomes: dict[str, subprocess.CompletedProcess[str]], case: Case
) -> None:
    result = outcomes[_id(case)]
    _check(case, result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    home = tmp_path_factory.mktemp("in-process")
    return Cli(cwd=home, env=_installation(home))


@pytest.mark.parametrize("case", IN_PROCESS_TABLE, ids=[_id(c) for c in IN_PROCESS_TABLE])
def test_every_command_refuses_with_one_line(installed: Cli, case: Case) -> None:
    cli = installed.with_env(**{k: v.format(closed=CLOSED) for k, v in case[1].items()})
    outcome = cli(*case[4])
    assert outcome.exception is None, f"{case[0]}: {type(outcome.exception).__name__}: {outcome.exception}"
    _check(case, outcome.exit_code, outcome.stdout, outcome.stderr)


def test_every_bad_setting_at_once_is_one_line_each(installed: Cli) -> None:
    cli = installed.with_env(
        DUNNING_DATABASE_URL="nonsense",
        DUNNING_SECRET_KEYS='["bad", "worse"]',
        DUNNING_HTTP_TIMEOUT_SECONDS="-1",
        DUNNING_LOG_LEVEL="LOUD",
    )
    outcome = cli("outbox")
    lines = outcome.stderr.strip().splitlines()
    assert outcome.exit_code == 2, outcome.describe()  # noqa: PLR2004
    assert [line.split(" ")[1].rstrip(":") for line in lines] == [
        "DUNNING_DATABASE_URL",
        "DUNNING_SECRET_KEYS",
        "DUNNING_SECRET_KEYS",
        "DUNNING_HTTP_TIMEOUT_SECONDS",
        "DUNNING_LOG_LEVEL",
    ], outcome.stderr
    assert all(line.startswith("error: ") for line in lines), outcome.stderr
    assert "worse" not in outcome.stderr and "bad" not in outcome.stderr.replace("error:", ""), "a key was echoed"
