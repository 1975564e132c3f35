"""The ``dunning`` command line: each command is a few lines over ``connector.services``/``queries``.

Reporting commands take ``--json``; long commands show rich progress on a terminal (stderr) and plain lines
otherwise. Settings come from the environment (``DUNNING_*``), built once here and passed down.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from connector.settings import Settings

app = typer.Typer(
    help="dunning-connector: credit management for Xero, Exact Online and Moneybird.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.")
app.add_typer(db_app, name="db")
err = Console(stderr=True)
out = Console()


def _settings() -> Settings:
    from connector.logging import configure_from_settings

    settings = Settings()
    configure_from_settings(settings)
    return settings


def _runtime(settings: Settings | None = None) -> Any:
    from connector.runtime import Runtime

    return Runtime(settings or _settings())


def _org(rt: Any, name: str) -> int:
    """The organisation a command acts for; a name that does not exist is an error, never silently created."""
    from connector.storage import repos

    with rt.sessions() as s:
        org_id = repos.find_organisation(s, name)
    if org_id is None:
        err.print(
            f"no organisation {name!r} here yet: connect a provider first (`dunning connect PROVIDER --org {name!r}`)"
        )
        raise typer.Exit(2)
    return int(org_id)


def _today(tz: str = "Europe/Amsterdam") -> date:
    return datetime.now(ZoneInfo(tz)).date()


def _emit(data: Any, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, default=str, sort_keys=True) + "\n")
    else:
        out.print(data)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the latest schema."""
    from connector.storage.db import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    err.print("database is up to date")


@app.command()
def keygen() -> None:
    """Print a new encryption key for DUNNING_SECRET_KEYS."""
    from connector.auth.crypto import TokenCipher

    sys.stdout.write(TokenCipher.generate_key() + "\n")


@app.command()
def demo(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Exit after the run instead of serving the dashboard.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object with the counts, nothing else.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for the dashboard (0: a free one).")] = 8000,
    provider: Annotated[list[str] | None, typer.Option(help="Only these providers.")] = None,
) -> None:
    """Sandboxes, OAuth connect, sync, rules, write-back and the dashboard — no configuration needed."""
    from rich.progress import Progress

    from connector import demo as demo_mod
    from connector.storage.db import upgrade

    settings = demo_mod.demo_settings(_settings())
    upgrade(settings.database_url)
    try:
        run = demo_mod.start(settings, providers=provider, port=port)
    except OSError:
        run = demo_mod.start(settings, providers=provider, port=0)
    today = _today()
    with Progress(console=err, transient=True, disable=as_json or not err.is_terminal) as progress:
        for name in run.sandboxes:
            task = progress.add_task(f"syncing {name}", total=None)

            def advance(stream: str, count: int, task_id: Any = task) -> None:
                progress.update(task_id, advance=count, description=stream)

            run.summary[name] = demo_mod.run_provider(run, name, today, progress=advance)
            if not as_json:
                err.print(f"{name}: {run.summary[name]}")
    if as_json:
        sys.stdout.write(demo_mod.as_json(run.summary) + "\n")
    if no_serve:
        run.shutdown()
        return
    err.print(f"dashboard: {run.web.url}  (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        run.shutdown()


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 2,
    gunicorn: Annotated[bool, typer.Option(help="Serve with gunicorn (production).")] = True,
) -> None:
    """Serve the web app (webhooks, OAuth callbacks, dashboard, /api/v1) with gunicorn."""
    if gunicorn:
        import subprocess

        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "30",
            "--graceful-timeout",
            "30",
            "--max-requests",
            "1000",
            "--max-requests-jitter",
            "100",
            "dashboard.wsgi:app",
        ]
        raise typer.Exit(subprocess.call(cmd))
    from dashboard import create_app

    create_app(_settings()).run(host=host, port=port)


@app.command()
def worker(workers: int = 2) -> None:
    """Run the huey consumer (jobs and periodic schedules)."""
    from huey.consumer import Consumer

    from connector.jobs import build_queue

    settings = _settings()
    rt = _runtime(settings)
    queue = build_queue(settings, lambda: rt)
    Consumer(queue.huey, workers=workers, worker_type="thread", flush_locks=True).run()


