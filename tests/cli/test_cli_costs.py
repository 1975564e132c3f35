"""``dunning costs`` and ``dunning letter-dates``: the law's amounts and dates as exact JSON; bad input exits 2."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.clirunner import Cli


def _interest(principal: str, percent: str, days: int) -> str:
    """Simple interest, actual/365, rounded once to the cent (statutory_interest.yaml day_count)."""
    amount = Decimal(principal) * Decimal(percent) / 100 * days / 365
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# (arguments, expected JSON). WIK: 15 % of the first 2,500, 10 % of the next 2,500, ..., min 40, max 6,775;
# VAT on costs 0.00 because the creditor reclaims VAT. Rates: 2026-01-01 row, consumer 4.00 %, commercial 10.15 %;
# 2026-01-01 .. 2026-07-01 is 181 days; 2025-07-01 .. 2026-01-01 is 184 days at 6.00 % (consumer).
CASES = [
    (["--principal", "1000"], {"principal": "1000.00", "collection_costs": "150.00", "interest": "0.00"}),
    (["--principal", "100.00"], {"principal": "100.00", "collection_costs": "40.00", "interest": "0.00"}),
    (["--principal", "3000"], {"principal": "3000.00", "collection_costs": "425.00", "interest": "0.00"}),
    (["--principal", "2000000"], {"principal": "2000000.00", "collection_costs": "6775.00", "interest": "0.00"}),
    (
        ["--principal", "1000", "--consumer", "--from", "2026-01-01", "--to", "2026-07-01"],
        {"principal": "1000.00", "collection_costs": "150.00", "interest": _interest("1000", "4.00", 181)},
    ),
    (
        ["--principal", "1000", "--from", "2026-01-01", "--to", "2026-07-01"],
        {"principal": "1000.00", "collection_costs": "150.00", "interest": _interest("1000", "10.15", 181)},
    ),
    (
        ["--principal", "1000", "--consumer", "--from", "2025-07-01", "--to", "2026-07-01"],
        {
            "principal": "1000.00",
            "collection_costs": "150.00",
            "interest": str(
                (Decimal(1000) * 6 / 100 * 184 / 365 + Decimal(1000) * 4 / 100 * 181 / 365).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
            ),
        },
    ),
    (["--principal", "1250,50"], {"principal": "1250.50", "collection_costs": "187.58", "interest": "0.00"}),
    (["--principal", "1250,5"], {"principal": "1250.50", "collection_costs": "187.58", "interest": "0.00"}),
]


@pytest.mark.parametrize(("args", "expected"), CASES)
def test_costs_json(cli: Cli, args: list[str], expected: dict[str, str]) -> None:
    result = cli.ok("costs", *args, "--json")
    data = json.loads(result.stdout)
    rates_used = data.pop("rates")
    assert data == {"currency": "EUR", "vat_on_costs": "0.00", "invoices": 1, **expected}
    assert result.stdout == json.dumps({**data, "rates": rates_used}, sort_keys=True) + "\n", "one sorted JSON line"
    assert bool(rates_used) == ("--from" in args), "the rates used are listed exactly when interest is computed"


def test_costs_exact_output_for_1000(cli: Cli) -> None:
    result = cli.ok("costs", "--principal", "1000", "--json")
    assert result.stdout == (
        '{"collection_costs": "150.00", "currency": "EUR", "interest": "0.00", "invoices": 1, '
        '"principal": "1000.00", "rates": [], "vat_on_costs": "0.00"}\n'
    )


@pytest.mark.parametrize(
    ("args", "costs", "vat", "invoices"),
    [
        (["--principal", "100"] * 5, "200.00", "0.00", 5),  # five late business invoices: 5 x EUR 40
        (["--principal", "100"] * 5 + ["--consumer"], "75.00", "0.00", 5),  # a consumer: the scale on EUR 500
        (["--principal", "2000", "--principal", "2000"], "525.00", "0.00", 2),
        (["--principal", "100", "--collector-charges-vat", "--creditor-cannot-deduct-vat"], "40.00", "8.40", 1),
        (["--principal", "100", "--collector-charges-vat"], "40.00", "0.00", 1),  # the creditor deducts it
        (["--principal", "100", "--creditor-cannot-deduct-vat"], "40.00", "0.00", 1),  # collects itself
    ],
)
def test_costs_of_a_claim(cli: Cli, args: list[str], costs: str, vat: str, invoices: int) -> None:
    data = cli.json("costs", *args, "--json")
    assert (data["collection_costs"], data["vat_on_costs"], data["invoices"]) == (costs, vat, invoices)


def test_costs_report_the_rates_across_the_1_july_2025_change(cli: Cli) -> None:
    data = cli.json("costs", "--principal", "1000", "--from", "2025-06-01", "--to", "2025-08-01", "--json")
    assert data["interest"] == "17.78"  # 30 days at 11.15 % + 31 days at 10.15 %
    assert data["rates"] == [
        {
            "from": "2025-06-01",
            "to": "2025-07-01",
            "days": 30,
            "percent": "11.15",
            "kind": "commercial",
            "rate_from": "2025-01-01",
        },
        {
            "from": "2025-07-01",
            "to": "2025-08-01",
            "days": 31,
            "percent": "10.15",
            "kind": "commercial",
            "rate_from": "2025-07-01",
        },
    ]
    shown = cli.ok("costs", "--principal", "1000", "--consumer", "--from", "2025-06-01", "--to", "2025-08-01")
    assert "at 6.00 %" in shown.stdout and "2025-07-01 to 2025-07-31, 31 days" in shown.stdout, shown.stdout


def test_consumer_interest_is_present_and_positive(cli: Cli) -> None:
    data = cli.json(
        "costs", "--principal", "1000", "--consumer", "--from", "2026-01-01", "--to", "2026-07-01", "--json"
    )
    assert data["interest"] == "19.84"  # 1000 x 4.00 % x 181/365 = 19.8356...


@pytest.mark.parametrize("principal", ["abc", "", "1.000,00", "1,000.00", "NaN", "Infinity", "-100", "12.345", "1e3"])
def test_bad_principal_exits_2_and_says_how_to_write_it(cli: Cli, principal: str) -> None:
    result = cli("costs", "--principal", principal, "--json")
    assert result.exit_code == 2, result.describe()
    assert result.stdout == ""
    assert "write it like 1250.00 or 1250,00" in result.stderr


@pytest.mark.parametrize(("option", "value"), [("--from", "2026-13-01"), ("--to", "01-07-2026")])
def test_bad_date_exits_2_and_says_how_to_write_it(cli: Cli, option: str, value: str) -> None:
    other = "--to" if option == "--from" else "--from"
    result = cli("costs", "--principal", "1000", option, value, other, "2026-01-01", "--json")
    assert result.exit_code == 2, result.describe()
    assert "write it like 2026-01-31" in result.stderr


@pytest.mark.parametrize(
    ("period", "says"),
    [
        (["--from", "2026-07-01", "--to", "2026-01-01"], "--to 2026-01-01 lies before --from 2026-07-01"),
        (["--from", "1990-01-01", "--to", "2026-01-01"], "lies before the statutory interest table starts"),
        (["--from", "2026-01-01"], "interest needs both --from and --to"),
    ],
)
def test_a_period_that_cannot_be_computed_is_refused(cli: Cli, period: list[str], says: str) -> None:
    result = cli("costs", "--principal", "1000", *period, "--json")
    assert result.exit_code == 2, result.describe()
    assert says in result.stderr
    assert result.stdout == ""


def test_costs_for_people(cli: Cli) -> None:
    shown = cli.ok("costs", "--principal", "1000", "--consumer", "--from", "2026-01-01", "--to", "2026-07-01")
    lines = {line.split("  ")[0]: line.split()[-1] for line in shown.stdout.splitlines()[1:]}
    assert lines["collection costs"] == "€150.00", shown.stdout
    assert lines["total"] == "€1,169.84", shown.stdout  # 1000 + 150 + 0 VAT + 19.84 interest


def test_read_commands_do_not_create_an_organisation(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    result = cli("outbox", "--json", "--org", "nobody")
    assert result.exit_code == 2, result.describe()
    assert "no organisation 'nobody' here" in result.stderr
    from connector.runtime import Runtime
    from connector.settings import Settings
    from connector.storage import repos

    rt = Runtime(Settings(var_dir=cli.var_dir, secret_keys=[cli.key]))
    with rt.sessions() as s:
        assert repos.list_organisations(s) == []
    rt.close()


# --- letter-dates ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--sent", "2026-03-03", "--channel", "post"], ("2026-03-05", "2026-03-19", "2026-03-20")),
        (["--sent", "2026-03-06", "--channel", "post"], ("2026-03-10", "2026-03-24", "2026-03-25")),
        (["--sent", "2026-03-06", "--channel", "email"], ("2026-03-07", "2026-03-23", "2026-03-24")),  # weekend
        (["--sent", "2026-03-22", "--channel", "email"], ("2026-03-23", "2026-04-07", "2026-04-08")),  # Easter Mon
        (["--sent", "2026-04-12", "--channel", "email"], ("2026-04-13", "2026-04-28", "2026-04-29")),  # King's Day
        (
            ["--sent", "2026-03-03", "--channel", "post", "--received", "2026-03-09"],
            ("2026-03-09", "2026-03-23", "2026-03-24"),
        ),
    ],
)
def test_letter_dates_json(cli: Cli, args: list[str], expected: tuple[str, str, str]) -> None:
    result = cli.ok("letter-dates", *args, "--json")
    data = result.json()
    assert set(data) == {"sent", "received", "term_ends", "costs_from"}
    assert (data["received"], data["term_ends"], data["costs_from"]) == expected
    assert data["sent"] == args[1]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--sent", "2026-03-03", "--channel", "fax"], "--channel 'fax' is not one of post, email"),
        (["--sent", "3-3-2026", "--channel", "post"], "write it like 2026-01-31"),
        (["--sent", "2026-03-03", "--channel", "post", "--received", "2026-03-02"], "lies before --sent"),
        (["--channel", "post"], "Missing option '--sent'"),
    ],
)
def test_letter_dates_refuses_bad_input(cli: Cli, args: list[str], says: str) -> None:
    result = cli("letter-dates", *args, "--json")
    assert result.exit_code == 2, result.describe()
    assert says in result.stderr and result.stdout == "", result.describe()


def test_letter_dates_for_people(cli: Cli) -> None:
    shown = cli.ok("letter-dates", "--sent", "2026-03-06", "--channel", "post")
    assert "received (presumed)" in shown.stdout and "2026-03-24" in shown.stdout and "{" not in shown.stdout
