"""Outbound webhooks: ``webhook add|list|remove|deliveries|replay|deliver`` (docs/api.md#outbound-webhooks).

Commands over ``connector.notify``, the same services as the API's ``/webhooks`` endpoints. ``add`` prints the
signing secret once; ``deliver`` sends what is due now (the worker does it every minute).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from connector.cli import output
from connector.cli.output import Column
from connector.cli.shared import Org, app, fail, organisation, runtime

webhook_app = typer.Typer(help="Outbound webhooks: subscriptions and deliveries.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook", rich_help_panel="Setting up")


@webhook_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The http(s) URL that receives the events.")],
    events: Annotated[str, typer.Option("--events", help="Comma-separated event types (see docs/api.md).")],
    description: Annotated[str, typer.Option("--description")] = "",
    org: Org = None,
    as_json: output.Json = False,
) -> None:
    """Subscribe a URL to events and print its signing secret once."""
    from connector import notify

    rt = runtime()
    try:
        created = notify.subscribe(rt, organisation(rt, org), url, [e.strip() for e in events.split(",") if e.strip()],
                                   description)  # fmt: skip
    except notify.InvalidSubscription as exc:
        fail(str(exc))
    finally:
        rt.close()

    def show() -> None:
        sys.stdout.write(created.secret + "\n")
        output.say(f"subscription {created.record.id} created: verify signatures with the secret above")

    output.emit({"id": created.record.id, "url": created.record.url, "secret": created.secret}, as_json, show)


@webhook_app.command("list")
def list_subscriptions(org: Org = None, as_json: output.Json = False) -> None:
    """The organisation's webhook subscriptions (never their secrets)."""
    from connector import notify

    rt = runtime(reads_only=True)
    rows = [
        {"id": s.id, "url": s.url, "events": ", ".join(s.events), "created_at": s.created_at}
        for s in notify.subscriptions(rt, organisation(rt, org))
    ]
    rt.close()
    columns = [Column("id", "id", right=True), Column("url", "url"), Column("events", "events"),
               Column("created_at", "created")]  # fmt: skip
    output.emit(rows, as_json, lambda: output.print_table(columns, rows, title="webhooks", empty="none", show_all=True))


@webhook_app.command("remove")
def remove(subscription: Annotated[int, typer.Argument(help="The id `dunning webhook list` shows.")],
           org: Org = None) -> None:  # fmt: skip
    """Delete a subscription (its pending deliveries go with it)."""
    from connector import notify

    rt = runtime()
    notify.unsubscribe(rt, organisation(rt, org), subscription)
    rt.close()
    output.say(f"subscription {subscription} deleted")


@webhook_app.command("deliveries")
def deliveries(
    status: Annotated[str | None, typer.Option(help="pending|delivered|dead")] = None,
    org: Org = None,
    as_json: output.Json = False,
) -> None:
    """The delivery log, newest first, with the last response code."""
    from connector import notify

    rt = runtime(reads_only=True)
    rows = [
        {"id": d.id, "event": d.event_type, "status": d.status, "attempts": d.attempts,
         "last_status_code": d.last_status_code, "last_error": d.last_error, "created_at": d.created_at}
        for d in notify.deliveries(rt, organisation(rt, org), status=status)
    ]  # fmt: skip
    rt.close()
    columns = [Column("id", "id", right=True), Column("event", "event"), Column("status", "status"),
               Column("attempts", "tries", right=True), Column("last_status_code", "last code", right=True),
               Column("last_error", "last error"), Column("created_at", "created")]  # fmt: skip
    output.emit(rows, as_json, lambda: output.print_table(columns, rows, title="webhook deliveries", empty="none"))


@webhook_app.command("replay")
def replay(delivery: Annotated[int, typer.Argument(help="The delivery id.")], org: Org = None) -> None:
    """Send a delivery again (a new round of retries, the same message id)."""
    from connector import notify

    rt = runtime()
    notify.replay(rt, organisation(rt, org), delivery)
    rt.close()
    output.say(f"delivery {delivery} will be sent again")


@webhook_app.command("deliver")
def deliver(org: Org = None, as_json: output.Json = False) -> None:
    """Send the deliveries that are due now (the worker does this every minute)."""
    from connector import notify

    rt = runtime()
    run = notify.deliver_due(rt, organisation(rt, org))
    rt.close()
    data = {"delivered": run.delivered, "retrying": run.retrying, "dead": run.dead}
    summary = f"{run.delivered} delivered, {run.retrying} to retry, {run.dead} dead"
    output.emit(data, as_json, lambda: output.say(summary))
