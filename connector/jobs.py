"""Background jobs on huey: SqliteHuey by default, RedisHuey with ``DUNNING_QUEUE_URL=redis://``, immediate in tests.

``build_queue(settings, runtime_factory)`` creates the huey instance, registers the tasks (sync a connection,
process an inbox event, run the dunning rules, drain the outbox, an organisation's day cycle) and the periodic
schedules (incremental sync every 15 minutes, the daily reconciliation sweep and the daily cycle of sync, rules and
write-back: ``connector.cycle``), and returns the ``JobQueue`` port (``connector.ports``) the web app enqueues
through. The top of the pipeline: each task is sync, decide or the
outbox drain for one organisation.
Tasks receive primitive ids only, never tokens. Per-connection exclusion is a lease row in our database.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab

from connector import cycle, decide, inbox, outbox, sync
from connector.debtors import daily_checks, run_retention
from connector.errors import RateLimited, ReauthRequired, TransientError
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction

log = structlog.get_logger(__name__)
LEASE = timedelta(minutes=30)


def make_huey(settings: Settings) -> Huey:
    if settings.queue_immediate:
        return MemoryHuey("dunning", immediate=True)
    url = settings.queue_url
    if url.startswith("redis://") or url.startswith("rediss://"):
        return RedisHuey(settings.queue_name, url=url)
    path = url.split("///", 1)[1] if "///" in url else str(settings.var_dir / "queue.db")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(settings.queue_name, filename=path)


def queue_problem(settings: Settings) -> str | None:
    """Why the queue cannot be used (one line, what to do), or None when it answers: Redis must answer a PING
    within two seconds, a SQLite queue file must open and count its pending jobs
    (docs/operations.md#settings-checked-at-start). The URL's password is never shown."""
    if settings.queue_immediate:
        return None
    url = settings.queue_url
    if url.startswith(("redis://", "rediss://")):
        import redis

        where = url.split("@")[-1]
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
        except (redis.RedisError, OSError, ValueError) as exc:
            return (
                f"queue unreachable: Redis at {where} does not answer ({type(exc).__name__}); "
                "start it or fix DUNNING_QUEUE_URL"
            )
        return None
    path = Path(url.split("///", 1)[1] if "///" in url else settings.var_dir / "queue.db")
    if not path.exists():
        return None  # made by the first worker or web process; checking creates nothing
    import sqlite3

    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2)) as db:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        return f"queue unusable: {path} ({exc}); fix DUNNING_QUEUE_URL or the file's permissions"
    return None


class HueyQueue:
    """The ``JobQueue`` port over huey."""

    def __init__(self, huey: Huey, tasks: Mapping[str, Any]) -> None:
        self.huey = huey
        self.tasks = dict(tasks)

    def enqueue(self, name: str, key: str, payload: Mapping[str, Any], eta: datetime | None = None) -> None:
        task = self.tasks[name]
        if eta is not None:
            task.schedule(kwargs=dict(payload), eta=eta)
        else:
            task(**payload)


def with_lease(rt: Runtime, org_id: int, name: str, work: Callable[[], Any]) -> Any:
    """Run ``work`` while holding the named lease; skip (return None) when another worker holds it."""
    holder = f"{id(rt)}:{secrets.token_hex(8)}"  # who holds the lease: unique per call
    now = rt.clock()
    with transaction(rt.sessions) as s:
        if not repos.try_lease(s, org_id, name, holder, now + LEASE, now):
            log.info("job.lease_busy", lease=name)
            return None
    try:
        return work()
    finally:
        with transaction(rt.sessions) as s:
            repos.release_lease(s, org_id, name, holder)


def _checked_run(rt: Runtime, org_id: int, today: date) -> decide.RunReport:
    """Holds that ended, promises kept or broken, instalments paid or missed: settled before the rules run."""
    daily_checks(rt, org_id, today)
    return decide.run_dunning(rt, org_id, today)


def _organisations(rt: Runtime) -> list[int]:
    """Every organisation this installation serves (the periodic tasks act for each in turn)."""
    with rt.sessions() as s:
        return [org_id for org_id, _name in repos.list_organisations(s)]


