"""The one clock: every "now" and "today" in the connector comes from here (or from a clock passed down).

Sits under everything else: the runtime holds a ``Clock`` callable (``utcnow`` by default) and passes it to
storage, the token manager, the rate budget and the adapters; code without a runtime calls ``utcnow``. "Today"
is always a calendar date in an organisation's time zone (``DEFAULT_TIMEZONE`` unless the organisation says
otherwise), never the machine's local date. Tests move this clock with time-machine, which moves every caller.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
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
