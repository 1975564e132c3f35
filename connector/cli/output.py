"""How ``dunning`` commands print: rich tables and summaries for people, one JSON object or CSV for machines.

Sits at the very end of the flow, after ``connector.cli.shared``: commands hand plain rows (dicts of strings,
numbers, dates) to these functions and never print Python objects themselves. Data goes to stdout, short status
lines ("task 12 done") to stderr, so ``--json`` and ``--csv`` output can be piped. Long lists are paged: the first
``DEFAULT_LIMIT`` rows unless ``--limit N`` or ``--all``, with a line saying how many were left out.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

import typer
from babel.numbers import format_currency
from rich import box
from rich.console import Console
from rich.table import Table

DEFAULT_LIMIT = 20

Json = Annotated[bool, typer.Option("--json", help="Print one JSON object for machines instead of a table.")]
Csv = Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")]
Limit = Annotated[
    int | None, typer.Option("--limit", min=1, help=f"Show at most this many rows (tables: {DEFAULT_LIMIT}).")
]
All = Annotated[bool, typer.Option("--all", help="Show every row.")]


def console(*, stderr: bool = False) -> Console:
    """A console on the current stdout/stderr; wide enough for tables when it is not a terminal (a pipe, a file)."""
    target = sys.stderr if stderr else sys.stdout
    probe = Console(file=target)
    return Console(file=target, width=None if probe.is_terminal else 160, highlight=False, soft_wrap=False)


def say(message: str) -> None:
    """A short status line for a person, on stderr (what a command did)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def print_json(data: Any) -> None:
    """One JSON value on one line of stdout, keys sorted; dates, decimals and paths as strings."""
    sys.stdout.write(json.dumps(data, default=str, sort_keys=True) + "\n")
    sys.stdout.flush()


def print_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    sys.stdout.write(buffer.getvalue())


def money(amount: Any, currency: str | None = "EUR") -> str:
    """``€1,555.75``: an amount a person reads (the command line speaks English)."""
    if amount in (None, ""):
        return ""
    return str(format_currency(Decimal(str(amount)), currency or "EUR", locale="en_GB"))


def moment(value: Any) -> str:
    """An ISO timestamp as ``2026-12-04 15:38 UTC`` (minutes are enough for a person)."""
    if not value:
        return ""
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if parsed.tzinfo is None:
        return parsed.strftime("%Y-%m-%d %H:%M")
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    right: bool = False  # numbers and amounts line up on the right


def page(rows: Sequence[Any], limit: int | None, show_all: bool) -> tuple[Sequence[Any], int]:
    """The rows to show and how many are left out."""
    if show_all:
        return rows, 0
    shown = rows[: limit or DEFAULT_LIMIT]
    return shown, len(rows) - len(shown)


def print_table(
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str | None = None,
    limit: int | None = None,
    show_all: bool = False,
    empty: str = "nothing to show",
    footer: str | None = None,
) -> None:
    """A table of ``rows`` (paged), then the footer (totals) and how many rows were left out."""
    out = console()
    if not rows:
        out.print(f"{title}: {empty}" if title else empty)
        return
    shown, hidden = page(rows, limit, show_all)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        table.add_column(column.header, justify="right" if column.right else "left", overflow="fold")
    for row in shown:
        table.add_row(*(text(row.get(c.key)) for c in columns))
    out.print(table)
    notes = [footer] if footer else []
    if hidden:
        notes.append(f"{hidden} more row(s) not shown: --all shows every row, --limit N the first N")
    for note in notes:
        out.print(note)


def print_fields(pairs: Iterable[tuple[str, Any]], *, title: str | None = None, amounts: bool = False) -> None:
    """A summary: one ``label  value`` line per pair (``amounts``: values lined up on the right)."""
    table = Table(title=title, title_justify="left", box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold", justify="right" if amounts else "left")
    for label, value in pairs:
        table.add_row(label, text(value))
    console().print(table)


def emit(data: Any, as_json: bool, show: Any) -> None:
    """``--json``: ``data`` as one JSON line; otherwise ``show()`` prints it for a person."""
    if as_json:
        print_json(data)
    else:
        show()
