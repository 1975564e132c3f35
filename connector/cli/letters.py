"""The post queue: ``letters`` (which letters wait to be posted and which were), ``letters print`` (the letters of
one posting day, as PDFs) and ``letters posted`` (mark them posted, which starts their term).

A theme module of the ``dunning`` CLI, beside ``debtors`` (one debtor or invoice): each command is a few lines over
``connector.debtors`` (``letters`` module); a refusal ends in the shared error handler with what to do instead.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from connector.cli import output
from connector.cli.shared import (
    Org,
    app,
    organisation,
    parse_date,
    required_date,
    runtime,
    today,
)

letters_app = typer.Typer(
    help="Letters for the post: which wait to be posted (and which were), print them for a day, mark them posted.",
    invoke_without_command=True,
)
app.add_typer(letters_app, name="letters", rich_help_panel="Debtors and invoices")


@letters_app.callback()
def letters(
    ctx: typer.Context,
    org: Org = None,
    as_json: output.Json = False,
) -> None:
    """Letters waiting to be posted, and the letters posted lately with their dates."""
    if ctx.invoked_subcommand is not None:
        return
    from connector import debtors

    rt = runtime(reads_only=True)
    org_id = organisation(rt, org)
    waiting = debtors.letters_to_post(rt, org_id)
    posted = debtors.posted_letters(rt, org_id, limit=50)
    rt.close()
    rows = [letter.as_json() for letter in [*waiting, *posted]]
    output.emit(rows, as_json, lambda: _show_letters(waiting, posted))


def _show_letters(waiting: list[Any], posted: list[Any]) -> None:
    columns = [
        output.Column("id", "letter", right=True),
        output.Column("debtor", "debtor"),
        output.Column("kind", "kind"),
        output.Column("invoices", "invoices"),
    ]

    def row(letter: Any) -> dict[str, Any]:
        dates = letter.dates
        return {
            "id": letter.id,
            "debtor": letter.debtor_name,
            "kind": letter.kind.replace("_", " "),
            "invoices": ", ".join(letter.invoices),
            "assume": str(letter.dates_assume_sent_on or ""),
            "sent_on": str(letter.sent_on or ""),
            "received": dates.received.isoformat() if dates else "",
            "term_ends": dates.term_ends.isoformat() if dates else "",
            "file": letter.file or "",
            "problem": letter.problem or "",
        }

    output.print_table(
        [*columns, output.Column("assume", "dates assume posting on"), output.Column("file", "file")],
        [row(letter) for letter in waiting],
        title="letters to post",
        empty="no letters wait to be posted",
        show_all=True,
        footer="after posting: `dunning letters posted ID.. --on YYYY-MM-DD`; posting another day: "
        "`dunning letters print ID.. --on YYYY-MM-DD` first",
    )
    output.print_table(
        [
            *columns,
            output.Column("sent_on", "posted on"),
            output.Column("received", "received"),
            output.Column("term_ends", "term ends"),
            output.Column("problem", "problem"),
        ],
        [row(letter) for letter in posted],
        title="letters posted",
        empty="none posted yet",
        show_all=True,
    )


@letters_app.command("posted")
def letters_posted(
    ids: Annotated[list[int], typer.Argument(help="The letters' numbers, as `dunning letters` lists them.")],
    on: Annotated[str, typer.Option("--on", help="The day they were posted, YYYY-MM-DD.")],
    org: Org = None,
    as_json: output.Json = False,
) -> None:
    """Mark letters posted on a day: their term runs from that day (a later day than their dates assume makes a
    14-day letter too early, and a new one is proposed)."""
    from connector import debtors

    day = required_date(on, "--on")
    rt = runtime()
    org_id = organisation(rt, org)
    marked = debtors.mark_posted(rt, org_id, ids, day)
    rt.close()
    rows = [letter.as_json() for letter in marked]
    output.emit(rows, as_json, lambda: _say_posted(marked))


def _say_posted(marked: list[Any]) -> None:
    for letter in marked:
        dates = letter.dates
        line = f"letter {letter.id} posted on {letter.sent_on}"
        if dates is not None:
            line += f": received {dates.received} (presumed), term ends {dates.term_ends}"
        output.say(line)
        if letter.problem:
            output.say(f"  {letter.problem}: a new letter will be proposed in the worklist")


@letters_app.command("print")
def letters_print(
    ids: Annotated[list[int], typer.Argument(help="The letters' numbers, as `dunning letters` lists them.")],
    on: Annotated[str | None, typer.Option("--on", help="The day you will post them (default: today).")] = None,
    org: Org = None,
    as_json: output.Json = False,
) -> None:
    """Print letters that wait for the post again, with their dates for posting on a given day."""
    from connector import debtors

    rt = runtime()
    org_id = organisation(rt, org)
    day = parse_date(on, "--on") or today(rt, org_id)
    printed = debtors.print_letters(rt, org_id, ids, day)
    rt.close()
    rows = [letter.as_json() for letter in printed]
    output.emit(rows, as_json, lambda: _say_printed(printed, day))


def _say_printed(printed: list[Any], day: Any) -> None:
    for letter in printed:
        output.say(f"letter {letter.id}: print {letter.file} and post it on {day}")
