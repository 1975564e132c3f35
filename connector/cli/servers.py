"""Long-running commands: ``demo`` (the whole flow against in-process sandboxes), ``serve``, ``worker``, ``sandbox``.

``demo`` drives ``connector.demo`` with rich progress bars on a terminal, then prints one summary row per
provider and what to try next; ``--json`` prints only the counts as one JSON object. ``serve`` and ``worker``
log JSON lines (they run unattended); every other command keeps the console quiet.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from connector.cli import output
from connector.cli.shared import FAILURE, app, fail, runtime, settings

if TYPE_CHECKING:
    from connector.demo import DemoRun

SUMMARY_ROWS = [
    ("administrations", "administrations"),
    ("invoices_synced", "invoices"),
    ("open_invoices", "open"),
    ("payments", "payments"),
    ("api_calls", "API calls"),
    ("decisions", "decisions"),
    ("messages_sent", "messages sent"),
    ("writebacks", "write-backs"),
]


def _known_provider(provider: str) -> None:
    from connector.registry import ADAPTERS
    from sandboxes.runner import SANDBOXES

    choices = sorted(p for p in SANDBOXES if p in ADAPTERS)
    if provider not in choices:
        fail(f"unknown provider {provider!r}", f"choose one of {', '.join(choices)}")


@app.command(rich_help_panel="Setting up")
def demo(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Exit after the run instead of serving the dashboard.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object with the counts, nothing else.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for the dashboard (0: a free one).")] = 8000,
    provider: Annotated[list[str] | None, typer.Option(help="Only this provider (may repeat).")] = None,
    clients: Annotated[
        int | None,
        typer.Option(
            "--clients", min=1, max=5000, help="An accounting practice with N client administrations instead."
        ),
    ] = None,
) -> None:
    """Sandboxes, OAuth connect, sync, rules, write-back and the dashboard — no configuration needed."""
    from connector import clock
    from connector import demo as demo_mod

    for name in provider or []:
        _known_provider(name)
    loaded = demo_mod.demo_settings(settings())
    if clients is not None:
        _practice_demo(loaded, clients, provider, no_serve=no_serve, as_json=as_json, port=port)
        return
    # --no-serve binds no port of its own choosing: the web app the OAuth flow returns to gets a free one
    try:
        run = demo_mod.start(loaded, providers=provider, port=0 if no_serve else port)
    except OSError:
        run = demo_mod.start(loaded, providers=provider, port=0)
    try:
        today = clock.today(clock=run.runtime.clock)
        _run_providers(run, today, quiet=as_json)
        if as_json:
            sys.stdout.write(demo_mod.as_json(run.summary) + "\n")
            return
        _show_summary(run, no_serve)
        if no_serve:
            return
        output.say("serving the dashboard; Ctrl-C stops it")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            output.say("stopped")
    finally:
        run.shutdown()


def _run_providers(run: DemoRun, today: Any, *, quiet: bool) -> None:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from connector import demo as demo_mod

    err = output.console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description:<40}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, disable=quiet or not err.is_terminal) as progress:
        for name in run.sandboxes:
            task = progress.add_task(f"{name}: connecting", total=None)
            synced = {"records": 0}

            def advance(stream: str, count: int, task_id: Any = task, name: str = name, seen: Any = synced) -> None:
                seen["records"] += count
                progress.update(task_id, description=f"{name}: syncing {stream} ({seen['records']:,} records)")

            def stage(step: str, task_id: Any = task, name: str = name) -> None:
                progress.update(task_id, description=f"{name}: {step}")

            run.summary[name] = demo_mod.run_provider(run, name, today, progress=advance, stage=stage)
            progress.update(task, description=f"{name}: done", total=1, completed=1)
            if not quiet and not err.is_terminal:
                counts = run.summary[name]
                output.say(f"{name}: synced {counts['invoices_synced']} invoices, {counts['decisions']} decisions")


def _show_summary(run: DemoRun, no_serve: bool) -> None:
    from connector import demo as demo_mod
    from connector.registry import ADAPTERS

    names = list(run.summary)
    columns = [output.Column("what", ""), *(output.Column(n, ADAPTERS[n].name, right=True) for n in names)]
    rows = [{"what": label, **{n: run.summary[n][key] for n in names}} for key, label in SUMMARY_ROWS]
    output.print_table(columns, rows, title="What the demo did", show_all=True)
    example = demo_mod.example_invoice(run)
    login = f"log in as {demo_mod.DEMO_OWNER} with password {demo_mod.DEMO_PASSWORD}"
    where = "run `dunning serve` to open the dashboard" if no_serve else f"dashboard: {run.web.url}/login"
    where = f"{where}\n{login}"
    tries = [
        ("dunning outbox", "the worklist: what was sent today, what waits for you"),
        (f"dunning why {example}" if example else "dunning invoices --overdue", "why an invoice got its reminder"),
        ("dunning report aging", "who owes what, by how long overdue"),
    ]
    out = output.console()
    out.print(f"\n{where}\nthree commands to try next (in this folder):")
    width = max(len(command) for command, _ in tries)
    for command, what in tries:
        out.print(f"  {command:<{width}}  {what}")


def _practice_demo(
    loaded: Any, clients: int, providers: list[str] | None, *, no_serve: bool, as_json: bool, port: int
) -> None:
    """`dunning demo --clients N` (connector.demo_practice): the practice's totals, then the dashboard."""
    import json

    from connector import demo_practice

    ran = demo_practice.already_ran(loaded)
    if ran is not None:
        fail(
            f"a practice demo with {ran} clients already ran in this folder ({loaded.var_dir})",
            "run `dunning serve` to look at it, or run the demo in another folder (DUNNING_VAR_DIR=var-practice)",
        )
    if not as_json:
        output.say(f"seeding {clients} client administrations and running their day (this takes a while)")
    try:
        run = demo_practice.start(loaded, clients, port=0 if no_serve else port, providers=providers)
    except OSError:
        run = demo_practice.start(loaded, clients, port=0, providers=providers)
    try:
        summary = demo_practice.run(run, clients)
        if as_json:
            sys.stdout.write(json.dumps(summary.as_dict(), sort_keys=True) + "\n")
            return
        _show_practice(summary)
        where = "run `dunning serve` to open the dashboard" if no_serve else f"dashboard: {run.web.url}/login"
        output.console().print(
            f"\n{where}\nlog in as {demo_practice.PRACTICE_OWNER} with password {demo_practice.PRACTICE_PASSWORD}"
            f'\nanother organisation here: add --org "{demo_practice.PRACTICE_ORG}" to other commands'
        )
        if no_serve:
            return
        output.say("serving the dashboard; Ctrl-C stops it")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            output.say("stopped")
    finally:
        run.shutdown()