@app.command()
def sandbox(provider: str, port: int = 8080, seed: int = 42) -> None:
    """Run a provider sandbox (emulator) on 127.0.0.1:PORT."""
    from sandboxes.runner import sandbox_factory

    sandbox_factory(provider)(seed=seed).run(host="127.0.0.1", port=port)


@app.command()
def connect(provider: str, port: int = 8765, org: str = "default") -> None:
    """Print the authorize URL and complete the connection when the browser returns to 127.0.0.1:PORT."""
    from connector import services
    from connector.connect import complete_connect, start_connect
    from connector.loopback import wait_for_callback

    rt = _runtime()
    org_id = services.ensure_organisation(rt, org)
    redirect = f"http://127.0.0.1:{port}/oauth/{provider}/callback"
    sys.stdout.write(start_connect(rt, org_id, provider, redirect) + "\n")
    sys.stdout.flush()
    params = wait_for_callback(port, f"/oauth/{provider}/callback")
    if "error" in params or "code" not in params:
        reason = params.get("error_description") or params.get("error") or "no code"
        err.print(f"connecting failed: {reason}; run the command again")
        raise typer.Exit(1)
    connected = complete_connect(rt, provider, params["code"], params["state"], expected_org=org_id)
    err.print(f"connected: {connected.administrations} administration(s), {connected.webhooks} webhook(s)")


