"""Letters for the post: which letters wait to be posted, printing them for the day they go, marking them posted.

The outbox (``connector.outbox.deliver``) puts a letter in the post queue when its level's channel is the letter
and e-mail may not replace it, or when the debtor has no e-mail address. Such a letter starts no term until a
person marks it posted: its sending date, and so its receipt and the 14-day term (``connector.rules.letter``),
come from the day it was posted, never from the day it was queued. Its PDF is printed with dates that assume
posting on a given day (the day it was queued, or the day a person prints it for with :func:`print_letters`);
marking it posted later than that makes a 14-day letter's printed end date too early, and the engine then
proposes a new letter. The CLI (``dunning letters``) and the web worklist use :func:`letters_to_post`,
:func:`posted_letters`, :func:`print_letters` and :func:`mark_posted`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from connector.channels.context import LETTER_KINDS
from connector.channels.letters import render_letter
from connector.debtors.common import today_for
from connector.errors import PermanentError
from connector.model.api import EventType
from connector.model.outbox import OutboxAction
from connector.outbox.deliver import KIND_BY_ACTION, message_context, write_post_queue
from connector.rules.letter import LetterDates, letter_dates, printed_dates_defect, term_wording_defect
from connector.rules.snapshot import LetterChannel
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import Session, transaction


@dataclass(frozen=True)
class PostLetter:
    """One letter of the post queue, as a credit controller sees it: who, what, which file, and its dates (for the
    day it was posted, or, while it waits, for the day its printed dates assume)."""

    id: int
    administration_id: int
    administration: str
    debtor_ref: str
    debtor_name: str
    kind: str
    invoices: tuple[str, ...]
    queued_on: date | None
    dates_assume_sent_on: date | None
    printed_term_ends: date | None
    sent_on: date | None
    file: str | None
    dates: LetterDates | None
    problem: str | None  # a posted 14-day letter whose printed end date is too early: a new letter follows

    @property
    def status(self) -> str:
        return "posted" if self.sent_on else "to_post"

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status,
            "administration_id": self.administration_id,
            "administration": self.administration,
            "debtor_ref": self.debtor_ref,
            "debtor": self.debtor_name,
            "kind": self.kind,
            "invoices": list(self.invoices),
            "queued_on": _iso(self.queued_on),
            "dates_assume_sent_on": _iso(self.dates_assume_sent_on),
            "printed_term_ends": _iso(self.printed_term_ends),
            "sent_on": _iso(self.sent_on),
            "file": self.file,
            "dates": self.dates.as_json() if self.dates else None,
            "problem": self.problem,
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def letters_to_post(rt: Runtime, org_id: int) -> list[PostLetter]:
    """The letters waiting to be posted, oldest first."""
    with rt.sessions() as s:
        return _views(s, org_id, repos.letters_for_post(s, org_id, posted=False))


def posted_letters(rt: Runtime, org_id: int, limit: int = 100) -> list[PostLetter]:
    """The letters marked posted, the latest first."""
    with rt.sessions() as s:
        return _views(s, org_id, repos.letters_for_post(s, org_id, posted=True, limit=limit))


def mark_posted(rt: Runtime, org_id: int, letter_ids: Sequence[int], on: date) -> list[PostLetter]:
    """A person posted these letters on ``on``: from now on their term runs from that day. All or nothing; a letter
    already marked posted on the same day is left as it is. Refused: a day still to come, a day before the letter
    was queued, a letter already marked posted on another day, a letter that was never in the post queue."""
    ids = _unique(letter_ids)
    with transaction(rt.sessions) as s:
        rows = [repos.get_letter_evidence(s, org_id, letter_id) for letter_id in ids]
        for row in rows:
            adm = repos.get_administration(s, org_id, row.administration_id)
            _check_postable(row, on, today_for(rt, adm))
        for row in rows:
            if row.sent_on == on:
                continue
            row.sent_on = on
            repos.record_contact_moment(
                s,
                org_id,
                row.administration_id,
                debtor_ref=row.debtor_ref,
                at=rt.clock(),
                channel="letter",
                note=f"{row.kind} posted on {on.isoformat()}",
                document_sha256=row.sha256,
            )
            repos.emit_event(
                s,
                org_id,
                EventType.LETTER_POSTED,
                {
                    "administration_id": row.administration_id,
                    "debtor_ref": row.debtor_ref,
                    "letter": row.kind,
                    "invoices": list(row.invoice_refs),
                    "posted_on": on.isoformat(),
                },
            )
            repos.audit(
                s,
                org_id,
                "letter_posted",
                f"{row.kind} posted on {on.isoformat()}",
                administration_id=row.administration_id,
                debtor_ref=row.debtor_ref,
                data={"letter": row.id, "sent_on": on.isoformat(), "sha256": row.sha256},
            )
        s.flush()
        return _views(s, org_id, rows)


def print_letters(rt: Runtime, org_id: int, letter_ids: Sequence[int], on: date) -> list[PostLetter]:
    """Render letters that wait for the post again, with their dates for posting on ``on`` (today or later): print
    the new file and post it that day. The file it replaces is removed; the evidence describes the new one."""
    ids = _unique(letter_ids)
    with rt.sessions() as s:
        rows = [repos.get_letter_evidence(s, org_id, letter_id) for letter_id in ids]
        for row in rows:
            adm = repos.get_administration(s, org_id, row.administration_id)
            if row.queued_on is None or row.sent_on is not None:
                raise PermanentError(f"letter {row.id} does not wait for the post: nothing to print again")
            if on < today_for(rt, adm):
                raise PermanentError(f"print letter {row.id} for today or a day to come, not for {on.isoformat()}")
    for letter_id in ids:
        _print_one(rt, org_id, letter_id, on)
    with rt.sessions() as s:
        return _views(s, org_id, [repos.get_letter_evidence(s, org_id, letter_id) for letter_id in ids])


def _print_one(rt: Runtime, org_id: int, letter_id: int, on: date) -> None:
    with rt.sessions() as s:
        row = repos.get_letter_evidence(s, org_id, letter_id)
        adm = repos.get_administration(s, org_id, row.administration_id)
        item = repos.get_outbox_item(s, org_id, row.outbox_id) if row.outbox_id is not None else None
        if item is None:
            raise PermanentError(f"letter {letter_id} cannot be printed again: the step that made it is gone")
        invoices = [repos.invoice_row_to_model(inv) for inv in repos.get_invoices(s, org_id, adm.id, row.invoice_refs)]
        debtor = repos.get_debtors(s, org_id, adm.id, [row.debtor_ref]).get(row.debtor_ref)
        old_file = row.document_ref
    kind = KIND_BY_ACTION[item.action]
    if kind not in LETTER_KINDS or not invoices:
        raise PermanentError(f"letter {letter_id} cannot be printed again: its invoices are no longer on record")
    ctx = message_context(
        adm, item, invoices, repos.debtor_row_to_model(debtor, row.debtor_ref), on, LetterChannel.POST
    )
    letter = render_letter(kind, ctx)
    path = write_post_queue(rt, item, letter)
    fourteen_days = item.action is OutboxAction.FOURTEEN_DAY_LETTER
    with transaction(rt.sessions) as s:
        current = repos.get_letter_evidence(s, org_id, letter_id)
        current.sha256 = hashlib.sha256(letter.pdf).hexdigest()
        current.document_ref = str(path)
        current.dates_assume_sent_on = on
        current.printed_term_ends = ctx.deadline if fourteen_days else None
        current.text_counts_from_receipt = (
            term_wording_defect(letter.text, letter.language) is None if fourteen_days else None
        )
        repos.audit(
            s,
            org_id,
            "letter_printed",
            f"{current.kind} printed for posting on {on.isoformat()}",
            administration_id=current.administration_id,
            debtor_ref=current.debtor_ref,
            data={"letter": letter_id, "sha256": current.sha256},
        )
    if old_file and old_file != str(path):
        Path(old_file).unlink(missing_ok=True)


def _check_postable(row: tables.LetterEvidence, on: date, today: date) -> None:
    if row.queued_on is None:
        raise PermanentError(f"letter {row.id} was not in the post queue (it went by e-mail)")
    if row.sent_on is not None and row.sent_on != on:
        raise PermanentError(f"letter {row.id} was already marked posted on {row.sent_on.isoformat()}")
    if on > today:
        raise PermanentError(f"{on.isoformat()} is still to come: mark letter {row.id} posted on the day it was posted")
    if on < row.queued_on:
        raise PermanentError(
            f"letter {row.id} was queued on {row.queued_on.isoformat()}: it cannot have been posted before that"
        )


def _unique(ids: Sequence[int]) -> list[int]:
    if not ids:
        raise PermanentError("name at least one letter (its number from `dunning letters`)")
    return list(dict.fromkeys(ids))


def _views(s: Session, org_id: int, rows: Sequence[tables.LetterEvidence]) -> list[PostLetter]:
    names: dict[int, str] = {}
    debtors: dict[tuple[int, str], str] = {}
    views: list[PostLetter] = []
    for row in rows:
        if row.administration_id not in names:
            names[row.administration_id] = repos.get_administration(s, org_id, row.administration_id).name
        key = (row.administration_id, row.debtor_ref)
        if key not in debtors:
            found = repos.get_debtors(s, org_id, row.administration_id, [row.debtor_ref]).get(row.debtor_ref)
            debtors[key] = (found.company_name or found.name) if found else row.debtor_ref
        views.append(_view(row, names[row.administration_id], debtors[key]))
    return views


def _view(row: tables.LetterEvidence, administration: str, debtor_name: str) -> PostLetter:
    channel = LetterChannel(row.channel)
    dates: LetterDates | None = None
    problem = None
    if row.sent_on is not None:
        dates = letter_dates(row.sent_on, channel, row.received_on)
        if row.kind == OutboxAction.FOURTEEN_DAY_LETTER.value and row.printed_term_ends is not None:
            problem = printed_dates_defect(row.printed_term_ends, dates)
    elif row.dates_assume_sent_on is not None:
        dates = letter_dates(row.dates_assume_sent_on, channel)
    return PostLetter(
        id=row.id,
        administration_id=row.administration_id,
        administration=administration,
        debtor_ref=row.debtor_ref,
        debtor_name=debtor_name,
        kind=row.kind,
        invoices=tuple(str(ref) for ref in row.invoice_refs or ()),
        queued_on=row.queued_on,
        dates_assume_sent_on=row.dates_assume_sent_on,
        printed_term_ends=row.printed_term_ends,
        sent_on=row.sent_on,
        file=row.document_ref,
        dates=dates,
        problem=problem,
    )
