"""Several processes at once (``dunning run``, ``dunning sync``, the worker) against the three sandboxes: every
step reaches its debtor and its package once, and no process dies on a unique key.

Each case starts the processes in a random order with random head starts (seeded, so a failure can be replayed),
twice over: the second wave finds everything done and must send nothing new. Doubles are counted where they land:
the mailbox by Message-ID, each sandbox by what was written (docs/architecture.md#the-outbox-claims-each-item).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.concurrency.world import World, doubles, sent, start_world
from tests.dbs import database_url

CRASH_SIGNS = ("Traceback", "IntegrityError", "UniqueViolation", "duplicate key", "UNIQUE constraint")
CASES = [("sqlite", 2, 1), ("postgres", 2, 2), ("postgres", 4, 3), ("postgres", 8, 4)]


@pytest.fixture
def world_on(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with database_url(request.param, tmp_path) as url:
        world = start_world(tmp_path, url)
        yield world
        world.shutdown()


def _wave(world: World, processes: int, rng: random.Random) -> list[str]:
    """Start ``processes`` drivers (at least two that send) in a random order; what each one that failed said."""
    roles = ["run", "worker"] + [rng.choice(["run", "worker", "sync", "drain"]) for _ in range(processes - 2)]
    rng.shuffle(roles)
    running = []
    for role in roles:
        running.append((role, world.spawn(role)))
        time.sleep(rng.uniform(0, 0.3))
    failures = []
    for role, proc in running:
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0 or any(sign in err for sign in CRASH_SIGNS):
            failures.append(f"{role} exited {proc.returncode}:\n{err[-3000:]}")
    return failures


@pytest.mark.slow
@pytest.mark.parametrize(
    ("world_on", "processes", "seed"), CASES, indirect=["world_on"], ids=[f"{b}-{n}" for b, n, _ in CASES]
)
def test_processes_at_once_send_every_step_once(world_on: World, processes: int, seed: int) -> None:
    rng = random.Random(seed)
    first = _wave(world_on, processes, rng)
    assert not first, "a process crashed while others ran:\n" + "\n".join(first)
    after_first = sent(world_on)
    assert after_first["emails"] > 0, f"nothing was e-mailed, so nothing was tested: {after_first}"
    assert doubles(world_on) == dict.fromkeys(after_first, 0), (
        f"a step reached its debtor or its package twice (doubles per channel); sent: {after_first}"
    )
    second = _wave(world_on, processes, rng)
    assert not second, "a process crashed in the second wave:\n" + "\n".join(second)
    assert sent(world_on) == after_first, "the second wave, with everything done, sent again"
    pending = [i for i in world_on.outbox() if i.status == "pending" and i.attempts == 0]
    assert not pending, f"{len(pending)} item(s) left unsent although every process finished"


@pytest.mark.parametrize("world_on", ["sqlite", "postgres"], indirect=True)
def test_two_drains_at_once_send_each_queued_step_once(world_on: World) -> None:
    """docs/architecture.md#the-outbox-claims-each-item: the rules queue today's steps, then two drains start together
    (the command line beside a worker). Before every drain claimed its items, both sent most steps: 7 e-mails, ~40
    Moneybird and ~5 Xero write-backs twice in a world of this size."""
    decided = world_on.spawn("decide")
    _out, err = decided.communicate(timeout=600)
    assert decided.returncode == 0, f"the rules did not run: {err[-2000:]}"
    drains = [world_on.spawn("drain") for _ in range(2)]
    errors = [proc.communicate(timeout=600)[1] for proc in drains]
    assert all(proc.returncode == 0 for proc in drains), "a drain failed:\n" + "\n".join(e[-2000:] for e in errors)
    counts = sent(world_on)
    assert counts["emails"] > 1 and counts["moneybird"] > 0, f"too little was sent to show anything: {counts}"
    assert doubles(world_on) == dict.fromkeys(counts, 0), f"a step went out twice (sent: {counts})"