@app.command("sync")
def sync_cmd(
    full: bool = False, org: str = "default", as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Sync every active connection of the organisation (incremental unless --full)."""
    from connector import sync
    from connector.storage import repos

    rt = _runtime()
    org_id = _org(rt, org)
    with rt.sessions() as s:
        connections = [c.id for c in repos.list_connections(s, org_id) if c.status == "active"]
    reports = {cid: sync.sync_connection(rt, org_id, cid, full=full).__dict__ for cid in connections}
    _emit(reports, as_json)


@app.command()
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show tomorrow's actions; send and store nothing.")
    ] = False,
    run_date: Annotated[str | None, typer.Option("--date", help="Run date (YYYY-MM-DD); default today.")] = None,
    org: str = "default",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run the dunning rules (and drain the outbox unless --dry-run)."""
    from datetime import timedelta

    from connector import decide, outbox

    rt = _runtime()
    org_id = _org(rt, org)
    day = date.fromisoformat(run_date) if run_date else _today() + (timedelta(days=1) if dry_run else timedelta(0))
    if not dry_run:
        from connector.debtors import daily_checks

        daily_checks(rt, org_id, day)  # holds, promises and arrangements settled before the rules run
    report = decide.run_dunning(rt, org_id, day, dry_run=dry_run)
    data: dict[str, Any] = {
        "run_date": day.isoformat(),
        "decisions": report.decisions,
        "messages": report.messages,
        "non_decisions": report.non_decisions,
        "actions": report.previews if dry_run else [],
    }
    if not dry_run:
        data["outbox"] = outbox.drain(rt, org_id).__dict__
    _emit(data, as_json)


@app.command()
def administrations(org: str = "default", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the connected administrations with their id, safe mode and whether the package chases by itself."""
    from connector import queries

    rt = _runtime()
    _emit(queries.as_dicts(queries.administrations(rt, _org(rt, org))), as_json)


@app.command("safe-mode")
def safe_mode(
    administration: Annotated[int, typer.Argument(help="Administration id (see `dunning administrations`).")],
    on: Annotated[bool, typer.Option("--on/--off", help="--off starts sending; --on only shows decisions.")] = True,
    org: str = "default",
) -> None:
    """Switch safe mode for an administration: on = decisions are shown, nothing is sent (the default)."""
    from connector import services
    from connector.errors import NotFound

    rt = _runtime()
    try:
        services.set_safe_mode(rt, _org(rt, org), administration, on)
    except NotFound:
        err.print(f"no administration {administration} here; `dunning administrations` lists them")
        raise typer.Exit(2) from None
    err.print(f"administration {administration}: safe mode {'on (nothing is sent)' if on else 'off (sending)'}")


@app.command()
def done(
    item: Annotated[int, typer.Argument(help="Outbox item id of an open task (see `dunning outbox`).")],
    note: Annotated[str, typer.Option(help="What was done, for the audit trail.")] = "",
    org: str = "default",
) -> None:
    """Mark an open task done (e.g. the claim was filed with the trustee); calls are closed by `dunning call`."""
    from connector import services
    from connector.errors import PermanentError

    rt = _runtime()
    try:
        services.complete_task(rt, _org(rt, org), item, note)
    except PermanentError as exc:
        err.print(f"{exc}; `dunning outbox` lists the open tasks")
        raise typer.Exit(2) from None
    err.print(f"task {item} done")


@app.command()
def approve(
    item: Annotated[int, typer.Argument(help="Outbox item id (see `dunning outbox`).")], org: str = "default"
) -> None:
    """Approve a step that waits for a person (hand-over to a collection agency): it goes out on the next drain."""
    from connector import services
    from connector.errors import PermanentError

    rt = _runtime()
    try:
        services.approve(rt, _org(rt, org), item)
    except PermanentError as exc:
        err.print(f"{exc}; `dunning outbox` shows what is awaiting approval")
        raise typer.Exit(2) from None
    err.print(f"outbox item {item} approved")


@app.command("outbox")
def outbox_cmd(org: str = "default", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List outbox items (worklist): queued, awaiting approval, done, failed."""
    from connector import queries

    rt = _runtime()
    _emit(queries.worklist(rt, _org(rt, org)), as_json)


@app.command("dead-letters")
def dead_letters(org: str = "default", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List webhook events that could not be processed, with their reason."""
    from connector import queries

    rt = _runtime()
    _emit(queries.dead_letters(rt, _org(rt, org)), as_json)


@app.command("replay-dead")
def replay_dead(org: str = "default") -> None:
    """Process dead-lettered webhook events again."""
    from connector import inbox

    rt = _runtime()
    org_id = _org(rt, org)
    results = [inbox.process_event(rt, org_id, event_id) for event_id in inbox.replay_dead(rt, org_id)]
    err.print(f"replayed {len(results)}: {results.count('processed')} processed")


@app.command()
def why(invoice_ref: str, org: str = "default", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Why did (or didn't) an invoice get a reminder: every decision with its rule and inputs."""
    from connector import queries

    rt = _runtime()
    _emit(queries.why(rt, _org(rt, org), invoice_ref), as_json)


def _date_option(name: str, value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        err.print(f"{name} {value!r} is not a date; write it like 2026-01-31")
        raise typer.Exit(2) from None


@app.command()
def costs(
    principal: Annotated[str, typer.Option(help="Principal amount, e.g. 1250.00")],
    consumer: Annotated[bool, typer.Option("--consumer", help="Consumer (B2C) rules and interest.")] = False,
    from_date: Annotated[str | None, typer.Option("--from", help="Interest start date YYYY-MM-DD.")] = None,
    to_date: Annotated[str | None, typer.Option("--to", help="Interest end date YYYY-MM-DD.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Statutory collection costs (WIK), VAT on costs and statutory interest for a principal."""
    from connector.rules.interest import load_rate_table
    from connector.rules.law import costs_summary

    settings = Settings()
    try:
        amount = Decimal(principal)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:  # NaN/Infinity parse as Decimals but crash the arithmetic
        err.print(f"--principal {principal!r} is not an amount; write it like 1250.00")
        raise typer.Exit(2)
    start, end = _date_option("--from", from_date), _date_option("--to", to_date)
    summary = costs_summary(amount, consumer, start, end, rates=load_rate_table(settings.interest_rates_file))
    _emit(summary, as_json)


@app.command()
def doctor(org: str = "default", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check database, queue, keys and every connection (needs re-authorisation? parked by a rate limit?)."""
    from connector import services
    from connector.storage import repos

    settings = _settings()
    checks: dict[str, Any] = {
        "database": settings.database_url.split("@")[-1],
        "queue": settings.queue_url.split("@")[-1],
    }
    try:
        checks["keys"] = f"{len(settings.fernet_keys())} key(s)"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["keys"] = str(exc)
        _emit(checks, as_json)
        raise typer.Exit(1) from None
    from sqlalchemy.exc import SQLAlchemyError

    rt = _runtime(settings)
    try:
        org_id = services.ensure_organisation(rt, org)
    except SQLAlchemyError as exc:  # e.g. a fresh var/ without tables: say what to do instead of a traceback
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        checks["database_error"] = f"{reason}; run `dunning db upgrade`"
        _emit(checks, as_json)
        raise typer.Exit(1) from None
    with rt.sessions() as s:
        checks["connections"] = [
            {
                "id": c.id,
                "provider": c.provider,
                "status": c.status,
                "parked_until": c.parked_until.isoformat() if c.parked_until else None,
                "reason": c.parked_reason,
                "action": "run `dunning connect " + c.provider + "`" if c.status == "needs_reauth" else "",
            }
            for c in repos.list_connections(s, org_id)
        ]
    _emit(checks, as_json)


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored secret with the newest key in DUNNING_SECRET_KEYS."""
    from connector.storage import tables

    rt = _runtime()
    count = 0
    with rt.sessions.begin() as s:
        for token in s.query(tables.OAuthToken):
            token.ciphertext = rt.cipher.rotate(token.ciphertext)
            count += 1
        for adm in s.query(tables.Administration).filter(tables.Administration.webhook_secret_ciphertext.is_not(None)):
            adm.webhook_secret_ciphertext = rt.cipher.rotate(adm.webhook_secret_ciphertext)
            count += 1
    err.print(f"re-encrypted {count} secret(s); you may now drop the old key from DUNNING_SECRET_KEYS")


@app.command()
def report(
    kind: Annotated[str, typer.Argument(help="aging | dso | forecast")],
    org: str = "default",
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_csv: Annotated[bool, typer.Option("--csv")] = False,
) -> None:
    """Aging buckets, DSO, or a weekly cash-flow forecast from stored data."""
    from connector.reports import build as reporting

    if kind not in reporting.KINDS:
        err.print(f"unknown report {kind!r}: choose one of {', '.join(reporting.KINDS)}")
        raise typer.Exit(2)
    rt = _runtime()
    org_id = _org(rt, org)
    result = reporting.build(rt, org_id, kind, _today())
    if as_csv:
        sys.stdout.write(reporting.as_csv(kind, result))
    else:
        _emit(result, as_json)


# --- debtor management (P10-P19): holds, promises, arrangements, calls, credit stop, write-off, hand-over -------

arrangement_app = typer.Typer(help="Payment arrangements (installments, P12).", no_args_is_help=True)
app.add_typer(arrangement_app, name="arrangement")
Org = Annotated[str, typer.Option("--org", help="Organisation name.")]
AdmOption = Annotated[
    int | None, typer.Option("--administration", help="Administration id, when the reference is ambiguous.")
]


def _dm_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"{option} {value!r} is not a date; write it as YYYY-MM-DD")
        raise typer.Exit(2) from None


def _dm_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a debtor-management service; a refusal (unknown ref, ambiguity, missing confirmation) exits 1 with why."""
    from connector.errors import ConnectorError

    try:
        return fn(*args, **kwargs)
    except ConnectorError as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None


def _dm_context(org: str, ref: str, administration: int | None, *, debtor: bool) -> tuple[Any, int, int]:
    from connector import debtors

    rt = _runtime()
    org_id = _org(rt, org)
    resolve = debtors.resolve_debtor if debtor else debtors.resolve_invoice
    return rt, org_id, _dm_call(resolve, rt, org_id, ref, administration)


@app.command()
def hold(
    ref: Annotated[str, typer.Argument(help="Invoice (provider ref or number), or debtor with --debtor.")],
    reason: Annotated[
        str,
        typer.Option(
            help="dispute|complaint|awaiting_credit_note|payment_claimed|talk_first|insolvency|factored|other"
        ),
    ],
    until: Annotated[
        str | None, typer.Option(help="Last day of the hold (YYYY-MM-DD); default: until released.")
    ] = None,
    debtor: Annotated[bool, typer.Option("--debtor", help="REF is a debtor: hold all its invoices.")] = False,
    administration: AdmOption = None,
    org: Org = "default",
) -> None:
    """Put an invoice (or a debtor) on hold with a reason code: no reminders; a note goes to the package (P11)."""
    from connector import debtors

    rt, org_id, adm_id = _dm_context(org, ref, administration, debtor=debtor)
    fn = debtors.hold_debtor if debtor else debtors.hold_invoice
    changed = _dm_call(fn, rt, org_id, adm_id, ref, reason, until=_dm_date(until, "--until"))
    err.print(f"{ref} on hold ({reason})" if changed else f"{ref} was already on hold ({reason})")


@app.command()
def release(
    ref: Annotated[str, typer.Argument(help="Invoice, or debtor with --debtor.")],
    debtor: Annotated[bool, typer.Option("--debtor", help="REF is a debtor.")] = False,
    administration: AdmOption = None,
    org: Org = "default",
) -> None:
    """Lift a hold: the reminder sequence resumes on the next run (a note goes to the package)."""
    from connector import debtors

    rt, org_id, adm_id = _dm_context(org, ref, administration, debtor=debtor)
    fn = debtors.release_debtor if debtor else debtors.release_invoice
    err.print(f"{ref} released" if _dm_call(fn, rt, org_id, adm_id, ref) else f"{ref} was not on hold")


@app.command()
def promise(
    ref: Annotated[str, typer.Argument(help="Invoice, or debtor with --debtor.")],
    on: Annotated[str, typer.Option("--date", help="Promised payment date YYYY-MM-DD.")],
    debtor: Annotated[
        bool, typer.Option("--debtor", help="REF is a debtor: the promise covers all its invoices.")
    ] = False,
    administration: AdmOption = None,
    org: Org = "default",
) -> None:
    """Record a promise to pay: reminders pause through that date and resume by themselves after it (P13)."""
    from connector import debtors

    rt, org_id, adm_id = _dm_context(org, ref, administration, debtor=debtor)
    fn = debtors.promise_debtor if debtor else debtors.promise_invoice
    _dm_call(fn, rt, org_id, adm_id, ref, _dm_date(on, "--date"))
    err.print(f"{ref}: promise to pay by {on}")


@arrangement_app.command("create")
def arrangement_create(
    debtor: Annotated[str, typer.Option("--debtor", help="Debtor ref or customer number.")],
    invoices: Annotated[str, typer.Option("--invoices", help="Comma-separated invoice refs or numbers.")],
    installments: Annotated[int, typer.Option("--installments", min=1)],
    first: Annotated[str, typer.Option("--first", help="Due date of the first installment YYYY-MM-DD.")],
    every_days: Annotated[int, typer.Option("--every-days", min=1)] = 30,
    note: str | None = None,
    administration: AdmOption = None,
    org: Org = "default",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Agree installments over one or more open invoices of a debtor; the ladder pauses while they are kept."""
    from connector import debtors

    rt, org_id, adm_id = _dm_context(org, debtor, administration, debtor=True)
    refs = [r.strip() for r in invoices.split(",") if r.strip()]
    first_due = _dm_date(first, "--first")
    plan = _dm_call(
        debtors.create_arrangement,
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
    _emit(next(a for a in debtors.list_arrangements(rt, org_id) if a["id"] == plan), as_json)


@arrangement_app.command("list")
def arrangement_list(
    status: Annotated[str | None, typer.Option(help="active|completed|broken|cancelled")] = None,
    org: Org = "default",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Payment arrangements with their installments."""
    from connector import debtors

    rt = _runtime()
    _emit(debtors.list_arrangements(rt, _org(rt, org), status=status), as_json)


@arrangement_app.command("pay")
def arrangement_pay(
    arrangement_id: Annotated[int, typer.Argument(metavar="ID")],
    installment: Annotated[int, typer.Option("--installment", min=1, help="Installment number (1 = first).")],
    paid_on: Annotated[str | None, typer.Option("--date", help="Paid on YYYY-MM-DD; default today.")] = None,
    org: Org = "default",
) -> None:
    """Record an installment as paid (payments synced from the package are matched by `arrangement check`)."""
    from connector import debtors

    rt = _runtime()
    org_id = _org(rt, org)
    status = _dm_call(
        debtors.pay_installment, rt, org_id, arrangement_id, installment, paid_on=_dm_date(paid_on, "--date")
    )
    err.print(f"arrangement {arrangement_id}: installment {installment} paid; arrangement {status}")


@arrangement_app.command("cancel")
def arrangement_cancel(
    arrangement_id: Annotated[int, typer.Argument(metavar="ID")], reason: str = "by hand", org: Org = "default"
) -> None:
    """Cancel an active arrangement: the normal sequence resumes."""
    from connector import debtors

    rt = _runtime()
    _dm_call(debtors.cancel_arrangement, rt, _org(rt, org), arrangement_id, reason=reason)
    err.print(f"arrangement {arrangement_id} cancelled")


@arrangement_app.command("check")
def arrangement_check(
    run_date: Annotated[str | None, typer.Option("--date", help="Check date YYYY-MM-DD; default today.")] = None,
    org: Org = "default",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The daily follow-up: lapsed holds, passed promises (kept/broken), installments paid, arrangements broken."""
    from connector import debtors

    rt = _runtime()
    day = _dm_date(run_date, "--date") or _today()
    _emit(debtors.daily_checks(rt, _org(rt, org), day).as_dict(), as_json)


@app.command()
def call(
    debtor: Annotated[str, typer.Argument(help="Debtor ref or customer number.")],
    outcome: Annotated[
        str,
        typer.Option(
            help="promise_to_pay|payment_arrangement|dispute|already_paid|call_back|"
            "no_answer|voicemail|wrong_number|refused"
        ),
    ],
    reason: Annotated[
        str | None,
        typer.Option(help="Late-payment reason: miscommunication|dissatisfied|financial_trouble|negligence|other"),
    ] = None,
    promise_on: Annotated[str | None, typer.Option("--promise", help="Promised date (promise_to_pay).")] = None,
    invoice: Annotated[str | None, typer.Option(help="The invoice the call was about.")] = None,
    note: str = "",
    administration: AdmOption = None,
    org: Org = "default",
) -> None:
    """Record a phone call with its outcome and reason (P10); a promise pauses, a dispute holds."""
    from connector import debtors

    rt, org_id, adm_id = _dm_context(org, debtor, administration, debtor=True)
    moment = _dm_call(
        debtors.record_call_outcome,
        rt,
        org_id,
        adm_id,
        debtor,
        outcome,
        reason=reason,
        promise_date=_dm_date(promise_on, "--promise"),
        invoice_ref=invoice,
        note=note,
    )
    err.print(f"contact moment {moment} recorded ({outcome})")


@app.command("credit-stop")
def credit_stop(
    debtor: Annotated[str, typer.Argument(help="Debtor ref or customer number.")],
    lift: Annotated[bool, typer.Option("--lift", help="Lift the credit stop.")] = False,
    reason: str = "by hand",
    administration: AdmOption = None,
    org: Org = "default",
) -> None:
    """Set (or --lift) a credit stop by hand; written back to the package (P14)."""
    from connector import debtors

    rt, org_id, adm_id = _dm_context(org, debtor, administration, debtor=True)
    changed = _dm_call(debtors.set_credit_stop, rt, org_id, adm_id, debtor, stop=not lift, reason=reason)
    state = "lifted" if lift else "set"
    err.print(f"credit stop {state} for {debtor}" if changed else f"credit stop was already {state} for {debtor}")


@app.command()
def uncollectible(
    invoice: Annotated[str, typer.Argument(help="Invoice ref or number.")],
    confirm: Annotated[bool, typer.Option("--confirm", help="Yes, write it off at the package.")] = False,
    administration: AdmOption = None,
    org: Org = "default",
) -> None:
    """Mark an invoice uncollectible: reminders stop and the package is told. Needs --confirm."""
    from connector import debtors

    rt, org_id, adm_id = _dm_context(org, invoice, administration, debtor=False)
    _dm_call(debtors.mark_invoice_uncollectible, rt, org_id, adm_id, invoice, confirm=confirm)
    err.print(f"{invoice} marked uncollectible")


@app.command("hand-over")
def hand_over_cmd(
    debtor: Annotated[str, typer.Argument(help="Debtor ref or customer number.")],
    out: Annotated[str, typer.Option("--out", help="Directory for the dossier PDF and CSV.")],
    agency: Annotated[str | None, typer.Option(help="Collection agency name.")] = None,
    registration: Annotated[str | None, typer.Option(help="The agency's Justis registration (L8).")] = None,
    administration: AdmOption = None,
    org: Org = "default",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Hand a debtor over to a collection agency: dossier as PDF + CSV, and our reminders stop (P16)."""
    from pathlib import Path

    from connector import debtors

    rt, org_id, adm_id = _dm_context(org, debtor, administration, debtor=True)
    result = _dm_call(
        debtors.hand_over, rt, org_id, adm_id, debtor, Path(out), agency=agency, agency_registration=registration
    )
    _emit(
        {
            "pdf": str(result.pdf_path),
            "csv": str(result.csv_path),
            "invoices": list(result.invoices),
            "total_claim": str(result.total_claim),
            "currency": result.currency,
            "pdf_sha256": result.pdf_sha256,
        },
        as_json,
    )


@app.command()
def classify(org: Org = "default", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Risk class per debtor from payment behaviour and broken promises/arrangements (thresholds: P19 docs)."""
    from dataclasses import asdict

    from connector import debtors

    rt = _runtime()
    rows = [asdict(r) for r in debtors.classify_debtors(rt, _org(rt, org))]
    _emit(rows, as_json)


@app.command()
def reasons(org: Org = "default", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Late-payment reasons recorded with contact moments, per administration and month (P10)."""
    from connector import debtors

    rt = _runtime()
    _emit(debtors.late_reasons(rt, _org(rt, org)), as_json)


@app.command("debtor")
def debtor_cmd(
    debtor: Annotated[str, typer.Argument(help="Debtor ref or customer number.")],
    segment: Annotated[str | None, typer.Option(help="b2b | b2c | auto (back to what the package says).")] = None,
    status: Annotated[
        str | None, typer.Option(help="collectible | doubtful | uncollectible (needs --confirm).")
    ] = None,
    insolvent: Annotated[bool | None, typer.Option("--insolvent/--solvent", help="L9 legal hold.")] = None,
    credit_limit: Annotated[
        str | None, typer.Option("--credit-limit", help="P2: credit granted, e.g. 5000.00; 'none' removes it.")
    ] = None,
    confirm: Annotated[bool, typer.Option("--confirm", help="Confirm writing the debtor off.")] = False,
    administration: AdmOption = None,
    org: Org = "default",
) -> None:
    """Classify a debtor by hand: segment override, collection status, insolvency (P19, L9)."""
    from connector import debtors

    rt, org_id, adm_id = _dm_context(org, debtor, administration, debtor=True)
    if segment is not None:
        if segment not in ("b2b", "b2c", "auto"):
            err.print("--segment is b2b, b2c or auto")
            raise typer.Exit(2)
        _dm_call(debtors.set_segment, rt, org_id, adm_id, debtor, None if segment == "auto" else segment)
    if status is not None:
        if status not in {s.value for s in debtors.CollectionStatus}:
            err.print("--status is collectible, doubtful or uncollectible")
            raise typer.Exit(2)
        _dm_call(debtors.set_collection_status, rt, org_id, adm_id, debtor, status, confirm=confirm)
    if insolvent is not None:
        _dm_call(debtors.set_insolvent, rt, org_id, adm_id, debtor, insolvent)
    if credit_limit is not None:
        try:
            limit = None if credit_limit.lower() == "none" else Decimal(credit_limit)
        except InvalidOperation:
            err.print(f"--credit-limit {credit_limit!r} is not an amount; write it like 5000.00 (or none)")
            raise typer.Exit(2) from None
        _dm_call(debtors.set_credit_limit, rt, org_id, adm_id, debtor, limit)
    err.print(f"{debtor} updated")
