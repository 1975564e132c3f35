"""The daily work: ``sync``, ``run``, ``safe-mode``, ``approve``, ``done``, ``replay-dead``.

Each command resolves the organisation and calls ``connector.services`` / ``sync`` / ``decide`` / ``outbox`` /
``inbox``; it prints what happened as a summary for people (``--json`` for machines). ``sync`` goes on with the
other connections when one fails, lists the failure and exits 1.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import typer

from connector.cli import output
from connector.cli.shared import FAILURE, Org, app, fail, organisation, parse_date, runtime, today

REASONS = {
    "not_due": "not due yet",
    "interval": "too soon after the last message",
    "already_today": "already handled today",
    "paused_at_provider": "paused in the accounting package",
    "provider_chases": "the accounting package chases these itself",
    "below_tolerance": "amount below the tolerance",
    "fourteen_day_term": "the consumer's 14 days are still running",
    "not_in_default": "the consumer is not in default yet (notice of default and its term first)",
    "letter_not_posted": "the 14-day letter waits to be posted (`dunning letters`)",
    "new_letter_proposed": "a new 14-day letter waits for approval",
    "promise_pending": "a promise to pay is pending",
    "arrangement_active": "a payment arrangement is running",
    "on_hold": "on hold",
    "terminal": "last step reached: a person decides",
    "no_policy": "no policy applies",
}


@app.command("sync", rich_help_panel="Daily work")
def sync_cmd(
    full: Annotated[bool, typer.Option("--full", help="Read everything again instead of only what changed.")] = False,
    org: Org = None,
    as_json: output.Json = False,
) -> None:
    """Sync every active connection of the organisation (incremental unless --full); exit 1 if one failed."""
    from connector import services

    rt = runtime()
    results = services.sync_organisation(rt, organisation(rt, org), full=full)
    rt.close()
    failed = [r for r in results if r["status"] == "failed"]
    output.emit({"connections": results, "failed": len(failed)}, as_json, lambda: _show_sync(results))
    if failed:
        if not as_json:
            providers = ", ".join(f"{r['provider']} (connection {r['connection']})" for r in failed)
            output.say(f"error: {len(failed)} connection(s) failed to sync: {providers}")
        raise typer.Exit(FAILURE)


def _show_sync(results: list[dict[str, Any]]) -> None:
    rows = [
        {
            **r,
            "changed": ", ".join(f"{n} {stream}" for stream, n in (r.get("changed") or {}).items() if n) or "nothing",
        }
        for r in results
    ]
    output.print_table(
        [
            output.Column("connection", "connection", right=True),
            output.Column("provider", "provider"),
            output.Column("status", "status"),
            output.Column("administrations", "administrations", right=True),
            output.Column("changed", "changed"),
            output.Column("api_calls", "API calls", right=True),
            output.Column("error", "problem"),
        ],
        rows,
        title="sync",
        empty="no active connection: connect one with `dunning connect PROVIDER`",
        show_all=True,
    )


@app.command(rich_help_panel="Daily work")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show tomorrow's actions; send and store nothing.")
    ] = False,
    run_date: Annotated[str | None, typer.Option("--date", help="Run date (YYYY-MM-DD); default today.")] = None,
    org: Org = None,
    as_json: output.Json = False,
    limit: output.Limit = None,
    show_all: output.All = False,
) -> None:
    """Run the dunning rules (and drain the outbox unless --dry-run)."""
    from connector import decide, outbox, queries

    day = parse_date(run_date, "--date")
    rt = runtime()
    org_id = organisation(rt, org)
    day = day or today(rt, org_id) + (timedelta(days=1) if dry_run else timedelta(0))
    if not dry_run:
        from connector.debtors import daily_checks

        daily_checks(rt, org_id, day)  # holds, promises and arrangements settled before the rules run
    report = decide.run_dunning(rt, org_id, day, dry_run=dry_run)
    names = queries.debtor_names(rt, org_id) if dry_run else {}
    actions = [
        {**a, "debtor": names.get((a["administration"], a["debtor_ref"]), a["debtor_ref"])} for a in report.previews
    ]
    data: dict[str, Any] = {
        "run_date": day.isoformat(),
        "decisions": report.decisions,
        "messages": report.messages,
        "non_decisions": report.non_decisions,
        "actions": actions if dry_run else [],
    }
    if not dry_run:
        data["outbox"] = outbox.drain(rt, org_id).__dict__
    rt.close()
    output.emit(data, as_json, lambda: _show_run(data, dry_run, limit, show_all))


def _show_run(data: dict[str, Any], dry_run: bool, limit: int | None, show_all: bool) -> None:
    quiet = sorted(data["non_decisions"].items(), key=lambda kv: -kv[1])
    pairs: list[tuple[str, Any]] = [
        ("run date", data["run_date"] + (" (dry run: nothing stored or sent)" if dry_run else "")),
        ("decisions", data["decisions"]),
        ("messages", data["messages"]),
        ("no step today", ", ".join(f"{n} {REASONS.get(k, k.replace('_', ' '))}" for k, n in quiet) or "none"),
    ]
    drained = data.get("outbox")
    if drained:
        pairs.append(
            (
                "outbox",
                f"{drained['done']} done, {drained['skipped']} skipped, {drained['failed']} failed, "
                f"{drained['retry_later']} to retry, {drained['writebacks']} write-back(s)",
            )
        )
    output.print_fields(pairs, title="dunning run")
    if dry_run:
        rows = [
            {
                **a,
                "invoice_count": len(a.get("invoices") or []),
                "amount": output.money(a.get("open_amount"), a.get("currency")),
            }
            for a in data["actions"]
        ]
        output.print_table(
            [
                output.Column("administration", "administration"),
                output.Column("debtor", "debtor"),
                output.Column("level_name", "step"),
                output.Column("channel", "channel"),
                output.Column("invoice_count", "invoices", right=True),
                output.Column("amount", "open", right=True),
            ],
            rows,
            title="actions",
            empty="no actions",
            limit=limit,
            show_all=show_all,
        )


@app.command("safe-mode", rich_help_panel="Daily work")
def safe_mode(
    administration: Annotated[int, typer.Argument(help="Administration id (see `dunning administrations`).")],
    on: Annotated[bool, typer.Option("--on/--off", help="--off starts sending; --on only shows decisions.")] = True,
    org: Org = None,
) -> None:
    """Switch safe mode for an administration: on = decisions are shown, nothing is sent (the default)."""
    from connector import services
    from connector.errors import NotFound

    rt = runtime()
    try:
        services.set_safe_mode(rt, organisation(rt, org), administration, on)
    except NotFound:
        fail(f"no administration {administration} here", "`dunning administrations` lists them")
    output.say(f"administration {administration}: safe mode {'on (nothing is sent)' if on else 'off (sending)'}")


@app.command(rich_help_panel="Daily work")
def done(
    item: Annotated[int, typer.Argument(help="Outbox item id of an open task (see `dunning outbox`).")],
    note: Annotated[str, typer.Option(help="What was done, for the audit trail.")] = "",
    org: Org = None,
) -> None:
    """Mark an open task done (e.g. the claim was filed with the trustee); calls are closed by `dunning call`."""
    from connector import services
    from connector.errors import PermanentError

    rt = runtime()
    try:
        services.complete_task(rt, organisation(rt, org), item, note)
    except PermanentError as exc:
        fail(str(exc), "`dunning outbox` lists the open tasks")
    output.say(f"task {item} done")


@app.command(rich_help_panel="Daily work")
def approve(
    item: Annotated[int, typer.Argument(help="Outbox item id (see `dunning outbox`).")], org: Org = None
) -> None:
    """Approve a step that waits for a person (hand-over to a collection agency): it goes out on the next drain."""
    from connector import services
    from connector.errors import PermanentError

    rt = runtime()
    try:
        services.approve(rt, organisation(rt, org), item)
    except PermanentError as exc:
        fail(str(exc), "`dunning outbox` shows what is awaiting approval")
    output.say(f"outbox item {item} approved")


@app.command("replay-dead", rich_help_panel="Daily work")
def replay_dead(org: Org = None) -> None:
    """Process dead-lettered webhook events again."""
    from connector import inbox

    rt = runtime()
    org_id = organisation(rt, org)
    results = [inbox.process_event(rt, org_id, event_id) for event_id in inbox.replay_dead(rt, org_id)]
    output.say(f"replayed {len(results)}: {results.count('processed')} processed")
