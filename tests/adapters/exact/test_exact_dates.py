"""Exact's ``/Date(ms)/`` values are CET/CEST wall-clock time (docs/providers/exact.md#dates): fixed DST vectors and
round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.exact.mapping import EXACT_ZONE
from connector.parsing import ms_date_to_date, ms_date_to_utc
from sandboxes.exact.render import ms_date, wall_ms

AMS = ZoneInfo("Europe/Amsterdam")


def wall(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> str:
    return f"/Date({int((datetime(y, mo, d, h, mi) - datetime(1970, 1, 1)).total_seconds() * 1000)})/"


@pytest.mark.parametrize(
    ("value", "instant"),
    [
        (wall(2026, 1, 15, 12), datetime(2026, 1, 15, 11, tzinfo=UTC)),  # CET = UTC+1
        (wall(2026, 7, 15, 12), datetime(2026, 7, 15, 10, tzinfo=UTC)),  # CEST = UTC+2
        (wall(2026, 3, 29, 1, 59), datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),  # last minute of CET in March
        (wall(2026, 3, 29, 3, 0), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # first minute of CEST
        (wall(2026, 10, 25, 1, 59), datetime(2026, 10, 24, 23, 59, tzinfo=UTC)),  # still CEST
        (wall(2026, 10, 25, 3, 0), datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),  # back to CET
        (wall(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # repeated hour: first (CEST) reading
        ("/Date(-86400000)/", datetime(1969, 12, 30, 23, tzinfo=UTC)),  # negative epochs occur
    ],
)
def test_fixed_vectors_across_the_switches(value: str, instant: datetime) -> None:
    assert ms_date_to_utc(value, zone=EXACT_ZONE) == instant


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 3, 28),
        date(2026, 3, 29),
        date(2026, 3, 30),
        date(2026, 10, 25),
        date(2026, 10, 26),
        date(2026, 12, 31),
        date(2027, 1, 1),
    ],
)
def test_due_dates_never_shift_a_day(day: date) -> None:
    assert ms_date_to_date(ms_date(day), zone=EXACT_ZONE) == day
    assert ms_date_to_date(ms_date(day), zone=UTC) == day  # midnight wall time: same day either way


def test_reading_cet_as_utc_would_be_wrong_around_midnight() -> None:
    late = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)  # 1 July 00:30 CEST
    assert ms_date_to_date(ms_date(late), zone=EXACT_ZONE) == date(2026, 7, 1)
    assert ms_date_to_utc(ms_date(late), zone=EXACT_ZONE) == late


instants = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)


@given(instants)
def test_round_trip_except_in_the_repeated_october_hour(moment: datetime) -> None:
    back = ms_date_to_utc(ms_date(moment), zone=EXACT_ZONE)
    if moment.astimezone(AMS).fold == 1:
        assert back == moment - timedelta(hours=1)  # Exact's format cannot tell the two 02:xx apart
    else:
        assert back == moment


@given(st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 1, 1)))
def test_dates_round_trip(day: date) -> None:
    assert ms_date_to_date(ms_date(day), zone=EXACT_ZONE) == day
    assert wall_ms(day) % 86_400_000 == 0
