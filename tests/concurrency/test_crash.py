"""SIGKILL anywhere: ``dunning sync``, ``dunning run``, the worker and bare drains killed at random moments, many
times over several days, then one clean pass; the world must end as if nothing had been killed.

Per backend, batches of four processes start together (random roles) and each is killed at a random moment
inside the time its role last took when it finished first (so the kills land mid-way whatever the machine's
speed); every third batch is a day later, so there is new work to be killed in. The clean pass runs
an hour after the last kill, when every claim a killed drain left has lapsed
(docs/architecture.md#the-outbox-claims-each-item). Then: nothing reached a debtor or a package twice, no item is
left pending or claimed, every reminder level recorded with a message has its outbox item (no decision lost), and
every e-mail recorded as sent is in the mailbox.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.storage import tables
from tests.concurrency.world import DAY_SECONDS, World, doubles, sent, start_world
from tests.dbs import database_url

ROLES = ("sync", "run", "worker", "drain")
BATCH = 4
FIRST_GUESS = 6.0  # seconds: the longest delay before a role has been seen to finish on this machine
CASES = [("sqlite", 13, 11), ("postgres", 13, 12)]  # (backend, batches, seed): 2 x 13 x 4 = 104 killed runs


@pytest.fixture
def world_on(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with database_url(request.param, tmp_path) as url:
        world = start_world(tmp_path, url)
        yield world
        world.shutdown()


def _killed_batch(world: World, rng: random.Random, later: float, took: dict[str, float]) -> int:
    """Four processes, each SIGKILLed at a random moment inside the time its role took when last left alone
    (``took``, updated here), so the kills land mid-way on a fast machine as on a slow one; how many were killed."""
    roles = [rng.choice(ROLES) for _ in range(BATCH)]
    running = [world.spawn(role, later=later) for role in roles]
    started = time.monotonic()
    deadlines = [started + rng.uniform(0.15, 0.9) * took.get(role, FIRST_GUESS) for role in roles]
    waiting, killed = set(range(BATCH)), 0
    while waiting:
        now = time.monotonic()
        for i in sorted(waiting):
            if running[i].poll() is not None:
                took[roles[i]] = now - started  # it finished first: aim inside that next time
                waiting.discard(i)
            elif now >= deadlines[i]:
                running[i].send_signal(signal.SIGKILL)
                killed += 1
                waiting.discard(i)
        time.sleep(0.02)
    for proc in running:
        proc.communicate(timeout=600)
    return killed


def _clean(world: World, role: str, later: float) -> None:
    proc = world.spawn(role, later=later)
    _out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, f"the clean {role} after the kills failed:\n{err[-3000:]}"


@pytest.mark.slow
@pytest.mark.parametrize(("world_on", "batches", "seed"), CASES, indirect=["world_on"], ids=[c[0] for c in CASES])
def test_killed_anywhere_the_world_converges_without_doubles(world_on: World, batches: int, seed: int) -> None:
    rng = random.Random(seed)
    killed, later, took = 0, 0.0, dict[str, float]()
    for batch in range(batches):
        later = (batch // 3) * DAY_SECONDS
        killed += _killed_batch(world_on, rng, later, took)
    assert killed >= batches * BATCH // 2, f"only {killed} of {batches * BATCH} processes were killed mid-way"
    settle = later + 3600  # every claim a killed drain held has lapsed by then
    for role in ("sync", "run"):
        _clean(world_on, role, settle)
    counts = sent(world_on)
    assert counts["emails"] > 0, f"nothing was sent, so nothing was tested: {counts}"
    assert doubles(world_on) == dict.fromkeys(counts, 0), f"a killed process made a step go out twice: {counts}"
    items = world_on.outbox()
    stuck = [(i.id, i.status, i.last_error) for i in items if i.status == "pending" and i.attempts == 0]
    assert not stuck, f"items left unsent after the clean pass: {stuck}"
    with world_on.run.runtime.sessions() as s:
        states = s.query(tables.ReminderState).filter(tables.ReminderState.last_message_on.is_not(None)).all()
        claimed = s.query(tables.OutboxItem).filter(tables.OutboxItem.claimed_by.is_not(None)).count()
    assert claimed == 0 or all(i.status != "pending" for i in items), "a pending item is still claimed"
    queued = {(i.administration_id, ref, i.level, i.run_date) for i in items for ref in i.invoice_refs}
    lost = [
        (st.invoice_ref, st.level, st.last_message_on)
        for st in states
        if (st.administration_id, st.invoice_ref, st.level, st.last_message_on) not in queued
    ]
    assert not lost, f"levels recorded with a message but without their outbox item (lost decisions): {lost[:10]}"
    mailed = {i.payload.delivered.message_id for i in items if i.payload.delivered and i.payload.delivered.message_id}
    in_mailbox = {m["Message-ID"] for m in world_on.run.mailbox.messages()}
    assert mailed <= in_mailbox, f"recorded as e-mailed but never sent: {sorted(mailed - in_mailbox)[:5]}"
