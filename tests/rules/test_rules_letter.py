"""The 14-day letter's dates, evidence and wording, with worked examples on the Dutch legal calendar.

Every example names its days of the week; the tables are the worked examples the closing note lists. Dates follow
one rule set: e-mail is received the next day, post on the second postal delivery day (no Sundays, Mondays or
general holidays); the term ends on receipt + 14, moved to the next working day when that is a Saturday, a Sunday
or a general holiday of the Algemene termijnenwet; costs from the day after.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.rules.calendar import easter_sunday, general_holidays, is_working_day, kings_day
from connector.rules.letter import (
    LetterState,
    check_letter,
    letter_dates,
    presumed_receipt,
    term_wording_defect,
)
from connector.rules.snapshot import FourteenDayLetterEvidence, LetterChannel

POST, EMAIL = LetterChannel.POST, LetterChannel.EMAIL
D = Decimal


# --- the calendar ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)), (2027, date(2027, 3, 28))],
)
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


HOLIDAYS_2026 = {
    date(2026, 1, 1): "New Year's Day",
    date(2026, 4, 6): "Easter Monday",
    date(2026, 4, 27): "King's Day",
    date(2026, 5, 5): "Liberation Day (named every year, 2026 is no lustrum year)",
    date(2026, 5, 14): "Ascension Day",
    date(2026, 5, 25): "Whit Monday",
    date(2026, 12, 25): "Christmas Day",
    date(2026, 12, 26): "Boxing Day",
}


def test_the_general_holidays_of_2026_are_exactly_those_of_the_act() -> None:
    assert general_holidays(2026) == frozenset(HOLIDAYS_2026), "holidays differ from Algemene termijnenwet art. 3"


@pytest.mark.parametrize(
    ("day", "working", "why"),
    [
        (date(2026, 4, 3), True, "Good Friday is not in the act"),
        (date(2026, 4, 5), False, "Easter Sunday is a Sunday"),
        (date(2026, 4, 6), False, "Easter Monday"),
        (date(2026, 5, 24), False, "Whit Sunday is a Sunday"),
        (date(2025, 4, 26), False, "King's Day 2025 moves to Saturday 26 April: 27 April is a Sunday"),
        (date(2025, 5, 5), False, "Liberation Day in a lustrum year"),
        (date(2026, 3, 9), True, "an ordinary Monday"),
    ],
)
def test_working_days(day: date, working: bool, why: str) -> None:
    assert is_working_day(day) is working, why


@pytest.mark.parametrize(
    ("year", "day"),
    [(2025, date(2025, 4, 26)), (2026, date(2026, 4, 27)), (2014, date(2014, 4, 26)), (2013, date(2013, 4, 30))],
)
def test_kings_day(year: int, day: date) -> None:
    assert kings_day(year) == day


# --- the dates of a letter: worked examples --------------------------------------------------------------------

# (sent, channel, received, term ends, costs from, what it shows)
WORKED_DATES = [
    (date(2026, 3, 3), POST, date(2026, 3, 5), date(2026, 3, 19), date(2026, 3, 20), "Tue post -> Thu; ordinary"),
    (date(2026, 3, 6), POST, date(2026, 3, 10), date(2026, 3, 24), date(2026, 3, 25), "Fri post: Sun, Mon skipped"),
    (date(2026, 3, 3), EMAIL, date(2026, 3, 4), date(2026, 3, 18), date(2026, 3, 19), "e-mail: received next day"),
    (date(2026, 3, 6), EMAIL, date(2026, 3, 7), date(2026, 3, 23), date(2026, 3, 24), "ends Sat 21 -> Mon 23"),
    (date(2026, 4, 2), POST, date(2026, 4, 4), date(2026, 4, 20), date(2026, 4, 21), "Good Friday delivers; Sat"),
    (date(2026, 4, 3), POST, date(2026, 4, 7), date(2026, 4, 21), date(2026, 4, 22), "Easter Sun/Mon no delivery"),
    (date(2026, 3, 22), EMAIL, date(2026, 3, 23), date(2026, 4, 7), date(2026, 4, 8), "ends Easter Mon -> Tue"),
    (date(2026, 3, 19), EMAIL, date(2026, 3, 20), date(2026, 4, 3), date(2026, 4, 4), "ends Good Friday: kept"),
    (date(2026, 4, 29), EMAIL, date(2026, 4, 30), date(2026, 5, 15), date(2026, 5, 16), "ends Ascension -> Fri"),
    (date(2026, 5, 13), POST, date(2026, 5, 16), date(2026, 6, 1), date(2026, 6, 2), "Ascension no delivery"),
    (date(2026, 4, 12), EMAIL, date(2026, 4, 13), date(2026, 4, 28), date(2026, 4, 29), "ends King's Day -> Tue"),
    (date(2026, 4, 20), EMAIL, date(2026, 4, 21), date(2026, 5, 6), date(2026, 5, 7), "ends 5 May -> Wed 6"),
    (date(2026, 5, 10), EMAIL, date(2026, 5, 11), date(2026, 5, 26), date(2026, 5, 27), "ends Whit Mon -> Tue"),
    (date(2026, 12, 17), EMAIL, date(2026, 12, 18), date(2027, 1, 4), date(2027, 1, 5), "ends New Year (Fri) -> Mon"),
    (date(2026, 12, 23), POST, date(2026, 12, 29), date(2027, 1, 12), date(2027, 1, 13), "Christmas, Mon skipped"),
    (date(2025, 4, 24), POST, date(2025, 4, 29), date(2025, 5, 13), date(2025, 5, 14), "King's Day Sat 2025 skipped"),
]


@pytest.mark.parametrize(("sent", "channel", "received", "ends", "costs", "shows"), WORKED_DATES)
def test_worked_letter_dates(
    sent: date, channel: LetterChannel, received: date, ends: date, costs: date, shows: str
) -> None:
    dates = letter_dates(sent, channel)
    assert (dates.received, dates.term_ends, dates.costs_from) == (received, ends, costs), shows
    assert presumed_receipt(sent, channel) == received, shows


def test_registered_post_is_presumed_like_ordinary_post() -> None:
    assert letter_dates(date(2026, 3, 3), LetterChannel.REGISTERED_POST) == letter_dates(date(2026, 3, 3), POST)


def test_a_recorded_receipt_replaces_the_presumption() -> None:
    dates = letter_dates(date(2026, 3, 3), POST, date(2026, 3, 9))
    assert (dates.received, dates.term_ends, dates.costs_from) == (
        date(2026, 3, 9),
        date(2026, 3, 23),
        date(2026, 3, 24),
    )
    assert dates.received_presumed is False


def test_a_receipt_before_sending_is_refused() -> None:
    with pytest.raises(ValueError, match="before it was sent"):
        letter_dates(date(2026, 3, 3), POST, date(2026, 3, 2))


def test_posted_and_e_mailed_the_same_day() -> None:
    posted, mailed = letter_dates(date(2026, 3, 3), POST), letter_dates(date(2026, 3, 3), EMAIL)
    assert posted.costs_from == date(2026, 3, 20), "post: received Thu 5, costs from Fri 20"
    assert mailed.costs_from == date(2026, 3, 19), "e-mail: received Wed 4, costs from Thu 19"


@settings(max_examples=400, deadline=None)
@given(
    sent=st.dates(date(2015, 1, 1), date(2035, 12, 31)),
    channel=st.sampled_from(LetterChannel),
    delay=st.one_of(st.none(), st.integers(0, 30)),
)
def test_the_term_never_ends_on_a_weekend_or_holiday_and_costs_come_after(
    sent: date, channel: LetterChannel, delay: int | None
) -> None:
    received = None if delay is None else sent + timedelta(days=delay)
    dates = letter_dates(sent, channel, received)
    assert is_working_day(dates.term_ends), f"term ends on {dates.term_ends:%a %d %b %Y}"
    assert dates.costs_from > dates.term_ends, "costs before the term ended"
    assert dates.term_ends >= dates.received + timedelta(days=14), "fewer than 14 days after receipt"
    assert dates.term_ends - dates.received <= timedelta(days=18), "moved further than the next working day"
    if received is None:
        assert dates.received > sent, "presumed received the day it was sent"


# --- the evidence ----------------------------------------------------------------------------------------------


def _letter(**overrides: Any) -> FourteenDayLetterEvidence:
    values: dict[str, Any] = {
        "sent_on": date(2026, 3, 3),
        "channel": POST,
        "stated_costs": D("150.00"),
        "printed_term_ends": date(2026, 3, 19),
        "text_counts_from_receipt": True,
    }
    values.update(overrides)
    return FourteenDayLetterEvidence(**values)


DEFAULT = date(2026, 2, 11)


@pytest.mark.parametrize(
    ("letter", "state", "says", "costs_from"),
    [
        (_letter(), LetterState.SOUND, None, date(2026, 3, 20)),
        (_letter(received_on=date(2026, 3, 5)), LetterState.SOUND, None, date(2026, 3, 20)),
        (_letter(received_on=date(2026, 3, 4)), LetterState.SOUND, None, date(2026, 3, 20)),  # early: printed date
        (_letter(received_on=date(2026, 3, 9)), LetterState.DEFECTIVE, "later than it assumed", None),
        (_letter(sent_on=None), LetterState.NOT_POSTED, "waits to be posted", None),
        (_letter(sent_on=date(2026, 3, 9)), LetterState.DEFECTIVE, "fewer than 14 days", None),  # posted late
        (_letter(sent_on=date(2026, 2, 10)), LetterState.DEFECTIVE, "before the debtor was in default", None),
        (_letter(stated_costs=None), LetterState.DEFECTIVE, "does not state the amount", None),
        (_letter(text_counts_from_receipt=False), LetterState.DEFECTIVE, "does not count the 14 days", None),
        (_letter(text_counts_from_receipt=None), LetterState.DEFECTIVE, "never checked", None),
        (_letter(printed_term_ends=None), LetterState.DEFECTIVE, "not on record", None),
        (None, LetterState.MISSING, "no 14-day letter", None),
    ],
)
def test_what_the_evidence_supports(
    letter: FourteenDayLetterEvidence | None, state: LetterState, says: str | None, costs_from: date | None
) -> None:
    check = check_letter(letter, DEFAULT)
    assert check.state is state, check.reason
    assert (says or "") in (check.reason or ""), check.reason
    assert check.costs_from == costs_from


def test_no_default_yet_makes_any_letter_defective() -> None:
    assert check_letter(_letter(), None).state is LetterState.DEFECTIVE


# --- the wording ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "defect"),
    [
        ("U mag binnen 14 dagen, te rekenen vanaf de dag na ontvangst van deze brief, betalen.", "nl", None),
        ("Betaal binnen veertien dagen na ontvangst van deze brief.", "nl", None),
        ("Please pay within 14 days, counted from the day after you receive this letter.", "en", None),
        ("U mag binnen 14 dagen na dagtekening van deze brief betalen.", "nl", "from today"),
        ("Betaal binnen 14 dagen na vandaag.", "nl", "from today"),
        ("U mag binnen 14 dagen na de datum van deze brief betalen.", "nl", "from today"),
        (
            "Betaal binnen 14 dagen, te rekenen vanaf de dag na ontvangst. De termijn gaat vandaag in.",
            "nl",
            "from today",
        ),
        ("Please pay within 14 days from today.", "en", "from today"),
        ("Please pay within 14 days of the date of this letter.", "en", "from today"),
        ("Betaal het bedrag zo snel mogelijk.", "nl", "no sentence gives the 14 days"),
        ("Please pay within 14 days.", "en", "no sentence gives the 14 days"),
        ("Wij hebben werkzaamheden verricht. Betaal binnen 14 dagen na ontvangst.", "nl", None),  # "heden" in a word
    ],
)
def test_the_wording_of_the_rendered_text(text: str, language: str, defect: str | None) -> None:
    found = term_wording_defect(text, language)
    assert (found is None) == (defect is None), found
    assert (defect or "") in (found or "")
