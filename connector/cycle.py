"""The day's cycle: every administration synced, its rules run and its outbox drained, fairly, within the limits.

Sits at the top of the pipeline beside ``connector.jobs`` (whose daily task runs it for each organisation) and is
what ``dunning demo --clients N`` and ``bench/daycycle.py`` run (docs/operations.md#capacity). Each administration
is one turn in a queue; turns are dealt round robin over the lanes that limits are counted in (the provider tenant,
or the connection where the provider counts per token: Moneybird), so a practice's hundred Moneybird clients never
hold up its Xero clients. A turn syncs the administration, runs its rules and drains its outbox. When the shared
rate budget refuses a call, the turn goes back with its place kept until the instant the budget names, its whole
lane (or, for an app-wide limit, the whole provider) waits with it, and the cycle carries on with the other lanes;
it sleeps only when no turn is ready. A turn stopped by a daily limit is parked: the budget keeps the park and the
next day's cycle resumes it where its cursors left off. Nothing is retried beyond ``horizon``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import structlog

from connector import decide, outbox, sync
from connector.debtors import daily_checks
from connector.errors import ConnectorError, RateLimited, ReauthRequired
from connector.ports import AccountingAdapter
from connector.registry import adapter_class
from connector.rules.interest import RateTable
from connector.rules.policy import Policy
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import transaction

log = structlog.get_logger(__name__)
Lane = tuple[str, str]
STEPS = ("sync", "decide", "drain")
SLACK = timedelta(milliseconds=50)  # come back just after the instant a slot frees, not on it


@dataclass
class Turn:
    """One administration's place in the cycle: the step it is at and the instant it may go on."""

    seq: int
    adm: tables.Administration
    provider: str
    lane: Lane
    today: date
    step: str = "sync"
    ready_at: datetime | None = None
    resumed: bool = False  # refused once: a full sync goes on from the cursors it stored, never from the start


