"""``dunning demo`` and the commands an operator runs after it, against the state the demo left in var/.

The demo runs once per module (Moneybird only, in-process sandboxes on free ports); the read-only commands are
then checked against what is in the database. The demo works for the organisation ``connector.demo.DEMO_ORG``,
so every command gets ``--org`` (the CLI's default organisation is ``default``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from connector.auth.crypto import TokenCipher
from connector.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_ORG, DEMO_SIZES
from connector.logging import unconfigure_logging
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos, tables
from sandboxes.runner import start_sandbox
from tests.cli.conftest import Cli

ORG = ("--org", DEMO_ORG)
COUNTS = ("administrations", "invoices_synced", "open_invoices", "payments", "api_calls", "decisions", "writebacks")


def _env(monkeypatch: pytest.MonkeyPatch, var_dir: Path, key: str) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("DUNNING_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DUNNING_VAR_DIR", str(var_dir))
    monkeypatch.setenv("DUNNING_SECRET_KEYS", json.dumps([key]))


@pytest.fixture(scope="module")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, list[dict[str, Any]]]]:
    """var/ after two demo runs, with the JSON each printed."""
    var_dir = tmp_path_factory.mktemp("demo") / "var"
    key = TokenCipher.generate_key()
    printed = []
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, var_dir, key)
        cli = Cli(var_dir=var_dir, key=key, runner=CliRunner())
        for _ in range(2):
            result = cli.ok("demo", "--no-serve", "--json", "--provider", "moneybird", "--port", "0")
            printed.append({"stdout": result.stdout, "stderr": result.stderr})
        unconfigure_logging()
    yield var_dir, key, printed


@pytest.fixture
def after_demo(demo_state: tuple[Path, str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    var_dir, key, _ = demo_state
    _env(monkeypatch, var_dir, key)
    yield Cli(var_dir=var_dir, key=key, runner=CliRunner())
    unconfigure_logging()


def _runtime() -> Runtime:
    return Runtime(Settings(), budget_url="memory://")


def _org_id(rt: Runtime) -> int:
    with rt.sessions() as s:
        org_id = repos.find_organisation(s, DEMO_ORG)
    assert org_id is not None
    return org_id


def test_demo_prints_one_json_object_and_nothing_else(demo_state: tuple[Path, str, list[dict[str, Any]]]) -> None:
    first = demo_state[2][0]["stdout"]
    assert first.endswith("\n") and first.count("\n") == 1, f"more than one line on stdout: {first!r}"
    data = json.loads(first)
    assert list(data) == ["providers"] and list(data["providers"]) == ["moneybird"]
    counts = data["providers"]["moneybird"]
    assert set(counts) == set(COUNTS)
    assert all(isinstance(counts[k], int) and counts[k] > 0 for k in COUNTS), counts


def test_second_demo_run_syncs_incrementally_and_writes_nothing(
    demo_state: tuple[Path, str, list[dict[str, Any]]],
) -> None:
    first, second = (json.loads(p["stdout"])["providers"]["moneybird"] for p in demo_state[2])
    assert second["decisions"] == 0 and second["writebacks"] == 0
    assert second["administrations"] == first["administrations"]
    assert second["invoices_synced"] == first["invoices_synced"]
    assert 0 < second["api_calls"] < first["api_calls"]  # incremental: a few synchronization calls, no full read


def test_dry_run_shows_actions_and_stores_nothing(after_demo: Cli) -> None:
    rt = _runtime()
    org_id = _org_id(rt)

    def stored() -> tuple[list[tuple[int, str]], int, int]:
        with rt.sessions() as s:
            outbox = [(i.id, i.status) for i in repos.outbox_items(s, org_id)]
            audit = len(repos.audit_trail(s, org_id, limit=100_000))
            runs = s.scalar(select(func.count()).select_from(tables.DunningRun)) or 0
        return outbox, audit, runs

    before = stored()
    tomorrow = datetime.now(ZoneInfo("Europe/Amsterdam")).date() + timedelta(days=1)
    data = after_demo.json("run", "--dry-run", "--json", *ORG)
    assert data["run_date"] == tomorrow.isoformat()
    assert len(data["actions"]) == data["messages"]
    assert "outbox" not in data  # a dry run drains nothing
    # a week on, the ladder's next steps are due for the invoices reminded today (the seed's due dates are
    # relative to today, so this holds on any day); tomorrow alone may be quiet
    later = (tomorrow + timedelta(days=6)).isoformat()
    ahead = after_demo.json("run", "--dry-run", "--json", "--date", later, *ORG)
    assert ahead["run_date"] == later
    assert ahead["actions"] and len(ahead["actions"]) == ahead["messages"]
    action = ahead["actions"][0]
    assert {"administration", "debtor_ref", "level_name", "invoices", "open_amount", "channel"} <= set(action)
    assert stored() == before
    rt.close()


def test_outbox_json_matches_the_database(after_demo: Cli) -> None:
    rows = after_demo.json("outbox", "--json", *ORG)
    rt = _runtime()
    with rt.sessions() as s:
        items = repos.outbox_items(s, _org_id(rt))
    rt.close()
    assert sorted(r["id"] for r in rows) == sorted(i.id for i in items)
    assert {r["status"] for r in rows} <= {"pending", "done", "skipped", "failed", "awaiting_approval"}
    assert any(r["status"] == "done" for r in rows)


def test_why_explains_a_reminded_invoice(after_demo: Cli) -> None:
    rt = _runtime()
    with rt.sessions() as s:
        done = repos.outbox_items(s, _org_id(rt), status="done")
    rt.close()
    invoice_ref = done[0].invoice_refs[0]
    entries = after_demo.json("why", invoice_ref, "--json", *ORG)
    assert entries, "no audit entries for a reminded invoice"
    assert any(e["kind"] == "decision" for e in entries)
    assert all({"at", "kind", "message", "data"} <= set(e) for e in entries)
    assert after_demo.json("why", "no-such-invoice", "--json", *ORG) == []


def test_doctor_json(after_demo: Cli) -> None:
    checks = after_demo.json("doctor", "--json", *ORG)
    assert checks["keys"] == "1 key(s)"
    assert checks["database"].endswith("dunning.db") and checks["queue"].endswith("queue.db")
    assert [(c["provider"], c["status"], c["action"]) for c in checks["connections"]] == [("moneybird", "active", "")]


def test_doctor_without_keys_says_what_to_do(after_demo: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DUNNING_SECRET_KEYS")
    result = after_demo("doctor", "--json", *ORG)
    assert result.exit_code == 1
    assert "dunning keygen" in json.loads(result.stdout)["keys"]


def test_reports(after_demo: Cli) -> None:
    aging = after_demo.json("report", "aging", "--json", *ORG)
    total = next(r for r in aging["rows"] if r["scope"] == "total")
    rt = _runtime()
    with rt.sessions() as s:
        org_id = _org_id(rt)
        counts = repos.counts(s, org_id, [a.id for a in repos.list_administrations(s, org_id)])
    rt.close()
    assert int(total["invoices"]) == counts["open_invoices"]
    assert sum(Decimal(total[b]) for b in aging["buckets"]) == Decimal(total["total"])

    dso = after_demo.json("report", "dso", "--json", *ORG)
    assert dso["report"] == "dso" and float(dso["dso"]) > 0

    result = after_demo.ok("report", "forecast", "--csv", *ORG)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and {"week", "week_start", "expected", "invoices"} <= set(rows[0])
    weeks = [r for r in rows if r["week"] != "beyond"]
    assert weeks and all(date.fromisoformat(r["week_start"]).weekday() == 0 for r in weeks)  # ISO weeks
    # every open invoice is expected in some week (or beyond): the forecast adds up to the aging total
    assert sum(Decimal(r["expected"]) for r in rows) == Decimal(total["total"])
    assert sum(int(r["invoices"]) for r in rows) == counts["open_invoices"]

    bad = after_demo("report", "ageing", *ORG)
    assert bad.exit_code == 2 and "aging, dso, forecast" in bad.stderr


def test_dead_letters_and_replay(after_demo: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert after_demo.json("dead-letters", "--json", *ORG) == []
    rt = _runtime()
    org_id = _org_id(rt)
    with rt.sessions() as s:
        adm = repos.list_administrations(s, org_id)[0]
        invoice_ref = repos.get_invoices(s, org_id, adm.id, open_only=True)[0].provider_ref
        event_id = repos.record_inbox_event(
            s,
            org_id,
            connection_id=adm.connection_id,
            provider="moneybird",
            provider_tenant_id=adm.provider_tenant_id,
            dedupe_id="cli-test-dead",
            entity_type="invoice",
            entity_id=invoice_ref,
            action="sales_invoice_updated",
            raw=b"{}",
            status="dead",
            last_error="GarbageResponse: simulated",
        )
        s.commit()
    assert event_id is not None
    dead = after_demo.json("dead-letters", "--json", *ORG)
    assert [(d["id"], d["entity_id"], d["error"]) for d in dead] == [
        (event_id, invoice_ref, "GarbageResponse: simulated")
    ]

    # replaying re-reads the invoice from the provider: bring the demo's sandbox back with its saved state
    sandbox = start_sandbox(
        "moneybird",
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        state_path=after_demo.var_dir / "sandboxes" / "moneybird.json",
        rate_limits=False,
        **DEMO_SIZES["moneybird"],
    )
    try:
        monkeypatch.setenv("DUNNING_MONEYBIRD__BASE_URL", sandbox.url)
        monkeypatch.setenv("DUNNING_MONEYBIRD__CLIENT_ID", DEMO_CLIENT_ID)
        monkeypatch.setenv("DUNNING_MONEYBIRD__CLIENT_SECRET", DEMO_CLIENT_SECRET)
        calls_before = len(sandbox.app.extensions["sandbox"].request_log)
        result = after_demo.ok("replay-dead", *ORG)
        log = sandbox.app.extensions["sandbox"].request_log[calls_before:]
    finally:
        sandbox.shutdown()
    assert "replayed 1: 1 processed" in result.stderr
    assert log and all(status == 200 for _, _, status in log)
    assert after_demo.json("dead-letters", "--json", *ORG) == []
    with rt.sessions() as s:
        event = repos.get_inbox_event(s, org_id, event_id)
    rt.close()
    assert event.status == "processed" and event.last_error is None


def test_administrations_safe_mode_and_approve(after_demo: Cli) -> None:
    listed = after_demo.json("administrations", "--json", *ORG)
    assert listed and {"id", "name", "safe_mode", "provider_reminders_active"} <= set(listed[0])
    target = listed[0]["id"]
    after_demo.ok("safe-mode", str(target), "--on", *ORG)
    assert next(a for a in after_demo.json("administrations", "--json", *ORG) if a["id"] == target)["safe_mode"]
    after_demo.ok("safe-mode", str(target), "--off", *ORG)
    assert not next(a for a in after_demo.json("administrations", "--json", *ORG) if a["id"] == target)["safe_mode"]
    unknown = after_demo("safe-mode", "999999", "--on", *ORG)
    assert unknown.exit_code == 2 and "dunning administrations" in unknown.output
    rt = _runtime()
    org_id = _org_id(rt)
    with rt.sessions.begin() as s:
        item = repos.outbox_items(s, org_id)[0]
        item.status = "awaiting_approval"
        item_id = item.id
    after_demo.ok("approve", str(item_id), *ORG)
    with rt.sessions() as s:
        assert next(i for i in repos.outbox_items(s, org_id) if i.id == item_id).status == "pending"
    again = after_demo("approve", str(item_id), *ORG)
    assert again.exit_code == 2 and "not waiting for approval" in again.output
    rt.close()
