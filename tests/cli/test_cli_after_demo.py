"""The commands an operator runs on the demo's data: a dry run, the worklist, why, reports, dead letters, safe
mode and approvals, and a sync in which one provider cannot be reached."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from connector import clock, queries
from connector.model.outbox import OutboxStatus
from connector.storage import repos, tables
from tests.cli.demo_world import (
    against,
    copy_of,
    dead_port,
    demo_org_id,
    reminded_invoice,
    restart_moneybird,
    runtime_for,
)
from tests.clirunner import Cli


def test_dry_run_shows_actions_and_stores_nothing(after_demo: Cli) -> None:
    rt = runtime_for(after_demo)
    org_id = demo_org_id(rt)

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
    rt = runtime_for(after_demo)
    with rt.sessions() as s:
        items = repos.outbox_items(s, demo_org_id(rt))
    rt.close()
    assert sorted(r["id"] for r in rows) == sorted(i.id for i in items)
    assert {r["status"] for r in rows} <= {"pending", "done", "skipped", "failed", "awaiting_approval"}
    assert any(r["status"] == "done" for r in rows)


def test_why_takes_the_number_a_user_sees(after_demo: Cli) -> None:
    number, reference = reminded_invoice(after_demo)
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


def test_reports(after_demo: Cli) -> None:
    aging = after_demo.json("report", "aging", "--json")
    total = next(r for r in aging["rows"] if r["scope"] == "total")
    rt = runtime_for(after_demo)
    with rt.sessions() as s:
        org_id = demo_org_id(rt)
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
    rt = runtime_for(after_demo)
    known = queries.debtor_names(rt, demo_org_id(rt))
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
    rt = runtime_for(after_demo)
    org_id = demo_org_id(rt)
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
    sandbox = restart_moneybird(after_demo)
    try:
        calls_before = len(sandbox.app.extensions["sandbox"].request_log)
        result = against(after_demo, sandbox.url).ok("replay-dead")
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
    assert listed, "no administrations"
    assert {"id", "name", "safe_mode", "provider_reminders_active"} <= set(listed[0])
    target = listed[0]["id"]
    after_demo.ok("safe-mode", str(target), "--on")
    assert next(a for a in after_demo.json("administrations", "--json") if a["id"] == target)["safe_mode"]
    after_demo.ok("safe-mode", str(target), "--off")
    assert not next(a for a in after_demo.json("administrations", "--json") if a["id"] == target)["safe_mode"]
    unknown = after_demo("safe-mode", "999999", "--on")
    assert unknown.exit_code == 2, unknown.describe()
    assert "dunning administrations" in unknown.stderr
    rt = runtime_for(after_demo)
    org_id = demo_org_id(rt)
    with rt.sessions.begin() as s:
        item = repos.outbox_items(s, org_id)[0]
        item_id, status = item.id, item.status
        repos.update_outbox_item(s, org_id, item_id, status=OutboxStatus.AWAITING_APPROVAL)
    try:
        after_demo.ok("approve", str(item_id))
        with rt.sessions() as s:
            assert next(i for i in repos.outbox_items(s, org_id) if i.id == item_id).status == "pending"
        again = after_demo("approve", str(item_id))
        assert again.exit_code == 2, again.describe()
        assert "not waiting for approval" in again.stderr
    finally:  # the demo's state is shared by the other tests: put the item back as it was
        with rt.sessions.begin() as s:
            repos.update_outbox_item(s, org_id, item_id, status=status)
        rt.close()


def test_sync_goes_on_when_a_provider_is_unreachable(after_demo: Cli, tmp_path: Path) -> None:
    """Two connections, one whose provider cannot be reached: the other still syncs, the summary names the failed
    one and the exit status is 1."""
    with copy_of(after_demo, tmp_path) as cli:
        _sync_goes_on(cli)


def _sync_goes_on(cli: Cli) -> None:
    rt = runtime_for(cli)
    org_id = demo_org_id(rt)
    with rt.sessions.begin() as s:
        [good] = repos.list_connections(s, org_id)
        good_id = good.id
        token = s.get(tables.OAuthToken, good_id)
        assert token is not None
        grant = rt.cipher.decrypt_tokens(good_id, token.ciphertext)
        gone = repos.create_connection(s, org_id, "moneybird", display_name="Moneybird (unreachable)")
        gone.site_url, gone_id = f"http://127.0.0.1:{dead_port()}", gone.id
    rt.tokens.store_initial(gone_id, org_id, grant)
    rt.close()
    sandbox = restart_moneybird(cli)
    try:
        result = against(cli, sandbox.url)("sync", "--json")
        shown = against(cli, sandbox.url)("sync")
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
