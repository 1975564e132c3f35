"""Every way a command can fail, as a person meets it: the exit status (2: change something, 1: the run failed),
one or two lines on stderr saying what is wrong and what to do, nothing on stdout, and never a traceback.

Each case sets up the folder it needs (nothing, an empty database, a small organisation, two organisations) and
the settings it changes, then runs one command.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from connector import defaults, model, services
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction
from tests.clirunner import Cli


def _nothing(cli: Cli) -> None:
    """A folder where nothing was ever set up."""


def _migrated(cli: Cli) -> None:
    cli.ok("db", "upgrade")


def _world(cli: Cli, names: tuple[str, ...] = ("default",)) -> None:
    """Organisations with one Moneybird administration each: debtor Jansen (C1), open invoice F-1 (due 2026-01-01)."""
    cli.ok("db", "upgrade")
    rt = Runtime(Settings(var_dir=cli.var_dir, secret_keys=[cli.key]), budget_url="memory://")
    for name in names:
        org = services.ensure_organisation(rt, name)
        with transaction(rt.sessions) as s:
            conn = repos.create_connection(s, org, "moneybird")
            tenant = model.Tenant(provider_tenant_id=f"t-{name}", name=f"Administration of {name}")
            adm = repos.upsert_administration(s, org, conn.id, "moneybird", tenant)
            debtor = model.Debtor(provider_ref="d1", name="Jansen", customer_number="C1")
            repos.upsert_debtors(s, org, adm.id, [debtor], rt.clock())
            invoice = model.Invoice(
                provider_ref="i1",
                number="F-1",
                debtor_ref="d1",
                invoice_date=date(2025, 12, 1),
                due_date=date(2026, 1, 1),
                currency="EUR",
                total=Decimal("400.00"),
                open_amount=Decimal("400.00"),
                status=model.InvoiceStatus.OPEN,
                provider_state="open",
            )
            repos.upsert_invoices(s, org, adm.id, [invoice], rt.clock())
    rt.close()


def _two_organisations(cli: Cli) -> None:
    _world(cli, ("Bakker Accountants", "Visser & Co"))


def _tables_missing(cli: Cli) -> None:
    cli.var_dir.mkdir(parents=True)
    (cli.var_dir / "dunning.db").touch()


def _policies(cli: Cli, change: Callable[[str], str] | None = None, *, files: bool = True) -> str:
    """A copy of the default policies under the folder, changed; returns its path for DUNNING_POLICIES_DIR."""
    folder = cli.cwd / "policies"
    folder.mkdir()
    if files:
        for path in defaults.policies_dir().glob("*.yaml"):
            text = path.read_text(encoding="utf-8")
            (folder / path.name).write_text(change(text) if change and path.name == "b2b.yaml" else text)
    return str(folder)


def _broken_days(text: str) -> str:
    return text.replace("name: First reminder, days: 3,", "name: First reminder, days: soon,")


def _unknown_template(text: str) -> str:
    return text.replace("action: reminder, template: reminder}", "action: reminder, template: nope}", 1)


Env = Callable[[Cli], dict[str, str | None]]


def _none(cli: Cli) -> dict[str, str | None]:
    return {}


# (case, set-up, settings, command, exit status, what stderr says)
CASES: list[tuple[str, Callable[[Cli], None], Env, list[str], int, str]] = [
    ("no database yet", _nothing, _none, ["administrations"], 2, "no database here yet"),
    ("no tables yet", _tables_missing, _none, ["outbox"], 2, "run `dunning db upgrade`"),
    ("no key", _world, lambda c: {"DUNNING_SECRET_KEYS": None}, ["administrations"], 2, "`dunning keygen`"),
    ("not a key", _world, lambda c: {"DUNNING_SECRET_KEYS": '["nope"]'}, ["outbox"], 2, "not a Fernet key"),
    (
        "unreachable database",
        _nothing,
        lambda c: {"DUNNING_DATABASE_URL": "postgresql://postgres@127.0.0.1:9/test"},
        ["administrations"],
        1,
        "cannot reach the database",
    ),
    (
        "broken policy file",
        _world,
        lambda c: {"DUNNING_POLICIES_DIR": _policies(c, _broken_days)},
        ["run", "--dry-run"],
        2,
        "b2b.yaml, line 25, field 'levels[1].days'",
    ),
    (
        "unknown template in a policy",
        _world,
        lambda c: {"DUNNING_POLICIES_DIR": _policies(c, _unknown_template)},
        ["run"],
        2,
        "unknown template 'nope'",
    ),
    (
        "no policies folder",
        _world,
        lambda c: {"DUNNING_POLICIES_DIR": str(c.cwd / "nowhere")},
        ["run"],
        2,
        "does not exist",
    ),
    (
        "empty policies folder",
        _world,
        lambda c: {"DUNNING_POLICIES_DIR": _policies(c, files=False)},
        ["why", "F-1"],
        2,
        "no policy files",
    ),
    ("unknown provider for the demo", _nothing, _none, ["demo", "--provider", "foo"], 2, "unknown provider 'foo'"),
    ("unknown provider for a sandbox", _nothing, _none, ["sandbox", "foo"], 2, "unknown provider 'foo'"),
    ("unknown provider to connect", _migrated, _none, ["connect", "foo"], 2, "unknown provider 'foo'"),
    ("why for an unknown invoice", _world, _none, ["why", "F-404"], 2, "no invoice 'F-404' here"),
    ("unknown invoice to hold", _world, _none, ["hold", "F-404", "--reason", "dispute"], 2, "'F-404' not found"),
    (
        "hold until a day in the past",
        _world,
        _none,
        ["hold", "F-1", "--reason", "dispute", "--until", "2001-01-01"],
        2,
        "lies in the past",
    ),
    ("unknown hold reason", _world, _none, ["hold", "F-1", "--reason", "bored"], 2, "unknown hold reason"),
    ("bad date", _world, _none, ["run", "--date", "tomorrow"], 2, "write it like 2026-01-31"),
    (
        "interest from before the rate table",
        _nothing,
        _none,
        ["costs", "--principal", "100", "--from", "1990-01-01", "--to", "2000-01-01"],
        2,
        "before the statutory interest table starts",
    ),
    (
        "interest period backwards",
        _nothing,
        _none,
        ["costs", "--principal", "100", "--from", "2026-07-01", "--to", "2026-01-01"],
        2,
        "lies before --from",
    ),
    ("more than two decimals", _nothing, _none, ["costs", "--principal", "1,234"], 2, "more than two decimals"),
    ("not an amount", _world, _none, ["debtor", "C1", "--credit-limit", "lots"], 2, "is not an amount"),
    ("unknown report", _world, _none, ["report", "ageing"], 2, "choose one of aging, dso, forecast"),
    ("missing option", _nothing, _none, ["costs"], 2, "Missing option '--principal'"),
    ("unknown command", _nothing, _none, ["frobnicate"], 2, "No such command 'frobnicate'"),
    ("unknown organisation", _world, _none, ["outbox", "--org", "Nobody"], 2, "the organisations here are 'default'"),
    ("several organisations", _two_organisations, _none, ["invoices"], 2, "'Bakker Accountants', 'Visser & Co'"),
    ("no organisation yet", _migrated, _none, ["debtors"], 2, "no organisation here yet"),
    ("unknown administration", _world, _none, ["safe-mode", "99", "--off"], 2, "no administration 99 here"),
    ("nothing to approve", _world, _none, ["approve", "99"], 2, "`dunning outbox`"),
    ("write-off without confirmation", _world, _none, ["uncollectible", "F-1"], 2, "--confirm"),
]


SQLITE_ONLY = {"no database yet"}  # no var/dunning.db file: PostgreSQL's pass has an empty database instead


@pytest.mark.parametrize(
    ("setup", "env", "args", "code", "says"),
    [pytest.param(*c[1:], id=c[0], marks=[pytest.mark.sqlite_only] if c[0] in SQLITE_ONLY else []) for c in CASES],
)
def test_every_error_is_one_or_two_lines_with_what_to_do(
    cli: Cli, setup: Callable[[Cli], None], env: Env, args: list[str], code: int, says: str
) -> None:
    setup(cli)
    outcome = cli.with_env(**env(cli))(*args)
    assert outcome.exception is None, outcome.describe()
    assert outcome.exit_code == code, outcome.describe()
    lines = outcome.stderr.splitlines()
    assert 1 <= len(lines) <= 2, outcome.describe()
    assert lines[0].startswith("error: "), outcome.describe()
    assert says in outcome.stderr, outcome.describe()
    assert "Traceback" not in outcome.output
    assert outcome.stdout == "", outcome.describe()


def test_a_read_command_after_an_error_created_nothing(cli: Cli) -> None:
    for args in (["administrations"], ["doctor"], ["report", "aging"], ["why", "F-1"], ["invoices"]):
        cli(*args)
    assert not cli.var_dir.exists(), sorted(str(p) for p in cli.var_dir.rglob("*"))


def test_an_unexpected_error_says_how_to_see_more(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector import queries

    def broken(*_args: object, **_kwargs: object) -> list[dict[str, object]]:
        raise RuntimeError("the worklist fell over")

    _world(cli)
    monkeypatch.setattr(queries, "worklist", broken)
    quiet = cli("outbox")
    assert quiet.exit_code == 1, quiet.describe()
    assert quiet.stderr.splitlines() == [
        "error: unexpected error (RuntimeError): the worklist fell over",
        "run the command again with --debug to see where it happened",
    ]
    loud = cli("--debug", "outbox")
    assert isinstance(loud.exception, RuntimeError), loud.describe()


def test_policy_error_keeps_file_line_and_field_and_nothing_more(cli: Cli) -> None:
    _world(cli)
    folder = _policies(cli, _broken_days)
    outcome = cli.with_env(DUNNING_POLICIES_DIR=folder)("run", "--dry-run")
    first, hint = outcome.stderr.splitlines()
    assert first.startswith(f"error: invalid dunning policy: {folder}/b2b.yaml, line 25, field 'levels[1].days': ")
    assert hint == "fix the policy file and run the command again"
