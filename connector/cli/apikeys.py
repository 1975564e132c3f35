"""API keys for ``/api/v1``: ``api-key create|list|revoke`` (docs/api.md#authentication).

Commands over ``connector.apikeys``. ``create`` prints the key once (only its hash is stored); lists show the
prefix, which is also what ``revoke`` takes.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from connector.cli import output
from connector.cli.output import Column
from connector.cli.shared import Org, app, organisation, parse_choice, runtime

api_key_app = typer.Typer(help="API keys for /api/v1.", no_args_is_help=True)
app.add_typer(api_key_app, name="api-key", rich_help_panel="Setting up")

COLUMNS = [
    Column("prefix", "prefix"),
    Column("name", "name"),
    Column("scope", "scope"),
    Column("created_at", "created"),
    Column("last_used_at", "last used"),
    Column("revoked_at", "revoked"),
]


@api_key_app.command("create")
def create(
    scope: Annotated[str, typer.Option("--scope", help="read|write")] = "read",
    name: Annotated[str, typer.Option("--name", help="What the key is for.")] = "",
    org: Org = None,
    as_json: output.Json = False,
) -> None:
    """Create an API key for the organisation and print it once: store it now, it cannot be shown again."""
    from connector import apikeys

    chosen = parse_choice(scope, "--scope", ["read", "write"])
    rt = runtime()
    created = apikeys.create_key(rt, organisation(rt, org), chosen, name)
    rt.close()
    data = {"key": created.key, "prefix": created.record.prefix, "scope": chosen, "name": name}

    def show() -> None:
        sys.stdout.write(created.key + "\n")  # alone on stdout, for a script to capture
        output.say(f"{chosen} key {created.record.prefix} created: store it now, it is not shown again")

    output.emit(data, as_json, show)


@api_key_app.command("list")
def list_keys(org: Org = None, as_json: output.Json = False) -> None:
    """The organisation's API keys by prefix (never the keys themselves)."""
    from connector import apikeys

    rt = runtime(reads_only=True)
    rows = [
        {
            "prefix": k.prefix,
            "name": k.name,
            "scope": k.scope.value,
            "created_at": k.created_at,
            "last_used_at": k.last_used_at,
            "revoked_at": k.revoked_at,
        }
        for k in apikeys.list_keys(rt, organisation(rt, org))
    ]
    rt.close()
    output.emit(rows, as_json, lambda: output.print_table(COLUMNS, rows, title="API keys", empty="none", show_all=True))


@api_key_app.command("revoke")
def revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix as `dunning api-key list` shows it.")],
    org: Org = None,
) -> None:
    """Revoke an API key: calls with it get 401 from now on."""
    from connector import apikeys

    rt = runtime()
    record = apikeys.revoke_key(rt, organisation(rt, org), prefix)
    rt.close()
    output.say(f"API key {record.prefix} revoked")
