"""``dunning demo`` and what a newcomer runs after it, in the same folder, with no settings at all.

The demo runs twice per module (Moneybird only, in-process sandboxes on free ports) in an empty folder with no
``DUNNING_*`` variable: it keeps its key in ``var/demo-secret.key`` and its data in the organisation
``connector.demo.DEMO_ORG``. Every later command finds both by itself: no key to set, no ``--org`` to give.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connector import clock, queries
from connector.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_ORG, DEMO_SIZES, JSON_COUNTS
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos, tables
from sandboxes.runner import start_sandbox
from tests.clirunner import Cli, Outcome

DICT_REPR = re.compile(r"\{'\w+': ")  # how a Python dict prints: never for people


@pytest.fixture(scope="module")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cli, list[Outcome]]]:
    """An empty folder after two demo runs without any setting, and what each run printed."""
    cli = Cli(cwd=tmp_path_factory.mktemp("newcomer"))
    runs = [cli.ok("demo", "--no-serve", "--json", "--provider", "moneybird") for _ in range(2)]
    yield cli, runs


@pytest.fixture
def after_demo(demo_state: tuple[Cli, list[Outcome]]) -> Cli:
    return demo_state[0]


def _runtime(cli: Cli) -> Runtime:
    return Runtime(Settings(var_dir=cli.var_dir, database_url=f"sqlite:///{cli.var_dir / 'dunning.db'}"))


def _org_id(rt: Runtime) -> int:
    with rt.sessions() as s:
        org_id = repos.find_organisation(s, DEMO_ORG)
    assert org_id is not None
    return org_id


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


def test_dry_run_shows_actions_and_stores_nothing(after_demo: Cli) -> None:
    rt = _runtime(after_demo)
    org_id = _org_id(rt)

    def stored() -> tuple[list[tuple[int, str]], int, int]:
        with rt.sessions() as s:
            outbox = [(i.id, i.status) for i in repos.outbox_items(s, org_id)]
            audit = len(repos.audit_trail(s, org_id, limit=100_000))
            runs = s.scalar(select(func.count()).select_from(tables.DunningRun)) or 0
        return outbox, audit, runs

    before = stored()
    tomorrow = clock.today(clock=rt.clock) + timedelta(days=1)
    data = after_demo.json("run", "--dry-run", "--json")
    assert data["run_date"] == tomorrow.isoformat()
    assert len(data["actions"]) == data["messages"]
    assert "outbox" not in data  # a dry run drains nothing
    # a week on, the ladder's next steps are due for the invoices reminded today (the seed's due dates are
    # relative to today, so this holds on any day); tomorrow alone may be quiet
    later = (tomorrow + timedelta(days=6)).isoformat()
    ahead = after_demo.json("run", "--dry-run", "--json", "--date", later)
    assert ahead["run_date"] == later
    assert ahead["actions"], ahead
    assert len(ahead["actions"]) == ahead["messages"]
    action = ahead["actions"][0]
    assert {"administration", "debtor", "debtor_ref", "level_name", "invoices", "open_amount"} <= set(action)
    shown = after_demo.ok("run", "--dry-run", "--date", later, "--limit", "3")
    assert "dry run: nothing stored or sent" in shown.stdout
    assert action["debtor"] in shown.stdout, "actions name the debtor, not its reference"
    assert "more row(s) not shown" in shown.stdout
    assert stored() == before
    rt.close()


def test_outbox_json_matches_the_database(after_demo: Cli) -> None:
    rows = after_demo.json("outbox", "--json")
    rt = _runtime(after_demo)
    with rt.sessions() as s:
        items = repos.outbox_items(s, _org_id(rt))
    rt.close()
    assert sorted(r["id"] for r in rows) == sorted(i.id for i in items)
    assert {r["status"] for r in rows} <= {"pending", "done", "skipped", "failed", "awaiting_approval"}
    assert any(r["status"] == "done" for r in rows)


def _reminded_invoice(cli: Cli) -> tuple[str, str]:
    """(number, provider reference) of an invoice the demo reminded."""
    rt = _runtime(cli)
    org_id = _org_id(rt)
    with rt.sessions() as s:
        item = repos.outbox_items(s, org_id, status="done")[0]
        [row] = repos.get_invoices(s, org_id, item.administration_id, [item.invoice_refs[0]])
    rt.close()
    assert row.number
    return row.number, row.provider_ref


def test_why_takes_the_number_a_user_sees(after_demo: Cli) -> None:
    number, reference = _reminded_invoice(after_demo)
    by_number = after_demo.json("why", number, "--json")
    by_reference = after_demo.json("why", reference, "--json")
    # a number may repeat across administrations: asked by number, every invoice with it answers
    assert by_reference, "no answer by reference"
    assert all(entry in by_number for entry in by_reference), (by_number, by_reference)
    assert any(e["kind"] == "decision" for e in by_number), by_number
    assert all({"at", "kind", "message", "data", "administration", "invoice"} <= set(e) for e in by_number)
    assert {e["invoice"] for e in by_number} == {number}
    unknown = after_demo("why", "no-such-invoice")
    assert unknown.exit_code == 2, unknown.describe()
    assert "no invoice 'no-such-invoice' here" in unknown.stderr
    assert unknown.stdout == ""


def test_newcomer_commands_show_the_demo_data_without_settings(after_demo: Cli) -> None:
    """What the README suggests after the demo, exactly as a newcomer types it: no key, no --org, no traceback."""
    rt = _runtime(after_demo)
    with rt.sessions() as s:
        names = [a.name for a in repos.list_administrations(s, _org_id(rt))]
    rt.close()
    number, _ = _reminded_invoice(after_demo)
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
    rt = _runtime(cli)
    with rt.sessions() as s:
        counts = {
            table.__tablename__: int(s.scalar(select(func.count()).select_from(table)) or 0)
            for table in (tables.Organisation, tables.AuditEntry, tables.OutboxItem, tables.DunningRun)
        }
    rt.close()
    return [f for f in files if not f.endswith("-shm")], counts


def test_read_commands_create_nothing(after_demo: Cli) -> None:
    before = _snapshot(after_demo)
    number, _ = _reminded_invoice(after_demo)
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

    settings = Settings(var_dir=after_demo.var_dir, database_url=f"sqlite:///{after_demo.var_dir / 'dunning.db'}")
    app = create_app(settings)
    page = app.test_client().get("/?lang=en").get_data(as_text=True)
    rt = app.extensions["dunning"].runtime
    assert app.extensions["dunning"].org_id == _org_id(rt)
    with rt.sessions() as s:
        first = repos.list_administrations(s, _org_id(rt))[0].name
    rt.close()
    assert first in page


def test_doctor_json(after_demo: Cli) -> None:
    checks = after_demo.json("doctor", "--json")
    assert checks["keys"] == "1 key(s) from var/demo-secret.key (the demo's)"
    assert checks["database"].endswith("dunning.db"), checks
    assert checks["queue"].endswith("queue.db"), checks
    assert checks["organisations"] == [DEMO_ORG]
    assert checks["policies"].startswith("b2b, b2c from "), checks
    assert [(c["provider"], c["status"], c["action"]) for c in checks["connections"]] == [("moneybird", "active", "")]


def test_doctor_without_keys_says_what_to_do(after_demo: Cli, tmp_path: Path) -> None:
    shutil.copytree(after_demo.var_dir, tmp_path / "var", ignore=shutil.ignore_patterns("demo-secret.key"))
    result = Cli(cwd=tmp_path)("doctor", "--json")
    assert result.exit_code == 1, result.describe()
    assert "dunning keygen" in result.json()["keys"]


def test_reports(after_demo: Cli) -> None:
    aging = after_demo.json("report", "aging", "--json")
    total = next(r for r in aging["rows"] if r["scope"] == "total")
    rt = _runtime(after_demo)
    with rt.sessions() as s:
        org_id = _org_id(rt)
        counts = repos.counts(s, org_id, [a.id for a in repos.list_administrations(s, org_id)])
    rt.close()
    assert int(total["invoices"]) == counts["open_invoices"]
    assert sum(Decimal(total[b]) for b in aging["buckets"]) == Decimal(total["total"])

    dso = after_demo.json("report", "dso", "--json")
    assert dso["report"] == "dso" and float(dso["dso"]) > 0

    forecast = after_demo.json("report", "forecast", "--json")
    assert forecast["method"].count(".") == 1, "one plain sentence"
    assert forecast["method"].endswith("for 13 weeks.")
    assert forecast["debtor_delay_days"], "debtors with payment history have their own delay"
    rt = _runtime(after_demo)
    known = queries.debtor_names(rt, _org_id(rt))
    rt.close()
    for row in forecast["debtor_delay_days"]:
        assert row["debtor"] == known[(row["administration"], row["debtor_ref"])], row

    result = after_demo.ok("report", "forecast", "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and {"week", "week_start", "expected", "invoices"} <= set(rows[0])
    weeks = [r for r in rows if r["week"] != "beyond"]
    assert weeks and all(date.fromisoformat(r["week_start"]).weekday() == 0 for r in weeks)  # ISO weeks
    # every open invoice is expected in some week (or beyond): the forecast adds up to the aging total
    assert sum(Decimal(r["expected"]) for r in rows) == Decimal(total["total"])
    assert sum(int(r["invoices"]) for r in rows) == counts["open_invoices"]

    bad = after_demo("report", "ageing")
    assert bad.exit_code == 2, bad.describe()
    assert "aging, dso, forecast" in bad.stderr


def test_dead_letters_and_replay(after_demo: Cli) -> None:
    assert after_demo.json("dead-letters", "--json") == []
    rt = _runtime(after_demo)
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
    dead = after_demo.json("dead-letters", "--json")
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
        calls_before = len(sandbox.app.extensions["sandbox"].request_log)
        result = _against(after_demo, sandbox.url).ok("replay-dead")
        log = sandbox.app.extensions["sandbox"].request_log[calls_before:]
    finally:
        sandbox.shutdown()
    assert "replayed 1: 1 processed" in result.stderr
    assert log and all(status == 200 for _, _, status in log)
    assert after_demo.json("dead-letters", "--json") == []
    with rt.sessions() as s:
        event = repos.get_inbox_event(s, org_id, event_id)
    rt.close()
    assert event.status == "processed" and event.last_error is None


def test_administrations_safe_mode_and_approve(after_demo: Cli) -> None:
    listed = after_demo.json("administrations", "--json")
    assert listed and {"id", "name", "safe_mode", "provider_reminders_active"} <= set(listed[0])
    target = listed[0]["id"]
    after_demo.ok("safe-mode", str(target), "--on")
    assert next(a for a in after_demo.json("administrations", "--json") if a["id"] == target)["safe_mode"]
    after_demo.ok("safe-mode", str(target), "--off")
    assert not next(a for a in after_demo.json("administrations", "--json") if a["id"] == target)["safe_mode"]
    unknown = after_demo("safe-mode", "999999", "--on")
    assert unknown.exit_code == 2 and "dunning administrations" in unknown.output
    rt = _runtime(after_demo)
    org_id = _org_id(rt)
    with rt.sessions.begin() as s:
        item = repos.outbox_items(s, org_id)[0]
        item.status = "awaiting_approval"
        item_id = item.id
    after_demo.ok("approve", str(item_id))
    with rt.sessions() as s:
        assert next(i for i in repos.outbox_items(s, org_id) if i.id == item_id).status == "pending"
    again = after_demo("approve", str(item_id))
    assert again.exit_code == 2 and "not waiting for approval" in again.output
    rt.close()


def _against(cli: Cli, moneybird_url: str) -> Cli:
    """The same folder, talking to a Moneybird sandbox started again from the demo's saved state."""
    return cli.with_env(
        DUNNING_MONEYBIRD__BASE_URL=moneybird_url,
        DUNNING_MONEYBIRD__CLIENT_ID=DEMO_CLIENT_ID,
        DUNNING_MONEYBIRD__CLIENT_SECRET=DEMO_CLIENT_SECRET,
    )


