"""The Dutch legal calendar: the holidays of the Algemene termijnenwet, working days and postal delivery days.

Used by the 14-day letter's dates (``connector.rules.letter``): a statutory term that ends on a Saturday, a Sunday
or a general holiday runs on to the next day that is none of these (Algemene termijnenwet art. 1; we apply it to
the 14-day term as the cautious reading), and post is presumed delivered on the second delivery day after posting.
Pure date arithmetic, computed for any year (no table to keep up to date).

The general holidays are exactly those art. 3 lid 1 names: New Year's Day, Easter Monday, Whit Monday, Christmas
Day and Boxing Day, Ascension Day, the day the King's birthday is celebrated, and 5 May. The act names 5 May
without condition, so it counts every year, not only in lustrum years (when it is a day off for many employees);
counting it is also the cautious choice, as it only ever moves a term end later. Good Friday is not in the act and
does not count. Easter Sunday and Whit Sunday are Sundays anyway.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

SATURDAY, SUNDAY, MONDAY = 5, 6, 0
ONE_DAY = timedelta(days=1)


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = h + m - 7 * ((a + 11 * h + 22 * m) // 451) + 114
    return date(year, n // 31, n % 31 + 1)


def kings_day(year: int) -> date:
    """The day the King's (before 2014 the Queen's) birthday is celebrated: moved one day earlier from a Sunday.

    From 2014 27 April (Besluit viering Koningsdag); from 1980 to 2013 Queen's Day, 30 April (earlier years are
    computed the same way, which dunning never needs).
    """
    day = date(year, 4, 27) if year >= 2014 else date(year, 4, 30)
    return day - ONE_DAY if day.weekday() == SUNDAY else day


@cache
def general_holidays(year: int) -> frozenset[date]:
    """The general holidays (algemeen erkende feestdagen) of Algemene termijnenwet art. 3 lid 1 in ``year``."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),  # New Year's Day
            easter + ONE_DAY,  # Easter Monday
            kings_day(year),
            date(year, 5, 5),  # Liberation Day: named without condition, so every year
            easter + timedelta(days=39),  # Ascension Day
            easter + timedelta(days=50),  # Whit Monday
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def is_holiday(day: date) -> bool:
    return day in general_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Not a Saturday, a Sunday or a general holiday (Algemene termijnenwet art. 1)."""
    return day.weekday() not in (SATURDAY, SUNDAY) and not is_holiday(day)


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += ONE_DAY
    return day


def is_postal_delivery_day(day: date) -> bool:
    """A day ordinary letters are delivered: not a Sunday, not a Monday, not a general holiday (practice)."""
    return day.weekday() not in (SUNDAY, MONDAY) and not is_holiday(day)


def postal_delivery(posted_on: date, delivery_days: int = 2) -> date:
    """The ``delivery_days``-th postal delivery day after ``posted_on``: when a posted letter is presumed received."""
    day, counted = posted_on, 0
    while counted < delivery_days:
        day += ONE_DAY
        if is_postal_delivery_day(day):
            counted += 1
    return day
