"""The web app's people, for the operator: ``user create`` and ``user list``.

Commands over ``connector.accounts``. ``user create`` gives a person a role in an organisation: with a password
read from stdin (``--password-stdin``), or else it prints an invitation link (from DUNNING_BASE_URL) for the person
to choose their own. ``--new-org`` creates the organisation first (an SME, or ``--kind practice``).
``--administration`` (repeatable) keeps the person to those administrations of the organisation: a client's own
staff (docs/cockpit.md#client-access).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from connector import accounts
from connector.cli import output
from connector.cli.output import Column
from connector.cli.shared import Org, app, fail, organisation, runtime

user_app = typer.Typer(help="People who log in to the web app.", no_args_is_help=True)
app.add_typer(user_app, name="user", rich_help_panel="Setting up")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="The person's e-mail address (their login).")],
    role: Annotated[str, typer.Option("--role", help="owner, controller or viewer.")] = "controller",
    org: Org = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin instead of printing a link.")
    ] = False,
    new_org: Annotated[bool, typer.Option("--new-org", help="Create the organisation named by --org first.")] = False,
    kind: Annotated[str, typer.Option("--kind", help="With --new-org: sme or practice.")] = "sme",
    administration: Annotated[
        list[str] | None,
        typer.Option(
            "--administration",
            help="Only this administration (id or name; repeat for more): a client's own staff, controller or viewer.",
        ),
    ] = None,
) -> None:
    """Give a person a role in an organisation; prints an invitation link unless a password comes on stdin."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on stdin", "pipe it in, e.g. `printf '%s' \"$PASSWORD\" | dunning user create ...`")
    rt = runtime()
    try:
        if new_org and administration:
            fail("--administration needs an organisation that has it", "leave out --new-org")
        if new_org:
            if not org:
                fail("--new-org needs --org NAME", "name the new organisation with --org")
            person = accounts.sign_up(rt, org, email, kind=kind, password=password)
            if role != "owner":
                output.say("the first person of a new organisation is its owner")
        else:
            person = accounts.add_user(
                rt, email, organisation(rt, org), role, password, administrations=administration or None
            )
        if person.has_password:
            output.say(f"{person.email} can log in now")
        else:
            output.say(f"{person.email} is invited; send them this link (valid {accounts.INVITATION_DAYS} days):")
            sys.stdout.write(accounts.link_url(rt, person.id, "invite") + "\n")
    except accounts.AccountError as exc:
        fail(str(exc))
    finally:
        rt.close()


@user_app.command("list")
def user_list(
    org: Org = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list on stdout.")] = False,
) -> None:
    """The organisation's people with their role and whether they have chosen a password yet."""
    rt = runtime(reads_only=True)
    try:
        rows = [
            {
                "email": p.email,
                "role": role,
                "status": "active" if p.has_password else "invited",
                "administrations": "all" if kept is None else ",".join(str(a) for a in kept),
            }
            for p, role, kept in accounts.members(rt, organisation(rt, org))
        ]
    finally:
        rt.close()
    columns = [
        Column("email", "e-mail"),
        Column("role", "role"),
        Column("status", "status"),
        Column("administrations", "administrations"),
    ]
    output.emit(rows, as_json, lambda: output.print_table(columns, rows, title="People", show_all=True))
