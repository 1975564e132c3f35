"""The day's cycle over a practice's clients (connector.cycle, docs/operations.md#capacity): every administration
synced, decided and written back within the providers' limits, none starved, a daily limit parking until the next
day. Real HTTP against the three sandboxes with their limits scaled down (here and in our declared limits alike),
on a simulated clock so that waiting for a window costs no wall time."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.exact.provider import ExactAdapter
from adapters.moneybird.provider import MoneybirdAdapter
from adapters.xero.provider import XeroAdapter
from connector import cycle, demo, demo_practice
from connector.clock import SimulatedClock
from connector.ports import RateLimit
from connector.settings import Settings
from connector.storage import repos

# scaled down so that a few dozen small clients need several windows of each
MONEYBIRD_WINDOW = (40, 300)  # calls per seconds, per connection (real: 150 / 300)
XERO_APP_MINUTE = 30  # calls per minute over every tenant of the app (real: 10,000)
EXACT_DAY = 5  # calls per division per day (real: 5,000)


def _rejected(run: demo.DemoRun) -> dict[str, int]:
    """429s each sandbox answered (a limit we overstepped)."""
    return {
        name: sum(1 for _method, _path, status in server.app.extensions["sandbox"].request_log if status == 429)
        for name, server in run.sandboxes.items()
    }


def _connect(run: demo.DemoRun) -> list[int]:
    for provider in run.sandboxes:
        demo.connect(run, provider)
    with run.runtime.sessions() as s:
        administrations = repos.list_administrations(s, run.org_id)
    return [a.id for a in administrations]


def _providers(run: demo.DemoRun) -> dict[int, str]:
    with run.runtime.sessions() as s:
        kinds = {c.id: c.provider for c in repos.list_connections(s, run.org_id)}
        return {a.id: kinds[a.connection_id] for a in repos.list_administrations(s, run.org_id)}


@pytest.fixture
def practice(tmp_path: Path, installation_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[demo.DemoRun]:
    calls, seconds = MONEYBIRD_WINDOW
    monkeypatch.setattr(MoneybirdAdapter, "limits", (RateLimit(calls, seconds, scope="connection", name="5min"),))
    monkeypatch.setattr(
        XeroAdapter,
        "limits",
        (
            RateLimit(60, 60, scope="tenant", name="minute"),
            RateLimit(5000, 86400, scope="tenant", name="day"),
            RateLimit(XERO_APP_MINUTE, 60, scope="app", name="app_minute"),
        ),
    )
    settings = Settings(var_dir=tmp_path / "var", database_url=installation_db)
    run = demo_practice.start(
        settings,
        36,
        sizes=[4 + index % 5 for index in range(36)],  # 12 small clients per package
        options={
            "moneybird": {"rate_limit_per_window": calls, "rate_limit_window_seconds": seconds},
            "xero": {"app_minute_limit": XERO_APP_MINUTE},
        },
    )
    yield run
    run.shutdown()


def test_every_client_is_done_within_the_limits_and_none_waits_behind_another_package(
    practice: demo.DemoRun,
) -> None:
    ids = _connect(practice)
    rejected_at_connect = _rejected(practice)
    report = cycle.run_cycle(practice.runtime, [practice.org_id])
    kinds = _providers(practice)
    assert report.administrations == len(ids) == 36, "every client administration takes part"
    assert sorted(report.done_after) == sorted(ids), f"not done: {sorted(set(ids) - set(report.done_after))}"
    assert (report.parked, report.failed, report.unfinished) == ([], {}, []), "nothing parked, failed or left"
    assert _rejected(practice) == rejected_at_connect == {"exact": 0, "moneybird": 0, "xero": 0}, "no 429 at all"
    assert report.waited_seconds > 0, "the scaled-down limits made the cycle wait (or this test proves nothing)"
    # within Moneybird's one lane (one connection), first dealt is first done: nobody overtakes, nobody starves
    moneybird_order = [i for i in report.done_after if kinds[i] == "moneybird"]
    assert moneybird_order == sorted(moneybird_order), "the Moneybird lane is served in dealt order"
    # the wait is bounded by what each package's limit imposes on its own calls, not by the other packages
    windows = {"moneybird": MONEYBIRD_WINDOW, "xero": (XERO_APP_MINUTE, 60)}
    for provider, (calls, seconds) in windows.items():
        finished = max(report.done_after[i] for i in ids if kinds[i] == provider)
        bound = math.ceil(report.api_calls[provider] / calls) * seconds + 120  # + the wall time of the work itself
        assert finished <= bound, f"{provider}: last client done after {finished:.0f} s, its limits allow {bound} s"
    exact_last = max(report.done_after[i] for i in ids if kinds[i] == "exact")
    moneybird_last = max(report.done_after[i] for i in ids if kinds[i] == "moneybird")
    assert exact_last < MONEYBIRD_WINDOW[1] < moneybird_last, "Exact's clients never wait for Moneybird's windows"


@pytest.fixture
def day_limited(tmp_path: Path, installation_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[demo.DemoRun]:
    monkeypatch.setattr(
        ExactAdapter,
        "limits",
        (
            RateLimit(calls=60, seconds=60, scope="tenant", name="minute"),
            RateLimit(calls=EXACT_DAY, seconds=86400, scope="tenant", name="day"),
        ),
    )
    settings = Settings(var_dir=tmp_path / "var", database_url=installation_db)
    run = demo_practice.start(
        settings, 3, providers=["exact"], sizes=[6, 6, 6], options={"exact": {"day_limit": EXACT_DAY}}
    )
    yield run
    run.shutdown()


def test_an_administration_parked_by_a_daily_limit_resumes_the_next_day(day_limited: demo.DemoRun) -> None:
    rt = day_limited.runtime
    clock = rt.clock
    assert isinstance(clock, SimulatedClock)
    ids = _connect(day_limited)
    done: set[int] = set()
    days = []
    for _day in range(6):
        report = cycle.run_cycle(rt, [day_limited.org_id])
        done |= set(report.done_after)
        days.append((len(report.parked), len(report.done_after)))
        if done == set(ids):
            break
        assert report.parked, "a day that leaves work undone parks it"
        clock.sleep(86400)  # the next day's cycle
    assert days[0][0] > 0, f"the first day parks someone (days: {days})"
    assert done == set(ids), f"every administration is done within a few days (days: {days})"
    assert _rejected(day_limited) == {"exact": 0}, "the daily limit is kept, never overstepped"