def _restart_moneybird(cli: Cli) -> Any:
    return start_sandbox(
        "moneybird",
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        state_path=cli.var_dir / "sandboxes" / "moneybird.json",
        rate_limits=False,
        **DEMO_SIZES["moneybird"],
    )


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: connecting to it is refused


def test_sync_goes_on_when_a_provider_is_unreachable(after_demo: Cli, tmp_path: Path) -> None:
    """Two connections, one whose provider cannot be reached: the other still syncs, the summary names the failed
    one and the exit status is 1."""
    shutil.copytree(after_demo.var_dir, tmp_path / "var")
    cli = Cli(cwd=tmp_path)
    rt = _runtime(cli)
    org_id = _org_id(rt)
    with rt.sessions.begin() as s:
        [good] = repos.list_connections(s, org_id)
        good_id = good.id
        token = s.get(tables.OAuthToken, good_id)
        assert token is not None
        grant = rt.cipher.decrypt_tokens(good_id, token.ciphertext)
        gone = repos.create_connection(s, org_id, "moneybird", display_name="Moneybird (unreachable)")
        gone.site_url, gone_id = f"http://127.0.0.1:{_dead_port()}", gone.id
    rt.tokens.store_initial(gone_id, org_id, grant)
    rt.close()
    sandbox = _restart_moneybird(cli)
    try:
        result = _against(cli, sandbox.url)("sync", "--json")
        shown = _against(cli, sandbox.url)("sync")
    finally:
        sandbox.shutdown()
    assert result.exit_code == 1, result.describe()
    data = result.json()
    by_connection = {r["connection"]: r for r in data["connections"]}
    assert by_connection[good_id]["status"] == "synced", data
    assert by_connection[gone_id]["status"] == "failed", data
    assert by_connection[gone_id]["error"], data
    assert data["failed"] == 1
    assert shown.exit_code == 1, shown.describe()
    assert "failed" in shown.stdout
    assert "1 connection(s) failed to sync: moneybird (connection" in shown.stderr
    assert "Traceback" not in shown.output


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
