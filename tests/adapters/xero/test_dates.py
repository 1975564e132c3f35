"""``/Date(ms±hhmm)/`` parsing (connector/parsing.py) and Xero's date rules in mapping
(docs/providers/xero.md#dates)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.xero.mapping import calendar_date, instant
from connector.parsing import format_ms_date, ms_date_to_date, ms_date_to_utc, parse_ms_date

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("raw", "zone", "expected"),
    [
        ("/Date(1439434356790)/", UTC, datetime(2015, 8, 13, 2, 52, 36, 790000, tzinfo=UTC)),
        ("/Date(1539993600000+0000)/", UTC, datetime(2018, 10, 20, tzinfo=UTC)),
        # docs/providers/xero.md#dates: epoch = 2016-02-14T11:00Z, +13h = local midnight of 15 Feb
        ("/Date(1455447600000+1300)/", UTC, datetime(2016, 2, 15, tzinfo=timezone(timedelta(hours=13)))),
        ("/Date(-174268800000+0000)/", UTC, datetime(1964, 6, 24, tzinfo=UTC)),
        ("/Date(0-0530)/", UTC, datetime(1969, 12, 31, 18, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))),
        # no offset + a wall-clock zone (Exact's CET reading): 2024-03-31 01:30 is before the DST switch
        ("/Date(1711848600000)/", AMSTERDAM, datetime(2024, 3, 31, 1, 30, tzinfo=AMSTERDAM)),
    ],
)
def test_parse_vectors(raw: str, zone: timezone, expected: datetime) -> None:
    parsed = parse_ms_date(raw, zone=zone)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


def test_offset_gives_the_local_calendar_date() -> None:
    assert ms_date_to_date("/Date(1455447600000+1300)/", zone=UTC) == date(2016, 2, 15)
    assert ms_date_to_utc("/Date(1455447600000+1300)/", zone=UTC) == datetime(2016, 2, 14, 11, tzinfo=UTC)


def test_wall_clock_zone_across_dst() -> None:
    summer = parse_ms_date("/Date(1719792000000)/", zone=AMSTERDAM)  # 2024-07-01 00:00 wall clock
    winter = parse_ms_date("/Date(1704067200000)/", zone=AMSTERDAM)  # 2024-01-01 00:00 wall clock
    assert summer.astimezone(UTC) == datetime(2024, 6, 30, 22, tzinfo=UTC)
    assert winter.astimezone(UTC) == datetime(2023, 12, 31, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "Date(1)",
        "/Date(abc)/",
        "/Date(1+13)/",
        "/Date(1+2460)/",
        "\\/Date(1)\\/x",
        "2024-01-01",
        "/Date(1)/ trailing",
    ],
)
def test_rejects_garbage(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_ms_date(raw, zone=UTC)


def test_zone_is_required() -> None:
    with pytest.raises(TypeError):
        parse_ms_date("/Date(0)/")  # type: ignore[call-arg]


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_round_trip(moment: datetime, offset_minutes: int) -> None:
    zoned = moment.replace(microsecond=moment.microsecond // 1000 * 1000).astimezone(
        timezone(timedelta(minutes=offset_minutes))
    )
    text = format_ms_date(zoned)
    parsed = parse_ms_date(text, zone=UTC)
    assert parsed == zoned
    assert parsed.utcoffset() == zoned.utcoffset()
    assert parsed.date() == zoned.date()


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"DueDateString": "2018-12-30T00:00:00", "DueDate": "/Date(1546128000000+0000)/"}, date(2018, 12, 30)),
        ({"DueDate": "/Date(1546128000000+0000)/"}, date(2018, 12, 30)),
        ({"DueDate": "/Date(1455447600000+1300)/"}, date(2016, 2, 15)),  # older NZ data: never shifted to UTC
        ({}, None),
    ],
)
def test_due_dates_are_org_calendar_dates(record: dict[str, str], expected: date | None) -> None:
    assert calendar_date(record, "DueDate") == expected


def test_instant_is_utc() -> None:
    assert instant("/Date(1451988985943+1300)/") == datetime(2016, 1, 5, 10, 16, 25, 943000, tzinfo=UTC)
    assert instant(None) is None
