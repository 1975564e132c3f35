"""Figures: ``report aging|dso|forecast``, ``costs``, ``letter-dates``, ``classify`` and ``reasons``.

Read-only commands over ``connector.reports``, ``connector.rules`` (the law) and ``connector.debtors``: a summary and
tables for people (the largest first, paged), ``--json`` for machines and ``--csv`` for a spreadsheet.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

import typer

from connector.cli import output
from connector.cli.output import Column
from connector.cli.shared import (
    Org,
    app,
    fail,
    organisation,
    parse_amount,
    parse_choice,
    parse_date,
    required_date,
    runtime,
    settings,
    today,
)

BUCKET_HEADERS = {
    "not_due": "not due",
    "days_1_30": "1-30 days",
    "days_31_60": "31-60 days",
    "days_61_90": "61-90 days",
    "over_90": "over 90 days",
}


@app.command(rich_help_panel="Looking things up")
def report(
    kind: Annotated[str, typer.Argument(help="aging | dso | forecast")],
    org: Org = None,
    as_json: output.Json = False,
    as_csv: output.Csv = False,
    limit: output.Limit = None,
    show_all: output.All = False,
) -> None:
    """Aging buckets, DSO, or a weekly cash-flow forecast from stored data."""
    from connector.reports import build as reporting

    if kind not in reporting.KINDS:
        fail(f"unknown report {kind!r}", f"choose one of {', '.join(reporting.KINDS)}")
    rt = runtime(reads_only=True)
    org_id = organisation(rt, org)
    result = reporting.build(rt, org_id, kind, today(rt, org_id))
    rt.close()
    if as_csv:
        import sys

        sys.stdout.write(reporting.as_csv(kind, result))
        return
    show = {"aging": _show_aging, "dso": _show_dso, "forecast": _show_forecast}[kind]
    output.emit(result, as_json, lambda: show(result, limit, show_all))


def _amounts(row: dict[str, Any], keys: list[str]) -> dict[str, str]:
    return {key: output.money(row.get(key), row.get("currency")) for key in keys}


def _show_aging(result: dict[str, Any], limit: int | None, show_all: bool) -> None:
    buckets = list(result["buckets"])
    money_keys = [*buckets, "total"]
    columns = [Column(b, BUCKET_HEADERS.get(b, b), right=True) for b in buckets]
    columns.append(Column("total", "total", right=True))
    rows = result["rows"]
    summary = [
        {**r, **_amounts(r, money_keys), "name": r["administration"] or "all administrations"}
        for r in rows
        if r["scope"] in ("administration", "total")
    ]
    console = output.console()
    console.print(f"aging on {result['today']}: {result['rule']}")
    output.print_table(
        [Column("name", "administration"), Column("invoices", "invoices", right=True), *columns],
        summary,
        title="open receivables by age",
        show_all=True,
    )
    debtors = sorted(
        (r for r in rows if r["scope"] == "debtor"), key=lambda r: (r["currency"], -Decimal(r["total"] or 0))
    )
    output.print_table(
        [Column("debtor_name", "debtor"), Column("administration", "administration"), *columns],
        [{**r, **_amounts(r, money_keys)} for r in debtors],
        title="by debtor, the largest first",
        limit=limit,
        show_all=show_all,
    )


def _show_dso(result: dict[str, Any], limit: int | None, show_all: bool) -> None:
    for figures in result.get("currencies") or [result]:
        currency = figures.get("currency")
        output.print_fields(
            [
                ("DSO", f"{figures['dso']} days" if figures["dso"] is not None else "no credit sales in the period"),
                ("currency", currency or ""),
                ("period", figures["period"]),
                ("open receivables", output.money(figures["open_receivables"], currency)),
                ("credit sales in the period", output.money(figures["credit_sales"], currency)),
                ("formula", figures["formula"]),
            ],
            title=f"days sales outstanding in {currency}",
        )
    rows = [
        {
            **row,
            "dso": "-" if row["dso"] is None else f"{row['dso']} days",
            "open_receivables": output.money(row["open_receivables"], row["currency"]),
        }
        for row in result.get("rows", [])
    ]
    if rows:
        output.print_table(
            [
                Column("administration", "administration"),
                Column("currency", "currency"),
                Column("dso", "DSO", right=True),
                Column("open_receivables", "open", right=True),
            ],
            rows,
            title="per administration, each in its own currency",
            limit=limit,
            show_all=show_all,
        )


def _show_forecast(result: dict[str, Any], limit: int | None, show_all: bool) -> None:
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for row in result["rows"]:
        key = (row["currency"], row["week"])
        entry = totals.setdefault(
            key, {"week": row["week"], "week_start": row["week_start"], "currency": row["currency"]}
        )
        entry["invoices"] = entry.get("invoices", 0) + int(row["invoices"])
        entry["expected"] = entry.get("expected", Decimal(0)) + Decimal(row["expected"])
    weeks = [{**e, "amount": output.money(e["expected"], e["currency"])} for e in totals.values()]
    console = output.console()
    console.print(f"forecast from {result['today']}: {result['method']}")
    output.print_table(
        [
            Column("week", "week", right=True),
            Column("week_start", "from"),
            Column("invoices", "invoices", right=True),
            Column("amount", "expected", right=True),
        ],
        weeks,
        title="expected receipts, all administrations",
        show_all=True,
        footer="per administration: --csv or --json",
    )
    slowest = sorted(result["debtor_delay_days"], key=lambda r: -int(r["days"]))
    output.print_table(
        [
            Column("debtor", "debtor"),
            Column("administration", "administration"),
            Column("days", "days late", right=True),
        ],
        slowest,
        title="how late debtors paid on average, the latest first",
        limit=limit or 10,
        show_all=show_all,
    )


@app.command(rich_help_panel="Looking things up")
def costs(
    principal: Annotated[
        list[str],
        typer.Option(help="Principal of one late invoice, e.g. 1250.00 or 1250,00; repeat it for each invoice."),
    ],
    consumer: Annotated[bool, typer.Option("--consumer", help="Consumer (B2C) rules and interest.")] = False,
    from_date: Annotated[str | None, typer.Option("--from", help="Interest start date YYYY-MM-DD.")] = None,
    to_date: Annotated[str | None, typer.Option("--to", help="Interest end date YYYY-MM-DD.")] = None,
    creditor_cannot_deduct_vat: Annotated[
        bool, typer.Option("--creditor-cannot-deduct-vat", help="The creditor cannot deduct VAT (e.g. the KOR).")
    ] = False,
    collector_charges_vat: Annotated[
        bool,
        typer.Option("--collector-charges-vat", help="A collection agency that charges VAT collects the claim."),
    ] = False,
    as_json: output.Json = False,
) -> None:
    """Statutory collection costs, VAT on costs and statutory interest for a claim of one or more invoices.

    A business owes at least EUR 40 per late invoice; VAT is added only when both VAT options are given.
    """
    from connector.rules.interest import InterestPeriodError, load_rate_table
    from connector.rules.law import costs_summary, vat_applies

    amounts = [parse_amount(value, "--principal") for value in principal]
    start, end = parse_date(from_date, "--from"), parse_date(to_date, "--to")
    if (start is None) != (end is None):
        fail("interest needs both --from and --to", "give both dates, or neither for no interest")
    if start is not None and end is not None and end < start:
        fail(f"--to {end} lies before --from {start}", "swap the dates")
    rates = load_rate_table(settings().interest_rates_file)
    vat = vat_applies(
        creditor_can_deduct_vat=not creditor_cannot_deduct_vat, collector_charges_vat=collector_charges_vat
    )
    try:
        summary = costs_summary(amounts, consumer, start, end, rates=rates, charge_vat=vat)
    except InterestPeriodError:
        first = rates.first_date
        fail(f"--from {start} lies before the statutory interest table starts ({first})", f"use {first} or later")
    output.emit(summary, as_json, lambda: _show_costs(summary, consumer, start, end))


def _show_costs(summary: dict[str, Any], consumer: bool, start: Any, end: Any) -> None:
    currency = summary["currency"]
    total = sum(Decimal(summary[k]) for k in ("principal", "collection_costs", "vat_on_costs", "interest"))
    period = f" ({start} to {end}, {'consumer' if consumer else 'commercial'} rate)" if start else ""
    rows: list[tuple[str, Any]] = [
        ("invoices", summary["invoices"]),
        ("principal", output.money(summary["principal"], currency)),
        ("collection costs", output.money(summary["collection_costs"], currency)),
        ("VAT on the costs", output.money(summary["vat_on_costs"], currency)),
        (f"statutory interest{period}", output.money(summary["interest"], currency)),
    ]
    for used in summary["rates"]:  # "to" is exclusive: the last day is the day before
        last = date.fromisoformat(used["to"]) - timedelta(days=1)
        rows.append((f"  at {used['percent']} %", f"{used['from']} to {last.isoformat()}, {used['days']} days"))
    rows.append(("total", output.money(total, currency)))
    output.print_fields(rows, title="statutory costs and interest", amounts=True)


@app.command("letter-dates", rich_help_panel="Looking things up")
def letter_dates_cmd(
    sent: Annotated[str, typer.Option("--sent", help="Day the letter was posted or e-mailed, YYYY-MM-DD.")],
    channel: Annotated[str, typer.Option("--channel", help="post | email")],
    received: Annotated[
        str | None, typer.Option("--received", help="Day it was received, if known (track and trace).")
    ] = None,
    as_json: output.Json = False,
) -> None:
    """The dates of a 14-day letter, as the engine computes them: received, last day of the term, costs from."""
    from connector.rules.letter import letter_dates
    from connector.rules.snapshot import LetterChannel

    sent_on = required_date(sent, "--sent")
    received_on = parse_date(received, "--received")
    kind = LetterChannel(parse_choice(channel, "--channel", ("post", "email")))
    if received_on is not None and received_on < sent_on:
        fail(f"--received {received_on} lies before --sent {sent_on}", "a letter is received on or after sending")
    dates = letter_dates(sent_on, kind, received_on).as_json()
    output.emit(
        dates,
        as_json,
        lambda: output.print_fields(
            [
                ("sent", dates["sent"]),
                ("received" + (" (presumed)" if received_on is None else ""), dates["received"]),
                ("last day to pay without costs", dates["term_ends"]),
                ("costs may be charged from", dates["costs_from"]),
            ],
            title=f"14-day letter by {kind.value}",
        ),
    )


@app.command(rich_help_panel="Looking things up")
def classify(
    org: Org = None, as_json: output.Json = False, limit: output.Limit = None, show_all: output.All = False
) -> None:
    """Risk class per debtor from payment behaviour and broken promises or arrangements; the riskiest first."""
    from dataclasses import asdict

    from connector import debtors, queries

    rt = runtime(reads_only=True)
    org_id = organisation(rt, org)
    rows = [asdict(r) for r in debtors.classify_debtors(rt, org_id)]
    names = {a.id: a.name for a in queries.administrations(rt, org_id)}
    rt.close()
    order = {"high": 0, "medium": 1, "low": 2}
    shown = sorted(
        (
            {
                **r,
                "administration": names.get(r["administration_id"], ""),
                "broken": f"{r['broken_promises']} / {r['broken_arrangements']}",
            }
            for r in rows
        ),
        key=lambda r: (order.get(r["risk_class"], 3), -(r["average_days_late"] or 0)),
    )
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["risk_class"]] += 1
    footer = ", ".join(f"{n} {risk} risk" for risk, n in sorted(counts.items(), key=lambda kv: order.get(kv[0], 3)))
    output.emit(
        rows[:limit] if limit else rows,
        as_json,
        lambda: output.print_table(
            [
                Column("name", "debtor"),
                Column("administration", "administration"),
                Column("risk_class", "risk"),
                Column("average_days_late", "days late (avg)", right=True),
                Column("paid_invoices", "paid invoices", right=True),
                Column("broken", "broken promises / arrangements", right=True),
                Column("collection_status", "status"),
                Column("debtor_ref", "reference"),
            ],
            shown,
            title="risk classes",
            empty="no debtors",
            limit=limit,
            show_all=show_all,
            footer=footer,
        ),
    )


@app.command(rich_help_panel="Looking things up")
def reasons(org: Org = None, as_json: output.Json = False) -> None:
    """Late-payment reasons recorded with calls, per administration and month."""
    from connector import debtors, queries

    rt = runtime(reads_only=True)
    org_id = organisation(rt, org)
    rows = debtors.late_reasons(rt, org_id)
    names = {a.id: a.name for a in queries.administrations(rt, org_id)}
    rt.close()
    shown = [{**r, "administration": names.get(int(r["administration_id"]), "")} for r in rows]
    output.emit(
        rows,
        as_json,
        lambda: output.print_table(
            [
                Column("month", "month"),
                Column("administration", "administration"),
                Column("reason", "reason"),
                Column("count", "times", right=True),
            ],
            shown,
            title="late-payment reasons",
            empty="none recorded yet (`dunning call DEBTOR --outcome ... --reason ...` records them)",
            show_all=True,
        ),
    )