def _show_practice(summary: Any) -> None:
    from connector.registry import ADAPTERS

    def amounts(by_currency: dict[str, Any]) -> str:
        return ", ".join(f"{currency} {amount:,.2f}" for currency, amount in sorted(by_currency.items())) or "-"

    names = sorted(summary.providers)
    table = {**summary.providers, "total": summary.totals()}
    columns = [
        output.Column("what", ""),
        *(output.Column(n, ADAPTERS[n].name, right=True) for n in names),
        output.Column("total", "total", right=True),
    ]
    labels = [
        ("administrations", "administrations"),
        ("invoices", "invoices"),
        ("open_invoices", "open"),
        ("open_amount", "open amount"),
        ("decisions", "decisions"),
        ("writebacks", "write-backs"),
        ("api_calls", "API calls"),
    ]
    rows = [
        {"what": label, **{n: amounts(table[n][key]) if key == "open_amount" else table[n][key] for n in table}}
        for key, label in labels
    ]
    title = f"What the demo did for a practice with {summary.clients} clients"
    output.print_table(columns, rows, title=title, show_all=True)
    cycle = summary.cycle
    output.console().print(
        f"took {summary.wall_seconds:,.0f} s; the providers' limits would have added "
        f"{summary.limit_wait_seconds / 60:,.1f} min of waiting (skipped: the sandboxes run on a simulated clock); "
        f"{cycle['done']} of {cycle['administrations']} administrations done, {cycle['parked']} parked until tomorrow"
    )


@app.command(rich_help_panel="Running it")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="gunicorn worker processes.")] = 2,
    threads: Annotated[int, typer.Option(help="Threads per worker (requests served at once by each).")] = 8,
    gunicorn: Annotated[bool, typer.Option(help="Serve with gunicorn (production).")] = True,
) -> None:
    """Serve the web app (webhooks, OAuth callbacks, dashboard, /api/v1) with gunicorn."""
    import os

    from connector import accounts, services
    from dashboard.security import refuse_open_exposure

    loaded = settings(service=True)
    rt = runtime(loaded)
    try:  # check before starting: which organisation the web app serves, and that the keys read its data
        services.choose_organisation(rt, None, create_if_none="default")
        refusal = refuse_open_exposure(host, has_accounts=accounts.has_users(rt))
    finally:
        rt.close()
    if refusal:
        fail(refusal)
    from connector.jobs import queue_problem

    problem = queue_problem(loaded)  # the web app enqueues every webhook it accepts
    if problem:
        fail(problem, code=FAILURE)
    if gunicorn:
        cmd = [sys.executable, "-m", "gunicorn", "--config", "python:dashboard.gunicorn_conf"]
        cmd += ["--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads), "dashboard.wsgi:app"]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, cmd)  # noqa: S606 - gunicorn takes this process: SIGTERM reaches its master directly
    from dashboard import create_app

    create_app(loaded).run(host=host, port=port)


@app.command(rich_help_panel="Running it")
def worker(
    workers: int = 2,
    periodic: Annotated[
        bool, typer.Option(help="Also enqueue the periodic schedules (--no-periodic: jobs only, beside a scheduler).")
    ] = True,
) -> None:
    """Run the huey consumer (jobs and periodic schedules)."""
    from huey.consumer import Consumer

    from connector.jobs import build_queue, queue_problem
    from connector.storage.db import ping

    loaded = settings(service=True)
    rt = runtime(loaded)
    ping(rt.engine)  # before the consumer starts: an unreachable database is one line, not a traceback per job
    problem = queue_problem(loaded)
    if problem:
        rt.close()
        fail(problem, code=FAILURE)
    queue = build_queue(loaded, lambda: rt)
    Consumer(queue.huey, workers=workers, worker_type="thread", flush_locks=True, periodic=periodic).run()


@app.command(rich_help_panel="Running it")
def sandbox(
    provider: Annotated[str, typer.Argument(help="moneybird, xero or exact.")],
    port: int = 8080,
    seed: int = 42,
) -> None:
    """Run a provider sandbox (emulator) on 127.0.0.1:PORT."""
    from sandboxes.runner import sandbox_factory

    _known_provider(provider)
    settings()
    output.say(f"{provider} sandbox on http://127.0.0.1:{port} (Ctrl-C stops it)")
    sandbox_factory(provider)(seed=seed).run(host="127.0.0.1", port=port)
