"""What is there: ``administrations``, ``invoices``, ``debtors``, ``outbox``, ``why``, ``dead-letters``.

Read-only commands over ``connector.queries``: they open the database to read (no rate budget, nothing created)
and print tables for people, paged with totals, invoices named by their number and debtors by their name with
the internal id in a column; ``--json`` gives every row to a machine.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

import typer

from connector.cli import output
from connector.cli.output import Column
from connector.cli.shared import Org, app, organisation, runtime, today

Administration = Annotated[int | None, typer.Option("--administration", help="Only this administration (id).")]


def _totals(rows: Sequence[dict[str, Any]], amount: str, label: str) -> str:
    """``label: €1,234.00 + NZ$56.00`` over every row (not only the ones shown); currencies are never added up."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[row["currency"]] += Decimal(str(row[amount] or 0))
    return f"{label}: " + " + ".join(output.money(v, c) for c, v in sorted(sums.items())) if sums else ""


def _json_rows(rows: list[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    return rows[:limit] if limit else rows


@app.command(rich_help_panel="Looking things up")
def administrations(org: Org = None, as_json: output.Json = False) -> None:
    """The connected administrations: id, safe mode, whether the package chases by itself, what is open."""
    from connector import queries

    rt = runtime(reads_only=True)
    rows = queries.as_dicts(queries.administrations(rt, organisation(rt, org)))
    rt.close()
    shown = [
        {
            **r,
            "open": output.money(r["open_total"], r["currency"]),
            "safe_mode": "on (nothing sent)" if r["safe_mode"] else "off (sending)",
        }
        for r in rows
    ]
    output.emit(
        rows,
        as_json,
        lambda: output.print_table(
            [
                Column("id", "id", right=True),
                Column("provider", "provider"),
                Column("name", "administration"),
                Column("safe_mode", "safe mode"),
                Column("provider_reminders_active", "package chases"),
                Column("invoices", "invoices", right=True),
                Column("open_invoices", "open", right=True),
                Column("open", "outstanding", right=True),
                Column("connection_status", "connection"),
            ],
            shown,
            title="administrations",
            empty="none connected yet: `dunning connect PROVIDER` (or try `dunning demo`)",
            show_all=True,
            footer=_totals(rows, "open_total", "outstanding"),
        ),
    )


@app.command(rich_help_panel="Looking things up")
def invoices(
    administration: Administration = None,
    debtor: Annotated[str | None, typer.Option("--debtor", help="Debtor reference, customer number or name.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open invoices past their due date.")] = False,
    org: Org = None,
    as_json: output.Json = False,
    limit: output.Limit = None,
    show_all: output.All = False,
) -> None:
    """Invoices by number with their debtor, due date, days overdue and open amount; most overdue first."""
    from connector import queries

    rt = runtime(reads_only=True)
    org_id = organisation(rt, org)
    day = today(rt, org_id)
    rows = queries.invoices(rt, org_id, day, administration_id=administration, debtor=debtor, overdue=overdue)
    rt.close()
    opened = [r for r in rows if r["days_overdue"] is not None]
    shown = [
        {
            **r,
            "open": output.money(r["open_amount"], r["currency"]),
            "amount": output.money(r["total"], r["currency"]),
            "late": "" if r["days_overdue"] is None else ("not due" if r["days_overdue"] <= 0 else r["days_overdue"]),
        }
        for r in rows
    ]
    footer = f"{len(rows)} invoice(s), {len(opened)} open; " + _totals(opened, "open_amount", "open")
    output.emit(
        _json_rows(rows, limit),
        as_json,
        lambda: output.print_table(
            [
                Column("number", "invoice"),
                Column("debtor", "debtor"),
                Column("administration", "administration"),
                Column("due_date", "due"),
                Column("late", "days late", right=True),
                Column("amount", "amount", right=True),
                Column("open", "open", right=True),
                Column("status", "status"),
                Column("id", "id", right=True),
            ],
            shown,
            title="invoices",
            empty="no invoices match",
            limit=limit,
            show_all=show_all,
            footer=footer,
        ),
    )


@app.command(rich_help_panel="Looking things up")
def debtors(
    administration: Administration = None,
    org: Org = None,
    as_json: output.Json = False,
    limit: output.Limit = None,
    show_all: output.All = False,
) -> None:
    """Debtors with what they owe (open, overdue, oldest due date) and their flags; the largest amount first."""
    from connector import queries

    rt = runtime(reads_only=True)
    org_id = organisation(rt, org)
    rows = queries.debtors(rt, org_id, today(rt, org_id), administration_id=administration)
    rt.close()
    shown = [
        {
            **r,
            "ref": r["customer_number"] or r["reference"],
            "open": output.money(r["open_amount"], r["currency"]),
            "overdue": output.money(r["overdue_amount"], r["currency"]),
        }
        for r in rows
    ]
    owing = [r for r in rows if r["open_invoices"]]
    footer = f"{len(rows)} debtor(s), {len(owing)} with open invoices; " + _totals(rows, "open_amount", "open")
    output.emit(
        _json_rows(rows, limit),
        as_json,
        lambda: output.print_table(
            [
                Column("name", "debtor"),
                Column("ref", "customer"),
                Column("administration", "administration"),
                Column("open_invoices", "open invoices", right=True),
                Column("open", "open", right=True),
                Column("overdue", "overdue", right=True),
                Column("oldest_due_date", "oldest due"),
                Column("flags", "flags"),
                Column("id", "id", right=True),
            ],
            shown,
            title="debtors",
            empty="no debtors",
            limit=limit,
            show_all=show_all,
            footer=footer,
        ),
    )


STATUS_WORDS = {
    "pending": "queued",
    "done": "done",
    "skipped": "skipped",
    "failed": "failed",
    "awaiting_approval": "awaiting approval",
    "task_open": "open task",
}


@app.command("outbox", rich_help_panel="Daily work")
def outbox_cmd(
    org: Org = None, as_json: output.Json = False, limit: output.Limit = None, show_all: output.All = False
) -> None:
    """The worklist: what is queued, waiting for approval or a person, failed, and what was done this week."""
    from connector import queries

    rt = runtime(reads_only=True)
    rows = queries.worklist(rt, organisation(rt, org))
    rt.close()
    shown = [
        {
            **r,
            "amount": output.money(r["open_amount"], r["currency"]),
            "status_text": STATUS_WORDS.get(r["status"], r["status"]),
            "problem": r["last_error"] or "",
        }
        for r in rows
    ]
    counts = Counter(STATUS_WORDS.get(r["status"], r["status"]) for r in rows)
    footer = f"{len(rows)} item(s): " + ", ".join(f"{n} {status}" for status, n in counts.most_common())
    output.emit(
        _json_rows(rows, limit),
        as_json,
        lambda: output.print_table(
            [
                Column("id", "id", right=True),
                Column("run_date", "date"),
                Column("administration", "administration"),
                Column("debtor", "debtor"),
                Column("level_name", "step"),
                Column("channel", "channel"),
                Column("invoices", "invoices", right=True),
                Column("amount", "open", right=True),
                Column("status_text", "status"),
                Column("problem", "problem"),
            ],
            shown,
            title="worklist",
            empty="nothing queued, nothing done this week",
            limit=limit,
            show_all=show_all,
            footer=footer,
        ),
    )


@app.command(rich_help_panel="Looking things up")
def why(
    invoice: Annotated[str, typer.Argument(help="Invoice number (as on the invoice) or the provider's reference.")],
    org: Org = None,
    as_json: output.Json = False,
    limit: output.Limit = None,
    show_all: output.All = False,
) -> None:
    """Why did (or didn't) an invoice get a reminder: what the rules say now, then every recorded step."""
    from connector import queries

    rt = runtime(reads_only=True)
    entries = queries.why(rt, organisation(rt, org), invoice)
    rt.close()
    output.emit(_json_rows(entries, limit), as_json, lambda: _show_why(invoice, entries, limit, show_all))


def _show_why(invoice: str, entries: list[dict[str, Any]], limit: int | None, show_all: bool) -> None:
    several = len({e["administration"] for e in entries}) > 1
    for entry in (e for e in entries if e["kind"] == "now"):
        why = (entry.get("data") or {}).get("why") or {}
        pairs: list[tuple[str, Any]] = [("today", entry["at"]), ("the rules say", entry["message"])]
        if why.get("rule"):
            pairs.append(("rule", why["rule"]))
        if (entry.get("data") or {}).get("next_date"):
            pairs.append(("next step on", entry["data"]["next_date"]))
        if why.get("synced_at"):
            pairs.append(("based on the sync of", output.moment(why["synced_at"])))
        output.print_fields(pairs, title=f"invoice {entry['invoice']} in {entry['administration']}")
    history = [{**e, "at": output.moment(e["at"])} for e in entries if e["kind"] != "now"]
    where = [Column("administration", "administration")] if several else []
    output.print_table(
        [Column("at", "when"), *where, Column("kind", "what"), Column("message", "detail")],
        history,
        title="history",
        empty="no step recorded yet",
        limit=limit,
        show_all=show_all,
    )


@app.command("dead-letters", rich_help_panel="Daily work")
def dead_letters(org: Org = None, as_json: output.Json = False) -> None:
    """Webhook events that could not be processed, with their reason (`dunning replay-dead` tries them again)."""
    from connector import queries

    rt = runtime(reads_only=True)
    rows = [{**row, "organisation": True} for row in queries.dead_letters(rt, organisation(rt, org))]
    unrouted = [{**row, "organisation": False} for row in queries.dead_letters(rt, None)]
    rt.close()
    columns = [
        Column("id", "id", right=True),
        Column("provider", "provider"),
        Column("action", "event"),
        Column("entity_id", "about"),
        Column("received_at", "received"),
        Column("attempts", "attempts", right=True),
        Column("error", "reason"),
    ]

    def tables() -> None:
        output.print_table(columns, rows, title="failed webhook events", empty="none", show_all=True)
        if unrouted:  # for a tenant connected to no organisation: only here and on the dashboard's page
            output.print_table(
                [*columns[:2], Column("tenant", "tenant"), *columns[2:]],
                unrouted,
                title="failed webhook events for no organisation (the tenant is not connected here)",
                show_all=True,
            )

    output.emit(rows + unrouted, as_json, tables)
