"""The consumer's 14-day letter (veertiendagenbrief, art. 6:96 lid 6 BW): its dates, its evidence and its wording.

One computation of the dates for everyone: the engine's cost gate (``connector.rules.charges``), the letter's
printed "pay by" date (``connector.outbox.deliver``), the letters waiting for post (``connector.debtors.letters``)
and ``dunning letter-dates`` all call :func:`letter_dates`, so a credit controller or a lawyer can check a letter's
dates before it goes out. Rules, all pure:

- Receipt: an e-mail counts as received the day after it was sent; a posted letter on the second postal delivery
  day after posting (``connector.rules.calendar``); a recorded receipt date replaces the presumption.
- Term: 14 days counted from the day after receipt, so it ends on receipt + 14; an end on a Saturday, Sunday or
  general holiday moves to the next working day (Algemene termijnenwet art. 1, the cautious reading; no policy
  can switch it off). Costs may be charged from the day after the end.
- Evidence (:func:`check_letter`): a letter queued for post starts nothing until it is marked posted; a letter is
  defective when it was sent before the default, does not state the costs, its rendered text does not count the
  term from the day after receipt, or its printed end date leaves fewer than 14 days after the day of (late)
  receipt. A defective letter supports no costs; the engine proposes a new one.
- Wording (:func:`term_wording_defect`): the rendered text itself is checked for "14 days after receipt" and for
  any "from today" wording.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta

from connector.rules.calendar import next_working_day, postal_delivery
from connector.rules.snapshot import FourteenDayLetterEvidence, LetterChannel

TERM_DAYS = 14
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class LetterDates:
    """The dates of one letter: sent, received (recorded or presumed), the last day of the term, the first cost day."""

    sent: date
    received: date
    term_ends: date
    costs_from: date
    received_presumed: bool = True

    def as_json(self) -> dict[str, str]:
        return {
            "sent": self.sent.isoformat(),
            "received": self.received.isoformat(),
            "term_ends": self.term_ends.isoformat(),
            "costs_from": self.costs_from.isoformat(),
        }


def presumed_receipt(sent_on: date, channel: LetterChannel) -> date:
    """When a letter counts as received: e-mail the next day; post on the 2nd postal delivery day after posting."""
    if channel is LetterChannel.EMAIL:
        return sent_on + ONE_DAY
    return postal_delivery(sent_on)


def term_end(received: date, days: int = TERM_DAYS) -> date:
    """The last day of a term of ``days`` counted from the day after ``received``, moved off weekends and holidays."""
    return next_working_day(received + timedelta(days=days))


def letter_dates(
    sent_on: date, channel: LetterChannel, received_on: date | None = None, *, term_days: int = TERM_DAYS
) -> LetterDates:
    """The dates of a letter sent on ``sent_on`` by ``channel`` (``received_on``: a recorded receipt, if any)."""
    if received_on is not None and received_on < sent_on:
        raise ValueError(f"a letter cannot be received ({received_on}) before it was sent ({sent_on})")
    received = received_on or presumed_receipt(sent_on, channel)
    ends = term_end(received, term_days)
    return LetterDates(sent_on, received, ends, ends + ONE_DAY, received_presumed=received_on is None)


# --- evidence ------------------------------------------------------------------------------------------------


class LetterState(str, enum.Enum):
    MISSING = "missing"  # no 14-day letter on record
    NOT_POSTED = "not_posted"  # queued for post; nobody has marked it posted yet
    DEFECTIVE = "defective"  # on record but it cannot support costs: a new letter is needed
    SOUND = "sound"


@dataclass(frozen=True)
class LetterCheck:
    """What the evidence of one 14-day letter supports: its state, why, its dates and the first day costs may go."""

    state: LetterState
    reason: str | None = None
    dates: LetterDates | None = None
    costs_from: date | None = None


def check_letter(letter: FourteenDayLetterEvidence | None, default_since: date | None) -> LetterCheck:
    """Judge the recorded 14-day letter against the law; ``default_since`` is the first day of the default."""
    if letter is None:
        return LetterCheck(LetterState.MISSING, "no 14-day letter on record")
    if letter.sent_on is None:
        return LetterCheck(
            LetterState.NOT_POSTED, "the 14-day letter waits to be posted; it starts no term until it is marked posted"
        )
    dates = letter_dates(letter.sent_on, letter.channel, letter.received_on)
    problem = _defect(letter, letter.sent_on, dates, default_since)
    if problem is not None:
        return LetterCheck(LetterState.DEFECTIVE, problem, dates)
    printed = letter.printed_term_ends or dates.term_ends
    return LetterCheck(LetterState.SOUND, None, dates, max(printed, dates.term_ends) + ONE_DAY)


def _defect(
    letter: FourteenDayLetterEvidence, sent_on: date, dates: LetterDates, default_since: date | None
) -> str | None:
    if default_since is None or sent_on < default_since:
        return "the 14-day letter was sent before the debtor was in default"
    if letter.stated_costs is None:
        return "the 14-day letter does not state the amount of the collection costs"
    if letter.text_counts_from_receipt is None:
        return "the 14-day letter's text was never checked for counting the term from the day after receipt"
    if not letter.text_counts_from_receipt:
        return "the 14-day letter's text does not count the 14 days from the day after receipt"
    if letter.printed_term_ends is None:
        return "the end date printed in the 14-day letter is not on record"
    return printed_dates_defect(letter.printed_term_ends, dates)


def printed_dates_defect(printed_term_ends: date, dates: LetterDates) -> str | None:
    """Why the end date a letter printed is too early for when it was actually sent and received, or None."""
    if printed_term_ends < dates.received + timedelta(days=TERM_DAYS):
        return (
            f"the 14-day letter counts as received on {dates.received}, later than it assumed: its printed end date "
            f"{printed_term_ends} leaves fewer than 14 days after the day of receipt"
        )
    return None


# --- wording of the rendered text ----------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n")
_TERM = {
    "nl": re.compile(r"\b(\d+|veertien|vijftien|twee|drie)\s+(dagen|weken)\b|\btermijn\b", re.IGNORECASE),
    "en": re.compile(r"\b(\d+|fourteen|fifteen|two|three)\s+(days|weeks)\b|\b(period|term)\b", re.IGNORECASE),
}
_FROM_TODAY = {
    "nl": re.compile(
        r"\b(vandaag|heden|dagtekening|briefdatum)\b"
        r"|\bdatum van (deze|dit|de|onze)\s+(brief|schrijven|e-?mail|aanmaning)",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(today|dated)\b|\bdate of (this|the|our)\s+(letter|e-?mail|notice|reminder)|\bfrom the date\b",
        re.IGNORECASE,
    ),
}
_FROM_RECEIPT = {
    "nl": re.compile(r"\b(14|veertien)\s+dagen\b.*\b(dag na|na)\s+(de\s+)?ontvangst\b", re.IGNORECASE | re.DOTALL),
    "en": re.compile(
        r"\b(14|fourteen)\s+days\b.*\bday after\s+"
        r"(you\s+receive|receipt|the\s+receipt|(it|this letter)\s+(is|was)\s+received)",
        re.IGNORECASE | re.DOTALL,
    ),
}


def term_wording_defect(text: str, language: str, *, must_count_from_receipt: bool = True) -> str | None:
    """Why ``text`` (a rendered 14-day letter, or its e-mail) would make the costs unclaimable, or None.

    No sentence that speaks of a term may count it from today or from the letter's date; and (unless
    ``must_count_from_receipt`` is off, for a subject line) one sentence must give the 14 days counted from the
    day after receipt.
    """
    lang = language if language in _TERM else "en"
    sentences = [" ".join(part.split()) for part in _SENTENCE_END.split(text) if part.strip()]
    for sentence in sentences:
        if _TERM[lang].search(sentence) and _FROM_TODAY[lang].search(sentence):
            return f"it counts the term from today or from the letter's date: {sentence[:160]!r}"
    if must_count_from_receipt and not any(_FROM_RECEIPT[lang].search(s) for s in sentences):
        return "no sentence gives the 14 days counted from the day after receipt"
    return None