def build_queue(settings: Settings, runtime: Callable[[], Runtime]) -> HueyQueue:
    huey = make_huey(settings)

    @huey.task(retries=3, retry_delay=60)
    def sync_connection(org_id: int, connection_id: int, full: bool = False) -> dict[str, Any]:
        rt = runtime()
        try:
            report = with_lease(
                rt, org_id, f"sync:{connection_id}", lambda: sync.sync_connection(rt, org_id, connection_id, full=full)
            )
        # rescheduled at the reset instead of blocking a worker (docs/architecture.md#retries-and-retry-after)
        except RateLimited as exc:
            if exc.until is None:
                raise
            sync_connection.schedule(args=(org_id, connection_id, full), eta=exc.until)
            return {"rescheduled": exc.until.isoformat()}
        except ReauthRequired:
            return {"needs_reauth": True}  # the connection is marked; its jobs stop until the user reconnects
        return {"pages": report.pages, "api_calls": report.api_calls} if report else {}

    @huey.task()
    def process_event(org_id: int | None, event_id: int) -> str:
        return inbox.process_event(runtime(), org_id, event_id)

    @huey.task()
    def run_dunning(org_id: int, run_date: str | None = None, drain: bool = True) -> int:
        rt = runtime()
        # the organisation's calendar day, not the UTC one: a run just after midnight belongs to the new day
        today = date.fromisoformat(run_date) if run_date else rt.today(org_id)
        report = with_lease(rt, org_id, "dunning", lambda: _checked_run(rt, org_id, today))
        if drain:
            drain_outbox(org_id)
        return report.decisions if report else 0

    @huey.task()
    def drain_outbox(org_id: int) -> int:
        rt = runtime()
        report = with_lease(rt, org_id, "outbox", lambda: outbox.drain(rt, org_id))
        return report.done if report else 0

    def _each_connection(full: bool) -> None:
        rt = runtime()
        with rt.sessions() as s:  # read, then enqueue outside: an immediate queue syncs inline and SQLite would
            rows = repos.active_connections(s)  # still hold this session's write lock -> "database is locked"
        for org_id, connection_id in rows:
            sync_connection(org_id, connection_id, full)

    @huey.periodic_task(crontab(minute="*/15"))
    def incremental_sync() -> None:
        _each_connection(full=False)

    @huey.periodic_task(crontab(minute="*"))
    def deliver_webhooks() -> None:
        """Outbound webhooks due now, every minute (docs/api.md#outbound-webhooks)."""
        from connector.notify import deliver_all

        deliver_all(runtime())

    @huey.periodic_task(crontab(minute="30", hour="2"))
    def reconciliation_sweep() -> None:
        _each_connection(full=True)
        rt = runtime()
        for org_id in _organisations(rt):
            for event_id in inbox.due_events(rt, org_id, rt.clock()):
                process_event(org_id, event_id)

    @huey.periodic_task(crontab(minute="45", hour="3"))
    def retention() -> None:
        """The retention table's daily purges (``connector.debtors.retention``): synced copies of administrations
        disconnected for 30 days, letters whose claim can no longer be enforced, webhook bodies after 30 days;
        each logged in the audit trail without personal data."""
        rt = runtime()
        for org_id in _organisations(rt):
            run_retention(rt, org_id)

    @huey.periodic_task(crontab(minute="15", hour="3"))
    def token_keepalive() -> None:
        """docs/architecture.md#tokens: refresh tokens die unused (Exact 30 days, Xero 60): exercise idle ones at 20
        days."""
        rt = runtime()
        now = rt.clock()
        rt.tokens.expire_idle(now)
        for connection_id in rt.tokens.keepalive_due(now):
            try:
                rt.tokens.keepalive(connection_id)
            except (ReauthRequired, TransientError) as exc:
                log.warning("token.keepalive_failed", connection_id=connection_id, error=type(exc).__name__)

    @huey.task()
    def day_cycle(org_id: int) -> dict[str, object]:
        """Sync, rules and write-back of every administration of the organisation, dealt fairly over the providers'
        limits; one parked by a daily limit resumes in tomorrow's cycle (docs/operations.md#capacity)."""
        rt = runtime()
        report: cycle.CycleReport | None = with_lease(rt, org_id, "dunning", lambda: cycle.run_cycle(rt, [org_id]))
        if report is None:
            return {}
        cycle.finish_connections(rt, [org_id], report)
        log.info("cycle.done", org_id=org_id, **report.as_dict())
        return report.as_dict()

    @huey.periodic_task(crontab(minute="0", hour="7"))
    def daily_dunning() -> None:
        for org_id in _organisations(runtime()):
            day_cycle(org_id)

    tasks = {
        "sync_connection": sync_connection,
        "process_event": process_event,
        "run_dunning": run_dunning,
        "drain_outbox": drain_outbox,
        "incremental_sync": incremental_sync,
        "reconciliation_sweep": reconciliation_sweep,
        "token_keepalive": token_keepalive,
        "retention": retention,
        "daily_dunning": daily_dunning,
        "day_cycle": day_cycle,
    }
    return HueyQueue(huey, tasks)