@dataclass
class CycleReport:
    started_at: datetime
    finished_at: datetime | None = None
    administrations: int = 0
    synced: int = 0
    done: int = 0
    invoices_changed: int = 0
    decisions: Counter[str] = field(default_factory=Counter)  # per provider, as the calls and write-backs
    writebacks: Counter[str] = field(default_factory=Counter)
    api_calls: Counter[str] = field(default_factory=Counter)
    refusals: int = 0  # turns the rate budget sent back to wait for their lane
    waited_seconds: float = 0.0  # time the cycle slept because no turn was ready
    parked: list[int] = field(default_factory=list)  # administrations stopped by a daily limit: resume next day
    unfinished: list[int] = field(default_factory=list)  # still waiting at the horizon
    failed: dict[int, str] = field(default_factory=dict)
    synced_after: dict[int, float] = field(default_factory=dict)  # seconds from the start until synced
    done_after: dict[int, float] = field(default_factory=dict)  # seconds from the start until written back

    def as_dict(self) -> dict[str, object]:
        waits = sorted(self.done_after.values())
        return {
            "administrations": self.administrations,
            "synced": self.synced,
            "done": self.done,
            "decisions": sum(self.decisions.values()),
            "writebacks": sum(self.writebacks.values()),
            "api_calls": dict(sorted(self.api_calls.items())),
            "refusals": self.refusals,
            "waited_seconds": round(self.waited_seconds, 1),
            "parked": len(self.parked),
            "unfinished": len(self.unfinished),
            "failed": len(self.failed),
            "done_after_p50_seconds": round(waits[len(waits) // 2], 1) if waits else None,
            "done_after_max_seconds": round(waits[-1], 1) if waits else None,
        }


def lane_of(provider: str, adm: tables.Administration) -> Lane:
    """Where the administration's calls are counted: its tenant, or its connection when the provider counts per
    token (docs/architecture.md#rate-budget)."""
    scopes = {limit.scope for limit in adapter_class(provider).limits}
    return (provider, adm.provider_tenant_id if "tenant" in scopes else f"connection:{adm.connection_id}")


def deal(turns: Sequence[Turn]) -> list[Turn]:
    """Round robin over the lanes: the first turn of every lane, then the second of every lane, and so on."""
    lanes: dict[Lane, list[Turn]] = {}
    for turn in turns:
        lanes.setdefault(turn.lane, []).append(turn)
    dealt: list[Turn] = []
    depth = max((len(queue) for queue in lanes.values()), default=0)
    for index in range(depth):
        dealt.extend(queue[index] for queue in lanes.values() if index < len(queue))
    for seq, turn in enumerate(dealt):
        turn.seq = seq
    return dealt


class FairQueue:
    """Turns in dealt order; a turn goes when it and its lane (and its provider) are free again."""

    def __init__(self, turns: Sequence[Turn]) -> None:
        self.turns = list(turns)
        self.lane_free_at: dict[Lane, datetime] = {}
        self.provider_free_at: dict[str, datetime] = {}

    def ready_at(self, turn: Turn) -> datetime | None:
        moments = [
            m for m in (turn.ready_at, self.lane_free_at.get(turn.lane), self.provider_free_at.get(turn.provider)) if m
        ]
        return max(moments) if moments else None

    def next_ready(self, now: datetime) -> Turn | None:
        """The earliest-dealt turn that may go now (it keeps its place while it waits)."""
        for turn in self.turns:
            at = self.ready_at(turn)
            if at is None or at <= now:
                return turn
        return None

    def earliest(self) -> datetime | None:
        moments = [m for m in (self.ready_at(turn) for turn in self.turns) if m is not None]
        return min(moments) if moments else None

    def refused(self, turn: Turn, until: datetime, *, whole_provider: bool) -> None:
        if whole_provider:
            self.provider_free_at[turn.provider] = until
        else:
            self.lane_free_at[turn.lane] = until

    def remove(self, turn: Turn) -> None:
        self.turns.remove(turn)


def plan(rt: Runtime, org_ids: Sequence[int]) -> list[Turn]:
    """A turn for every administration of every active connection, dealt round robin over the lanes."""
    turns: list[Turn] = []
    for org_id in org_ids:
        today = rt.today(org_id)
        with rt.sessions() as s:
            connections = [c for c in repos.list_connections(s, org_id) if c.status == "active"]
        for connection in connections:
            try:
                administrations = sync.discover_administrations(rt, org_id, connection.id)
            except ConnectorError as exc:  # the connection says what is wrong; its stored administrations still run
                log.warning("cycle.discover_failed", connection_id=connection.id, error=type(exc).__name__)
                with rt.sessions() as s:
                    administrations = repos.list_administrations(s, org_id, connection.id)
            for adm in administrations:
                if not adm.suspended:
                    turns.append(Turn(0, adm, connection.provider, lane_of(connection.provider, adm), today))
    return deal(turns)


def run_cycle(
    rt: Runtime,
    org_ids: Sequence[int],
    *,
    full: bool = False,
    horizon: timedelta = timedelta(hours=20),
    on_turn: Callable[[Turn, CycleReport], None] | None = None,
) -> CycleReport:
    """Sync, decide and drain every administration of ``org_ids`` under the shared budget; what happened."""
    start = rt.clock()
    report = CycleReport(started_at=start)
    for org_id in org_ids:
        daily_checks(rt, org_id, rt.today(org_id))  # holds, promises and arrangements settled before the rules run
    policies, rates = decide.load_rules(rt)
    queue = FairQueue(plan(rt, org_ids))
    report.administrations = len(queue.turns)
    adapters: dict[int, AccountingAdapter] = {}
    app_scopes = {"app"} | {x.name for t in queue.turns for x in adapter_class(t.provider).limits if x.scope == "app"}
    end = start + horizon
    with rt.budget.without_waiting():
        while queue.turns:
            now = rt.clock()
            turn = queue.next_ready(now)
            if turn is None:
                at = queue.earliest()
                if at is None or at > end:
                    report.unfinished.extend(t.adm.id for t in queue.turns)
                    break
                pause = max((at - now).total_seconds(), 0.0)
                rt.sleep(pause)
                report.waited_seconds += pause
                continue
            try:
                finished = _advance(rt, turn, adapters, report, (policies, rates), (start, end), full=full)
            except RateLimited as exc:
                until = (exc.until or rt.clock() + timedelta(seconds=60)) + SLACK
                if exc.scope == "day" or until > end:  # docs/operations.md#capacity: resumes next day
                    report.parked.append(turn.adm.id)
                    queue.remove(turn)
                    continue
                report.refusals += 1
                turn.ready_at, turn.resumed = until, True
                queue.refused(turn, until, whole_provider=exc.scope in app_scopes)
                continue
            except ReauthRequired as exc:
                _drop_connection(queue, turn, report, str(exc))
                continue
            except ConnectorError as exc:
                log.warning("cycle.turn_failed", administration_id=turn.adm.id, step=turn.step, error=str(exc))
                report.failed[turn.adm.id] = f"{turn.step}: {exc}"
                queue.remove(turn)
                continue
            if finished:
                queue.remove(turn)
            elif turn.ready_at is not None:  # its write-back waits for a limit: so does the rest of its lane
                queue.refused(turn, turn.ready_at, whole_provider=False)
            if on_turn is not None:
                on_turn(turn, report)
    report.finished_at = rt.clock()
    return report


def _advance(
    rt: Runtime,
    turn: Turn,
    adapters: dict[int, AccountingAdapter],
    report: CycleReport,
    rules: tuple[dict[str, Policy], RateTable],
    window: tuple[datetime, datetime],
    *,
    full: bool,
) -> bool:
    """Take the turn's steps in order until one must wait; True when the administration is done for today."""
    adm, (start, end) = turn.adm, window
    turn.ready_at = None  # it goes now
    if adm.connection_id not in adapters:
        with rt.sessions() as s:
            adapters[adm.connection_id] = rt.adapter_for(repos.get_connection(s, adm.org_id, adm.connection_id))
    calls_before = rt.calls_for(adm.connection_id)
    try:
        if turn.step == "sync":
            synced = sync.sync_administration(rt, adapters[adm.connection_id], adm, full=full and not turn.resumed)
            report.invoices_changed += synced.changed["invoices"]
            report.synced += 1
            report.synced_after[adm.id] = (rt.clock() - start).total_seconds()
            turn.step = "decide"
        if turn.step == "decide":
            run = decide.run_administration(rt, adm, turn.today, *rules)
            report.decisions[turn.provider] += run.decisions
            turn.step = "drain"
        drained = outbox.drain(rt, adm.org_id, administration_id=adm.id)
        report.writebacks[turn.provider] += drained.writebacks
    finally:
        report.api_calls[turn.provider] += rt.calls_for(adm.connection_id) - calls_before
    with rt.sessions() as s:
        again = repos.next_outbox_attempt(s, adm.org_id, adm.id)
    now = rt.clock()
    if again is not None and now < again <= end:
        turn.ready_at = again + SLACK  # written back later today (a provider asked us to wait); its place is kept
        return False
    if again is not None and again <= now and drained.done:
        return False  # more due than one drain takes: the turn goes on at once (while it gets somewhere)
    report.done += 1
    report.done_after[adm.id] = (rt.clock() - start).total_seconds()
    return True


def _drop_connection(queue: FairQueue, turn: Turn, report: CycleReport, reason: str) -> None:
    """The provider refused the connection's token: none of its administrations can go on today."""
    for other in [t for t in queue.turns if t.adm.connection_id == turn.adm.connection_id]:
        report.failed[other.adm.id] = f"{other.step}: {reason}"
        queue.remove(other)


def finish_connections(rt: Runtime, org_ids: Sequence[int], report: CycleReport) -> None:
    """Connections whose administrations all synced get their last sync instant (what `dunning doctor` shows)."""
    for org_id in org_ids:
        with transaction(rt.sessions) as s:
            for connection in repos.list_connections(s, org_id):
                ids = [a.id for a in repos.list_administrations(s, org_id, connection.id) if not a.suspended]
                if ids and all(i in report.synced_after for i in ids):
                    connection.last_sync_at = rt.clock()
