"""The suite-wide clock switch (``sitecustomize.py`` beside this file) really moves the clock.

``./scripts/test`` runs the date-sensitive suites again with ``DUNNING_TEST_NOW`` set; these tests make sure that
run is not silently on the real date: a child interpreter started with the switch lives on the asked day, its own
children share its offset, a value the switch cannot use stops the interpreter, and, inside a moved run, this
process and a plain subprocess (as the CLI tests start them) are moved by the run's offset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from connector import clock

SWITCH_DIR = Path(__file__).resolve().parent
ROOT = SWITCH_DIR.parent.parent

# A child reports its clock, its real clock and its own child's clock; the pause shows whether the grandchild
# continues the child's offset (same moment) or starts again from the destination (two seconds too early).
REPORT = """
import json, subprocess, sys, time
import time_machine
from connector import clock

def real() -> float:
    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else time.time()

report = {"now": clock.utcnow().isoformat(), "today": clock.today().isoformat(), "real": real()}
if len(sys.argv) > 1:
    time.sleep(2)
    report["pause_ended"] = clock.utcnow().isoformat()
    child = subprocess.run([sys.executable, "-c", sys.argv[1]], capture_output=True, text=True, check=True)
    report["child"] = json.loads(child.stdout)
print(json.dumps(report))
"""


def _environment(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_TEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SWITCH_DIR), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(variables)
    return env


def _report(env: dict[str, str], *, with_child: bool = False) -> dict[str, object]:
    args = [sys.executable, "-c", REPORT] + ([REPORT] if with_child else [])
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, f"the reporting child failed: {result.stderr}"
    report: dict[str, object] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize(
    ("destination", "day"),
    [
        ("2028-02-29T09:30:00+01:00", date(2028, 2, 29)),
        ("2027-12-31T22:00:00+01:00", date(2027, 12, 31)),
        ("2028-01-01T00:30:00+01:00", date(2028, 1, 1)),  # still 31 December in UTC
    ],
)
def test_a_child_started_with_the_switch_lives_on_that_day(destination: str, day: date) -> None:
    report = _report(_environment(DUNNING_TEST_NOW=destination), with_child=True)
    start = datetime.fromisoformat(destination)
    now = datetime.fromisoformat(str(report["now"]))
    assert report["today"] == day.isoformat(), "the organisation's today is the asked day"
    assert start <= now < start + timedelta(minutes=1), f"the child's clock starts at {destination}: {now}"
    child = report["child"]
    assert isinstance(child, dict)
    pause_ended = datetime.fromisoformat(str(report["pause_ended"]))
    grandchild_now = datetime.fromisoformat(str(child["now"]))
    assert pause_ended - now >= timedelta(seconds=2), "the moved clock ticks"
    assert grandchild_now >= pause_ended, "a grandchild continues its parent's offset, it does not start over"
    assert grandchild_now - pause_ended < timedelta(minutes=1), "a grandchild is moved by the same offset"


def test_without_the_variable_the_switch_does_nothing() -> None:
    report = _report(_environment())
    now = datetime.fromisoformat(str(report["now"]))
    real = datetime.fromtimestamp(float(str(report["real"])), tz=now.tzinfo)
    assert abs(now - real) < timedelta(seconds=5), "no DUNNING_TEST_NOW: the real clock"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("next tuesday", "is not an ISO date-time"),
        ("2028-02-29T09:30:00", "needs a UTC offset"),
        ("2028-02-30T09:30:00+01:00", "is not an ISO date-time"),
    ],
)
def test_a_value_the_switch_cannot_use_stops_the_interpreter(value: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "print('ran')"],
        env=_environment(DUNNING_TEST_NOW=value),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, f"a broken switch must not let the run go on: {result.stdout!r}"
    assert result.stdout == "", "nothing ran"
    assert message in result.stderr


@pytest.mark.skipif(
    not os.environ.get("DUNNING_TEST_NOW"),
    reason="checks a moved-clock run; ./scripts/test runs it with DUNNING_TEST_NOW set",
)
def test_this_run_and_its_subprocesses_are_moved() -> None:
    offset = timedelta(seconds=float(os.environ["DUNNING_TEST_CLOCK_OFFSET"]))
    assert time_machine.escape_hatch.is_travelling(), "the switch started time-machine in this process"
    moved = clock.utcnow() - time_machine.escape_hatch.datetime.datetime.now(clock.utcnow().tzinfo)
    assert abs(moved - offset) < timedelta(seconds=5), f"this process is moved by the run's offset: {moved}"
    report = _report({**os.environ})  # a subprocess as the CLI tests start one: the inherited environment
    child_now = datetime.fromisoformat(str(report["now"]))
    child_real = datetime.fromtimestamp(float(str(report["real"])), tz=child_now.tzinfo)
    assert abs((child_now - child_real) - offset) < timedelta(seconds=5), "a subprocess shares the run's offset"
