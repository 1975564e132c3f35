"""The one clock: every "now" and "today" in the connector comes from here (or from a clock passed down).

Sits under everything else: the runtime holds a ``Clock`` callable (``utcnow`` by default) and passes it to
storage, the token manager, the rate budget and the adapters; code without a runtime calls ``utcnow``. "Today"
is always a calendar date in an organisation's time zone (``DEFAULT_TIMEZONE`` unless the organisation says
otherwise), never the machine's local date. Tests move this clock with time-machine, which moves every caller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Amsterdam"

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(UTC)


def today(tz: str = DEFAULT_TIMEZONE, *, clock: Clock = utcnow) -> date:
    """The calendar date it is now in ``tz``."""
    return local_date(clock(), tz)


def local_date(instant: datetime, tz: str = DEFAULT_TIMEZONE) -> date:
    """The calendar date of an aware ``instant`` in ``tz`` (a call at 00:30 in Amsterdam is on that day, not on
    the UTC day before)."""
    return instant.astimezone(ZoneInfo(tz)).date()


class SimulatedClock:
    """Real time plus every sleep taken on it, skipped at once (docs/operations.md#capacity).

    The practice demo and the day-cycle benchmark hand one to the sandboxes, the runtime and the rate budget: a
    provider limit that makes us wait five minutes costs no wall time, while every limit is still enforced (by the
    sandboxes, on their side of the wire) in this clock's time, which runs on with the work between the waits.
    ``waited`` is the time skipped; ``elapsed()`` the time the run took by this clock (work plus waits).
    """

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._start, self._monotonic, self._origin = start, monotonic, monotonic()
        self._lock = threading.Lock()
        self.waited = 0.0

    def __call__(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._monotonic() - self._origin + self.waited)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.waited += seconds

    def elapsed(self) -> float:
        return (self() - self._start).total_seconds()
