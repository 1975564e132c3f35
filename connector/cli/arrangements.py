"""Payment arrangements (installments): ``arrangement create|list|pay|cancel|check``.

Commands over ``connector.debtors``' arrangement services. While an arrangement's installments are kept, the
ladder pauses for its invoices; ``check`` is the daily follow-up the scheduled run also does.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from connector.cli import output
from connector.cli.debtors import Administration, context
from connector.cli.output import Column
from connector.cli.shared import Org, app, organisation, parse_date, required_date, runtime, today

arrangement_app = typer.Typer(help="Payment arrangements (installments).", no_args_is_help=True)
app.add_typer(arrangement_app, name="arrangement", rich_help_panel="Debtors and invoices")


def _rows(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for plan in plans:
        parts = plan["installments"]
        paid = sum(1 for i in parts if i["paid"])
        due = next((i for i in parts if not i["paid"]), None)
        currency = parts[0]["currency"] if parts else "EUR"
        rows.append(
            {
                **plan,
                "invoice_list": ", ".join(plan["invoices"]),
                "progress": f"{paid} of {len(parts)} paid",
                "next": f"{output.money(due['amount'], currency)} on {due['due_date']}" if due else "",
            }
        )
    return rows


COLUMNS = [
    Column("id", "id", right=True),
    Column("debtor_ref", "debtor"),
    Column("invoice_list", "invoices"),
    Column("status", "status"),
    Column("agreed_on", "agreed on"),
    Column("progress", "installments"),
    Column("next", "next installment"),
]


@arrangement_app.command("create")
def arrangement_create(
    debtor: Annotated[str, typer.Option("--debtor", help="Debtor customer number (or reference).")],
    invoices: Annotated[str, typer.Option("--invoices", help="Comma-separated invoice numbers (or references).")],
    installments: Annotated[int, typer.Option("--installments", min=1)],
    first: Annotated[str, typer.Option("--first", help="Due date of the first installment YYYY-MM-DD.")],
    every_days: Annotated[int, typer.Option("--every-days", min=1)] = 30,
    note: str | None = None,
    administration: Administration = None,
    org: Org = None,
    as_json: output.Json = False,
) -> None:
    """Agree installments over one or more open invoices of a debtor; the ladder pauses while they are kept."""
    from connector import debtors

    first_due = required_date(first, "--first")
    rt, org_id, adm_id = context(org, debtor, administration, debtor=True)
    refs = [r.strip() for r in invoices.split(",") if r.strip()]
    plan = debtors.create_arrangement(
        rt,
        org_id,
        adm_id,
        debtor,
        refs,
        installments=installments,
        first_due=first_due,
        every_days=every_days,
        note=note,
    )
    created = next(a for a in debtors.list_arrangements(rt, org_id) if a["id"] == plan)
    output.emit(created, as_json, lambda: _show_plan(created))


def _show_plan(plan: dict[str, Any]) -> None:
    output.print_table(
        [
            Column("number", "installment", right=True),
            Column("due_date", "due"),
            Column("amount", "amount", right=True),
            Column("paid", "paid"),
        ],
        [{**i, "amount": output.money(i["amount"], i["currency"])} for i in plan["installments"]],
        title=f"arrangement {plan['id']} with {plan['debtor_ref']} ({plan['status']})",
        show_all=True,
    )


@arrangement_app.command("list")
def arrangement_list(
    status: Annotated[str | None, typer.Option(help="active|completed|broken|cancelled")] = None,
    org: Org = None,
    as_json: output.Json = False,
    limit: output.Limit = None,
    show_all: output.All = False,
) -> None:
    """Payment arrangements with their installments."""
    from connector import debtors

    rt = runtime(reads_only=True)
    plans = debtors.list_arrangements(rt, organisation(rt, org), status=status)
    rt.close()
    output.emit(
        plans,
        as_json,
        lambda: output.print_table(
            COLUMNS, _rows(plans), title="payment arrangements", empty="none", limit=limit, show_all=show_all
        ),
    )


@arrangement_app.command("pay")
def arrangement_pay(
    arrangement_id: Annotated[int, typer.Argument(metavar="ID")],
    installment: Annotated[int, typer.Option("--installment", min=1, help="Installment number (1 = first).")],
    paid_on: Annotated[str | None, typer.Option("--date", help="Paid on YYYY-MM-DD; default today.")] = None,
    org: Org = None,
) -> None:
    """Record an installment as paid (payments synced from the package are matched by `arrangement check`)."""
    from connector import debtors

    day = parse_date(paid_on, "--date")
    rt = runtime()
    status = debtors.pay_installment(rt, organisation(rt, org), arrangement_id, installment, paid_on=day)
    output.say(f"arrangement {arrangement_id}: installment {installment} paid; arrangement {status}")


@arrangement_app.command("cancel")
def arrangement_cancel(
    arrangement_id: Annotated[int, typer.Argument(metavar="ID")], reason: str = "by hand", org: Org = None
) -> None:
    """Cancel an active arrangement: the normal sequence resumes."""
    from connector import debtors

    rt = runtime()
    debtors.cancel_arrangement(rt, organisation(rt, org), arrangement_id, reason=reason)
    output.say(f"arrangement {arrangement_id} cancelled")


@arrangement_app.command("check")
def arrangement_check(
    run_date: Annotated[str | None, typer.Option("--date", help="Check date YYYY-MM-DD; default today.")] = None,
    org: Org = None,
    as_json: output.Json = False,
) -> None:
    """The daily follow-up: lapsed holds, passed promises (kept/broken), installments paid, arrangements broken."""
    from connector import debtors

    day = parse_date(run_date, "--date")
    rt = runtime()
    org_id = organisation(rt, org)
    result = debtors.daily_checks(rt, org_id, day or today(rt, org_id)).as_dict()
    output.emit(
        result,
        as_json,
        lambda: output.print_fields([(k.replace("_", " "), v) for k, v in result.items()], title="daily follow-up"),
    )
