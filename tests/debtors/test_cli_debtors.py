"""The debtor-management commands end to end through typer's CliRunner on a fresh SQLite database."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connector import model, services
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction
from tests.clirunner import Cli


def _settings(cli: Cli) -> Settings:
    return Settings(var_dir=cli.var_dir, secret_keys=[cli.key])


def _outbox(cli: Cli) -> list[tuple[str, list[str]]]:
    rt = Runtime(_settings(cli))
    try:
        with rt.sessions() as s:
            org = repos.find_organisation(s, "default")
            assert org is not None
            return [(i.action, list(i.invoice_refs)) for i in repos.outbox_items(s, org)]
    finally:
        rt.close()


@pytest.fixture
def debtor_cli(cli: Cli) -> Cli:
    """One organisation with one Moneybird administration, debtor Jansen (C1) and two open invoices."""
    cli.ok("db", "upgrade")
    rt = Runtime(_settings(cli))
    org = services.ensure_organisation(rt, "default")
    with transaction(rt.sessions) as s:
        conn = repos.create_connection(s, org, "moneybird")
        adm = repos.upsert_administration(s, org, conn.id, "moneybird", model.Tenant(provider_tenant_id="1", name="A"))
        repos.upsert_debtors(
            s, org, adm.id, [model.Debtor(provider_ref="d1", name="Jansen", customer_number="C1")], rt.clock()
        )
        invoices = [
            model.Invoice(
                provider_ref=ref,
                number=f"F-{ref}",
                debtor_ref="d1",
                invoice_date=date(2025, 12, 1),
                due_date=date(2026, 1, 1),
                currency="EUR",
                total=Decimal(amount),
                open_amount=Decimal(amount),
                status=model.InvoiceStatus.OPEN,
                provider_state="open",
            )
            for ref, amount in (("i1", "400.00"), ("i2", "200.00"))
        ]
        repos.upsert_invoices(s, org, adm.id, invoices, rt.clock())
    rt.close()
    return cli


def test_hold_release_credit_stop_and_uncollectible(debtor_cli: Cli) -> None:
    debtor_cli.ok("hold", "F-i1", "--reason", "dispute", "--until", "2099-01-31")
    debtor_cli.ok("release", "i1")
    for args, says in [
        (("hold", "i1", "--reason", "bogus"), "unknown hold reason 'bogus'"),
        (("hold", "i1", "--reason", "dispute", "--until", "31-01-2099"), "write it like 2026-01-31"),
        (("hold", "i1", "--reason", "dispute", "--until", "2020-01-31"), "lies in the past"),
        (("hold", "nope", "--reason", "dispute"), "invoice 'nope' not found"),
    ]:
        refused = debtor_cli(*args)
        assert refused.exit_code == 2, refused.describe()
        assert says in refused.stderr, refused.describe()
    debtor_cli.ok("credit-stop", "C1")
    debtor_cli.ok("credit-stop", "d1", "--lift")
    refused = debtor_cli("uncollectible", "i2")
    assert refused.exit_code == 2, refused.describe()
    assert "--confirm" in refused.stderr
    debtor_cli.ok("uncollectible", "i2", "--confirm")
    assert _outbox(debtor_cli) == [
        ("note", ["i1"]),
        ("note", ["i1"]),
        ("credit_stop", ["i1", "i2"]),
        ("credit_release", ["i1", "i2"]),
        ("mark_uncollectible", ["i2"]),
    ]


def test_arrangement_call_promise_classify_and_hand_over(debtor_cli: Cli, tmp_path: Path) -> None:
    plan = debtor_cli.json(
        "arrangement",
        "create",
        "--debtor",
        "d1",
        "--invoices",
        "i1,i2",
        "--installments",
        "3",
        "--first",
        "2099-02-01",
        "--every-days",
        "30",
        "--json",
    )
    assert [i["amount"] for i in plan["installments"]] == ["200.00", "200.00", "200.00"]
    assert [i["due_date"] for i in plan["installments"]] == ["2099-02-01", "2099-03-03", "2099-04-02"]
    debtor_cli.ok("arrangement", "pay", str(plan["id"]), "--installment", "1")
    [listed] = debtor_cli.json("arrangement", "list", "--json")
    assert [i["paid"] for i in listed["installments"]] == [True, False, False]
    assert debtor_cli("arrangement", "pay", str(plan["id"]), "--installment", "9").exit_code == 2
    debtor_cli.ok(
        "call", "d1", "--outcome", "promise_to_pay", "--reason", "financial_trouble", "--promise", "2099-01-15"
    )
    assert debtor_cli("call", "d1", "--outcome", "promise_to_pay").exit_code == 2
    debtor_cli.ok("promise", "i2", "--date", "2099-02-01")
    checks = debtor_cli.json("arrangement", "check", "--date", "2099-01-10", "--json")
    assert checks["arrangements_broken"] == 0
    [risk] = debtor_cli.json("classify", "--json")
    assert (risk["debtor_ref"], risk["risk_class"]) == ("d1", "unknown")
    out = tmp_path / "handover"
    result = debtor_cli.json("hand-over", "d1", "--out", str(out), "--agency", "Incasso BV", "--json")
    assert sorted(result["invoices"]) == ["i1", "i2"]
    assert Path(result["pdf"]).read_bytes().startswith(b"%PDF")
    assert "F-i1" in Path(result["csv"]).read_text(encoding="utf-8")


def test_debtor_classification_by_hand(debtor_cli: Cli) -> None:
    debtor_cli.ok("debtor", "d1", "--segment", "b2c", "--insolvent")
    assert debtor_cli("debtor", "d1", "--segment", "b2x").exit_code == 2
    refused = debtor_cli("debtor", "d1", "--status", "uncollectible")
    assert refused.exit_code == 2, refused.describe()
    assert "--confirm" in refused.stderr
    debtor_cli.ok("debtor", "d1", "--status", "doubtful")
    [risk] = debtor_cli.json("classify", "--json")
    assert (risk["segment"], risk["insolvent"], risk["collection_status"], risk["risk_class"]) == (
        "b2c",
        True,
        "doubtful",
        "high",
    )
    debtor_cli.ok("debtor", "d1", "--status", "uncollectible", "--confirm", "--segment", "auto", "--solvent")
    [risk] = debtor_cli.json("classify", "--json")
    assert (risk["segment"], risk["insolvent"], risk["collection_status"]) == ("b2b", False, "uncollectible")
    assert _outbox(debtor_cli) == [("mark_uncollectible", ["i1", "i2"])]


DICT_REPR = re.compile(r"\{'\w+': ")


def test_every_command_prints_for_people_without_json(debtor_cli: Cli, tmp_path: Path) -> None:
    """The same commands without --json: tables and summaries, no Python dict anywhere, nothing but status lines
    on stderr."""
    plan = debtor_cli.json(
        "arrangement",
        "create",
        "--debtor",
        "C1",
        "--invoices",
        "F-i1",
        "--installments",
        "2",
        "--first",
        "2099-02-01",
        "--json",
    )
    for args, shows in [
        (("invoices",), ["F-i1", "Jansen", "€400.00"]),
        (("invoices", "--debtor", "Jansen", "--overdue"), ["F-i2", "2 invoice(s), 2 open; open: €600.00"]),
        (("debtors",), ["Jansen", "C1", "€600.00"]),
        (("arrangement", "list"), [f"{plan['id']}", "0 of 2 paid", "€200.00 on 2099-02-01"]),
        (("arrangement", "check", "--date", "2099-01-10"), ["holds lapsed"]),
        (("classify",), ["Jansen", "unknown"]),
        (("reasons",), ["none recorded yet"]),
        (("administrations",), ["A", "moneybird"]),
        (("hand-over", "C1", "--out", str(tmp_path / "dossier")), ["total claim", "dossier (PDF)"]),
    ]:
        outcome = debtor_cli.ok(*args)
        for text in shows:
            assert text in outcome.stdout, f"{text!r} not in `dunning {' '.join(args)}`:\n{outcome.stdout}"
        assert not DICT_REPR.search(outcome.output), outcome.describe()


def _queue_a_letter(cli: Cli, today: date) -> int:
    """A 14-day letter of debtor Jansen waiting for the post since today, with a PDF in the post queue."""
    rt = Runtime(_settings(cli))
    try:
        with transaction(rt.sessions) as s:
            org = repos.find_organisation(s, "default")
            assert org is not None
            adm = repos.list_administrations(s, org)[0]
            folder = cli.var_dir / "letters" / str(org)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "letter.pdf").write_bytes(b"%PDF-1.4 test")
            return repos.record_letter_evidence(
                s,
                org,
                adm.id,
                debtor_ref="d1",
                invoice_refs=["i1"],
                kind="fourteen_day_letter",
                sent_on=None,
                channel="post",
                stated_costs_minor=6000,
                currency="EUR",
                sha256="a" * 64,
                document_ref=str(folder / "letter.pdf"),
                queued_on=today,
                dates_assume_sent_on=today,
                printed_term_ends=today + timedelta(days=20),
                text_counts_from_receipt=True,
            )
    finally:
        rt.close()


def test_letters_to_post_and_marking_them_posted(debtor_cli: Cli, today: date) -> None:
    letter = _queue_a_letter(debtor_cli, today)
    [waiting] = debtor_cli.json("letters", "--json")
    assert (waiting["id"], waiting["status"], waiting["debtor"]) == (letter, "to_post", "Jansen")
    assert waiting["dates"]["sent"] == today.isoformat() and waiting["sent_on"] is None
    shown = debtor_cli.ok("letters")
    assert "letters to post" in shown.stdout and "Jansen" in shown.stdout, shown.stdout
    for args, says in [
        (("letters", "posted", str(letter), "--on", (today + timedelta(days=1)).isoformat()), "still to come"),
        (("letters", "posted", "999", "--on", today.isoformat()), "no letter 999 here"),
        (("letters", "posted", str(letter)), "Missing option '--on'"),
    ]:
        refused = debtor_cli(*args)
        assert refused.exit_code == 2 and says in refused.stderr, refused.describe()
    posted = debtor_cli.ok("letters", "posted", str(letter), "--on", today.isoformat())
    assert f"letter {letter} posted on {today.isoformat()}" in posted.stderr, posted.describe()
    [after] = debtor_cli.json("letters", "--json")
    assert (after["status"], after["sent_on"]) == ("posted", today.isoformat())


def test_debtor_default_export_and_erase(debtor_cli: Cli, tmp_path: Path) -> None:
    debtor_cli.ok("debtor", "C1", "--default-starts", "fatal-term")
    assert debtor_cli("debtor", "C1", "--default-starts", "never").exit_code == 2
    exported = debtor_cli.ok("debtor", "C1", "--export", str(tmp_path / "export"))
    assert "records in" in exported.stderr, exported.describe()
    data = json.loads((tmp_path / "export" / "debtor-d1.json").read_text(encoding="utf-8"))
    assert data["records"]["debtors"][0]["default_needs_notice"] is False
    refused = debtor_cli("debtor", "C1", "--erase", "--confirm")
    assert refused.exit_code == 2 and "still has 2 open invoice(s)" in refused.stderr, refused.describe()
    alone = debtor_cli("debtor", "C1", "--erase", "--segment", "b2c")
    assert alone.exit_code == 2 and "--erase goes alone" in alone.stderr, alone.describe()
