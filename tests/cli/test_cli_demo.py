"""``dunning demo`` and what a newcomer runs after it, in the same folder, with no settings at all: the demo's
output (one JSON object, or a summary and what to try next), the commands that show its data, and that reading
creates nothing.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connector import demo
from connector.demo import DEMO_ORG, JSON_COUNTS
from connector.storage import repos, tables
from tests.cli.demo_world import DICT_REPR, demo_org_id, reminded_invoice, runtime_for
from tests.clirunner import Cli, Outcome


def test_demo_prints_one_json_object_and_nothing_else(demo_state: tuple[Cli, list[Outcome]]) -> None:
    first = demo_state[1][0]
    assert first.stdout.endswith("\n"), first.describe()
    assert first.stdout.count("\n") == 1, f"more than one line on stdout: {first.stdout!r}"
    assert first.stderr == "", f"--json prints nothing else: {first.stderr!r}"
    data = json.loads(first.stdout)
    assert list(data) == ["providers"], data
    assert list(data["providers"]) == ["moneybird"], data
    counts = data["providers"]["moneybird"]
    assert set(counts) == set(JSON_COUNTS)
    assert all(isinstance(counts[k], int) and counts[k] > 0 for k in JSON_COUNTS), counts


def test_second_demo_run_syncs_incrementally_and_writes_nothing(demo_state: tuple[Cli, list[Outcome]]) -> None:
    first, second = (run.json()["providers"]["moneybird"] for run in demo_state[1])
    assert second["decisions"] == 0 and second["writebacks"] == 0
    assert second["administrations"] == first["administrations"]
    assert second["invoices_synced"] == first["invoices_synced"]
    assert 0 < second["api_calls"] < first["api_calls"]  # incremental: a few synchronization calls, no full read


def test_newcomer_commands_show_the_demo_data_without_settings(after_demo: Cli) -> None:
    """What the README suggests after the demo, exactly as a newcomer types it: no key, no --org, no traceback."""
    rt = runtime_for(after_demo)
    with rt.sessions() as s:
        names = [a.name for a in repos.list_administrations(s, demo_org_id(rt))]
    rt.close()
    number, _ = reminded_invoice(after_demo)
    for args, expected in [
        (("administrations",), names),
        (("outbox",), ["worklist", "done"]),
        (("why", number), [f"invoice {number}", "history"]),
        (("report", "aging"), ["open receivables by age", "all administrations", *names]),
        (("invoices", "--overdue"), ["days late", "open"]),
        (("debtors",), ["open invoices", "more row(s) not shown"]),
        (("report", "forecast"), ["expected receipts", "days late"]),
        (("report", "dso"), ["DSO", "formula"]),
        (("classify",), ["risk"]),
        (("doctor",), ["Demo accountancy", "the demo's", "moneybird"]),
    ]:
        outcome = after_demo(*args)
        assert outcome.exit_code == 0, outcome.describe()
        for text in expected:
            assert text in outcome.stdout, f"{text!r} missing from `dunning {' '.join(args)}`:\n{outcome.stdout}"
        assert outcome.stderr == "", f"`dunning {' '.join(args)}` is not quiet: {outcome.stderr!r}"
        assert not DICT_REPR.search(outcome.stdout), f"a Python dict in `dunning {' '.join(args)}`"


def _snapshot(cli: Cli) -> tuple[list[str], dict[str, int]]:
    files = sorted(str(p.relative_to(cli.var_dir)) for p in cli.var_dir.rglob("*") if "-wal" not in p.name)
    rt = runtime_for(cli)
    with rt.sessions() as s:
        counts = {
            table.__tablename__: int(s.scalar(select(func.count()).select_from(table)) or 0)
            for table in (tables.Organisation, tables.AuditEntry, tables.OutboxItem, tables.DunningRun)
        }
    rt.close()
    return [f for f in files if not f.endswith("-shm")], counts


def test_read_commands_create_nothing(after_demo: Cli) -> None:
    before = _snapshot(after_demo)
    number, _ = reminded_invoice(after_demo)
    for args in [
        ("doctor",),
        ("administrations",),
        ("outbox",),
        ("why", number),
        ("invoices",),
        ("debtors",),
        ("report", "aging"),
        ("report", "forecast", "--csv"),
        ("classify",),
        ("dead-letters",),
        ("arrangement", "list"),
        ("reasons",),
    ]:
        after_demo.ok(*args)
    assert _snapshot(after_demo) == before


def test_serve_shows_the_demo_organisation(after_demo: Cli) -> None:
    """The web app ``dunning serve`` runs, started the way its WSGI module starts it: settings from the folder."""
    from dashboard import create_app

    settings = after_demo.settings()
    app = create_app(settings)
    client = app.test_client()
    login = {"email": demo.DEMO_OWNER, "password": demo.DEMO_PASSWORD}
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/login", data=login).status_code == 302, "the demo's owner cannot log in"
    page = client.get("/?lang=en").get_data(as_text=True)
    rt = app.extensions["dunning"].runtime
    assert app.extensions["dunning"].org_id == demo_org_id(rt)
    with rt.sessions() as s:
        first = repos.list_administrations(s, demo_org_id(rt))[0].name
    rt.close()
    assert first in page


def test_doctor_json(after_demo: Cli) -> None:
    checks = after_demo.json("doctor", "--json")
    assert checks["keys"] == "1 key(s) from var/demo-secret.key (the demo's)"
    placed = after_demo.env  # nothing, or PostgreSQL and Redis in that pass of the suite (tests/dbs.py)
    assert checks["database"] == placed.get("DUNNING_DATABASE_URL", checks["database"]), checks
    assert checks["queue"] == placed.get("DUNNING_QUEUE_URL", checks["queue"]), checks
    assert "DUNNING_DATABASE_URL" in placed or checks["database"].endswith("dunning.db"), checks
    assert "DUNNING_QUEUE_URL" in placed or checks["queue"].endswith("queue.db"), checks
    assert checks["organisations"] == [DEMO_ORG]
    assert checks["policies"].startswith("b2b, b2c from "), checks
    assert [(c["provider"], c["status"], c["action"]) for c in checks["connections"]] == [("moneybird", "active", "")]


def test_doctor_without_keys_says_what_to_do(after_demo: Cli, tmp_path: Path) -> None:
    shutil.copytree(after_demo.var_dir, tmp_path / "var", ignore=shutil.ignore_patterns("demo-secret.key"))
    result = Cli(cwd=tmp_path)("doctor", "--json")
    assert result.exit_code == 1, result.describe()
    assert "dunning keygen" in result.json()["keys"]


def test_demo_for_people_shows_a_summary_and_what_to_do_next(after_demo: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --json: one summary row per provider and three commands to try; with --no-serve nothing is left
    listening and the dashboard's port is never bound (only free ports for the in-process servers)."""
    bound: list[int] = []
    original_bind = socket.socket.bind

    def recording_bind(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple):
            bound.append(int(address[1]))
        original_bind(sock, address)

    monkeypatch.setattr(socket.socket, "bind", recording_bind)
    outcome = after_demo.ok("demo", "--no-serve", "--provider", "moneybird")
    monkeypatch.undo()
    assert "What the demo did" in outcome.stdout
    for header in ("administrations", "invoices", "open", "payments", "API calls", "decisions", "messages sent"):
        assert header in outcome.stdout, f"{header!r} missing from the summary:\n{outcome.stdout}"
    assert "dunning outbox" in outcome.stdout
    assert "dunning why " in outcome.stdout
    assert "dunning report aging" in outcome.stdout
    assert "dunning serve" in outcome.stdout
    assert not DICT_REPR.search(outcome.output), outcome.output
    assert [line for line in outcome.stderr.splitlines() if not line.startswith("moneybird: ")] == []
    assert 8000 not in bound, bound
    assert bound, "the demo binds its in-process servers"
    left = [t.name for t in threading.enumerate() if t.name.startswith("wsgi-")]
    assert left == [], f"servers still running after the demo: {left}"
