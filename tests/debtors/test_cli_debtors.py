"""The debtor-management commands end to end through typer's CliRunner on a fresh SQLite database."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from connector import model, services
from connector.auth.crypto import TokenCipher
from connector.cli import app
from connector.logging import unconfigure_logging
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction


class Cli:
    def __init__(self, runner: CliRunner, settings: Settings) -> None:
        self.runner, self.settings = runner, settings

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args), catch_exceptions=False)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, f"dunning {' '.join(args)} -> {result.exit_code}\n{result.output}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)

    def outbox(self) -> list[tuple[str, list[str]]]:
        rt = Runtime(self.settings)
        try:
            with rt.sessions() as s:
                org = repos.find_organisation(s, "default")
                assert org is not None
                return [(i.action, list(i.invoice_refs)) for i in repos.outbox_items(s, org)]
        finally:
            rt.close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    for name in list(os.environ):
        if name.startswith("DUNNING_"):
            monkeypatch.delenv(name)
    key = TokenCipher.generate_key()
    monkeypatch.setenv("DUNNING_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DUNNING_SECRET_KEYS", json.dumps([key]))
    settings = Settings()
    runner = Cli(CliRunner(), settings)
    runner.ok("db", "upgrade")
    rt = Runtime(settings)
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
    yield runner
    unconfigure_logging()


def test_hold_release_credit_stop_and_uncollectible(cli: Cli) -> None:
    cli.ok("hold", "F-i1", "--reason", "dispute", "--until", "2099-01-31")
    cli.ok("release", "i1")
    assert cli("hold", "i1", "--reason", "bogus").exit_code == 1
    assert cli("hold", "i1", "--reason", "dispute", "--until", "31-01-2099").exit_code == 2
    assert cli("hold", "nope", "--reason", "dispute").exit_code == 1
    cli.ok("credit-stop", "C1")
    cli.ok("credit-stop", "d1", "--lift")
    refused = cli("uncollectible", "i2")
    assert refused.exit_code == 1 and "--confirm" in refused.output
    cli.ok("uncollectible", "i2", "--confirm")
    assert cli.outbox() == [
        ("note", ["i1"]),
        ("note", ["i1"]),
        ("credit_stop", ["i1", "i2"]),
        ("credit_release", ["i1", "i2"]),
        ("mark_uncollectible", ["i2"]),
    ]


def test_arrangement_call_promise_classify_and_hand_over(cli: Cli, tmp_path: Path) -> None:
    plan = cli.json(
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
    )
    assert [i["amount"] for i in plan["installments"]] == ["200.00", "200.00", "200.00"]
    assert [i["due_date"] for i in plan["installments"]] == ["2099-02-01", "2099-03-03", "2099-04-02"]
    cli.ok("arrangement", "pay", str(plan["id"]), "--installment", "1")
    [listed] = cli.json("arrangement", "list")
    assert [i["paid"] for i in listed["installments"]] == [True, False, False]
    assert cli("arrangement", "pay", str(plan["id"]), "--installment", "9").exit_code == 1
    cli.ok("call", "d1", "--outcome", "promise_to_pay", "--reason", "financial_trouble", "--promise", "2099-01-15")
    assert cli("call", "d1", "--outcome", "promise_to_pay").exit_code == 1
    cli.ok("promise", "i2", "--date", "2099-02-01")
    checks = cli.json("arrangement", "check", "--date", "2099-01-10")
    assert checks["arrangements_broken"] == 0
    [risk] = cli.json("classify")
    assert (risk["debtor_ref"], risk["risk_class"]) == ("d1", "unknown")
    out = tmp_path / "handover"
    result = cli.json("hand-over", "d1", "--out", str(out), "--agency", "Incasso BV")
    assert sorted(result["invoices"]) == ["i1", "i2"]
    assert Path(result["pdf"]).read_bytes().startswith(b"%PDF")
    assert "F-i1" in Path(result["csv"]).read_text(encoding="utf-8")


def test_debtor_classification_by_hand(cli: Cli) -> None:
    cli.ok("debtor", "d1", "--segment", "b2c", "--insolvent")
    assert cli("debtor", "d1", "--segment", "b2x").exit_code == 2
    refused = cli("debtor", "d1", "--status", "uncollectible")
    assert refused.exit_code == 1 and "--confirm" in refused.output
    cli.ok("debtor", "d1", "--status", "doubtful")
    [risk] = cli.json("classify")
    assert (risk["segment"], risk["insolvent"], risk["collection_status"], risk["risk_class"]) == (
        "b2c",
        True,
        "doubtful",
        "high",
    )
    cli.ok("debtor", "d1", "--status", "uncollectible", "--confirm", "--segment", "auto", "--solvent")
    [risk] = cli.json("classify")
    assert (risk["segment"], risk["insolvent"], risk["collection_status"]) == ("b2b", False, "uncollectible")
    assert cli.outbox() == [("mark_uncollectible", ["i1", "i2"])]
