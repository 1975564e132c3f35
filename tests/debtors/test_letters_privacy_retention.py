"""The post queue (posting date, not queue date), a debtor's export and erasure, and the retention purges.

Worked examples (a consumer with a fatal payment term, due Sun 1 February 2026, EUR 1,000; the 14-day letter is
queued on Fri 6 March 2026 for a debtor without an e-mail address):
- queued and printed for posting Fri 6 March: presumed received Tue 10 March, term ends Tue 24 March;
- not marked posted: no term runs and no costs follow, however long it waits;
- marked posted Fri 6 March: costs from Wed 25 March;
- marked posted Mon 9 March (its printed dates assumed the 6th): received Wed 11, the printed end 24 March is too
  early (needs 25 March): defective, a new letter is proposed;
- printed again for Mon 9 March and posted that day: term ends Wed 25 March, costs from Thu 26 March.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from connector import debtors
from connector.errors import ConfigurationError, PermanentError
from connector.outbox.deliver import deliver, record_evidence
from connector.storage import repos
from connector.storage.db import transaction
from tests.debtors.conftest import World

QUEUED = date(2026, 3, 6)  # Friday


def _queue_letter(w: World) -> int:
    """Run the rules on 6 March (the 14-day letter is due) and deliver it: no e-mail address, so to the post."""
    w.debtor("c1", segment="b2c", name="J. Jansen")
    debtors.set_default_start(w.rt, w.org_id, w.adm_id, "c1", False)
    w.invoice("i1", "c1", date(2026, 2, 1), "1000.00")
    w.set_state("i1", level=3, level_name="Phone call", level_reached_on=date(2026, 2, 18))
    w.run(QUEUED)
    (item,) = w.outbox("fourteen_day_letter")
    with w.rt.sessions() as s:
        adm = repos.get_administration(s, w.org_id, w.adm_id)
        row = repos.get_debtors(s, w.org_id, w.adm_id, ["c1"])["c1"]
        invoices = [repos.invoice_row_to_model(i) for i in repos.get_invoices(s, w.org_id, w.adm_id, ["i1"])]
    delivered = deliver(w.rt, adm, item, invoices, row, QUEUED)
    assert delivered.part.channel == "post", delivered.part
    record_evidence(w.rt, adm, item, delivered, QUEUED)
    (letter,) = debtors.letters_to_post(w.rt, w.org_id)
    return letter.id


def _level(w: World, day: date) -> tuple[int | None, dict[str, int]]:
    report = w.run(day)
    state = w.state("i1")
    return (state.level if state else None), report.non_decisions


def test_a_queued_letter_is_listed_with_the_dates_it_assumes(any_world: World) -> None:
    letter_id = _queue_letter(any_world)
    (letter,) = debtors.letters_to_post(any_world.rt, any_world.org_id)
    assert (letter.id, letter.status, letter.debtor_name, letter.invoices) == (
        letter_id,
        "to_post",
        "J. Jansen",
        ("i1",),
    )
    assert letter.dates_assume_sent_on == QUEUED and letter.printed_term_ends == date(2026, 3, 24)
    assert letter.dates is not None and letter.dates.received == date(2026, 3, 10)
    assert letter.file and Path(letter.file).read_bytes().startswith(b"%PDF")
    assert debtors.posted_letters(any_world.rt, any_world.org_id) == []


def test_an_unposted_letter_starts_no_term(world: World) -> None:
    _queue_letter(world)
    level, waiting = _level(world, date(2026, 5, 1))
    assert level == 4 and waiting.get("letter_not_posted") == 1, waiting
    assert [i.level for i in world.outbox()] == [4], "no costs step while the letter waits for the post"


def test_posted_on_the_day_its_dates_assume(world: World) -> None:
    letter_id = _queue_letter(world)
    (posted,) = debtors.mark_posted(world.rt, world.org_id, [letter_id], QUEUED)
    assert posted.sent_on == QUEUED and posted.problem is None
    assert posted.dates is not None and posted.dates.costs_from == date(2026, 3, 25)
    assert _level(world, date(2026, 3, 24))[1].get("fourteen_day_term") == 1
    level, _ = _level(world, date(2026, 3, 25))
    (final,) = world.outbox("final_notice")
    assert level == 5 and final.payload.costs is not None and final.payload.costs.fee == 150


def test_posted_later_than_its_dates_assume_makes_it_defective(world: World) -> None:
    letter_id = _queue_letter(world)
    world.clock.day(date(2026, 3, 9))
    (posted,) = debtors.mark_posted(world.rt, world.org_id, [letter_id], date(2026, 3, 9))
    assert posted.problem is not None and "fewer than 14 days" in posted.problem
    _level(world, date(2026, 3, 26))
    proposals = [i for i in world.outbox("fourteen_day_letter") if i.status.value == "awaiting_approval"]
    assert len(proposals) == 1, "a new 14-day letter is proposed in the worklist"
    assert world.outbox("final_notice") == []


def test_printed_again_for_the_day_it_is_posted(world: World) -> None:
    letter_id = _queue_letter(world)
    (before,) = debtors.letters_to_post(world.rt, world.org_id)
    world.clock.day(date(2026, 3, 9))
    (printed,) = debtors.print_letters(world.rt, world.org_id, [letter_id], date(2026, 3, 9))
    assert printed.dates_assume_sent_on == date(2026, 3, 9) and printed.printed_term_ends == date(2026, 3, 25)
    assert printed.file != before.file and before.file and not Path(before.file).exists(), "the old file stays"
    with world.rt.sessions() as s:
        evidence = repos.get_letter_evidence(s, world.org_id, letter_id)
    assert printed.file and evidence.sha256 == hashlib.sha256(Path(printed.file).read_bytes()).hexdigest()
    (posted,) = debtors.mark_posted(world.rt, world.org_id, [letter_id], date(2026, 3, 9))
    assert posted.problem is None and posted.dates is not None and posted.dates.costs_from == date(2026, 3, 26)
    assert _level(world, date(2026, 3, 25))[1].get("fourteen_day_term") == 1
    assert _level(world, date(2026, 3, 26))[0] == 5


@pytest.mark.parametrize(
    ("clock_day", "posted_on", "says"),
    [
        (QUEUED, date(2026, 3, 9), "still to come"),
        (QUEUED, date(2026, 3, 5), "cannot have been posted before"),
    ],
)
def test_marking_posted_is_refused_for_impossible_days(
    world: World, clock_day: date, posted_on: date, says: str
) -> None:
    letter_id = _queue_letter(world)
    world.clock.day(clock_day)
    with pytest.raises(PermanentError, match=says):
        debtors.mark_posted(world.rt, world.org_id, [letter_id], posted_on)
    assert [letter.id for letter in debtors.letters_to_post(world.rt, world.org_id)] == [letter_id]


def test_marking_posted_twice(world: World) -> None:
    letter_id = _queue_letter(world)
    debtors.mark_posted(world.rt, world.org_id, [letter_id], QUEUED)
    (again,) = debtors.mark_posted(world.rt, world.org_id, [letter_id], QUEUED)  # the same day: nothing changes
    assert again.sent_on == QUEUED
    world.clock.day(date(2026, 3, 10))
    with pytest.raises(PermanentError, match="already marked posted on 2026-03-06"):
        debtors.mark_posted(world.rt, world.org_id, [letter_id], date(2026, 3, 10))
    with pytest.raises(PermanentError, match="does not wait for the post"):
        debtors.print_letters(world.rt, world.org_id, [letter_id], date(2026, 3, 10))


# --- export and erasure ----------------------------------------------------------------------------------------


def test_export_holds_everything_about_the_debtor(any_world: World, tmp_path: Path) -> None:
    _queue_letter(any_world)
    debtors.record_contact(any_world.rt, any_world.org_id, any_world.adm_id, "c1", channel="note", note="called back")
    result = debtors.export_debtor(any_world.rt, any_world.org_id, any_world.adm_id, "C-c1", tmp_path / "out")
    data = json.loads(result.path.read_text(encoding="utf-8"))
    records = data["records"]
    assert [d["name"] for d in records["debtors"]] == ["J. Jansen"]
    assert [i["provider_ref"] for i in records["invoices"]] == ["i1"]
    assert len(records["letters"]) == 1 and records["letters"][0]["printed_term_ends"] == "2026-03-24"
    assert any(m["note"] == "called back" for m in records["contact_moments"])
    assert records["outbox"] and records["audit"], "the dunning steps and the audit trail are part of the export"
    assert len(result.files) == 1 and result.files[0].read_bytes().startswith(b"%PDF")


def test_erasure_waits_for_the_claim_and_leaves_no_personal_data(any_world: World, tmp_path: Path) -> None:
    w = any_world
    letter_id = _queue_letter(w)
    (letter,) = debtors.letters_to_post(w.rt, w.org_id)
    with pytest.raises(PermanentError, match="still has 1 open invoice"):
        debtors.erase_debtor(w.rt, w.org_id, w.adm_id, "c1", confirm=True)
    w.invoice("i1", "c1", date(2026, 2, 1), "1000.00", open_amount="0.00", status="paid")
    with pytest.raises(PermanentError, match="add --confirm"):
        debtors.erase_debtor(w.rt, w.org_id, w.adm_id, "c1")
    counts = debtors.erase_debtor(w.rt, w.org_id, w.adm_id, "c1", confirm=True)
    assert counts["debtors"] == 1 and counts["letters"] == 1 and counts["invoices"] == 1
    with w.rt.sessions() as s:
        left = repos.debtor_rows(s, w.org_id, w.adm_id, "c1")
        (entry,) = [e for e in repos.audit_trail(s, w.org_id) if e.kind == "debtor_erased"]
    assert all(rows == [] for rows in left.values()), {k: len(v) for k, v in left.items() if v}
    assert letter.file and not Path(letter.file).exists(), "the letter PDF was not deleted"
    assert entry.debtor_ref is None and "Jansen" not in entry.message and "c1" not in json.dumps(entry.data)
    with pytest.raises(PermanentError):
        debtors.mark_posted(w.rt, w.org_id, [letter_id], QUEUED)


# --- retention -------------------------------------------------------------------------------------------------


def _at(w: World, day: date) -> datetime:
    w.clock.day(day)
    return w.clock()


def test_synced_copies_go_30_days_after_disconnect(any_world: World) -> None:
    w = any_world
    _queue_letter(w)
    with transaction(w.rt.sessions) as s:
        repos.get_administration(s, w.org_id, w.adm_id).suspended = True  # no longer reachable through the grant
    first = _at(w, date(2026, 4, 1))
    assert debtors.run_retention(w.rt, w.org_id, first)["disconnected_administrations"] == 0
    assert debtors.run_retention(w.rt, w.org_id, first + timedelta(days=29))["disconnected_administrations"] == 0
    with w.rt.sessions() as s:
        assert repos.get_invoices(s, w.org_id, w.adm_id), "purged before 30 days"
    assert debtors.run_retention(w.rt, w.org_id, first + timedelta(days=30))["disconnected_administrations"] == 1
    with w.rt.sessions() as s:
        assert repos.get_invoices(s, w.org_id, w.adm_id) == [] and repos.get_debtors(s, w.org_id, w.adm_id) == {}
        assert repos.reminder_states(s, w.org_id, w.adm_id), "our own dunning history must stay"
        assert repos.letter_evidence(s, w.org_id, w.adm_id), "letters stay while the claim can be enforced"
        (entry,) = [e for e in repos.audit_trail(s, w.org_id) if e.kind == "retention"]
    assert entry.debtor_ref is None and entry.invoice_ref is None and "Jansen" not in entry.message
    assert entry.data["counts"]["invoices"] == 1


def test_a_reconnected_administration_is_not_purged(world: World) -> None:
    _queue_letter(world)
    with transaction(world.rt.sessions) as s:
        repos.get_administration(s, world.org_id, world.adm_id).suspended = True
    first = _at(world, date(2026, 4, 1))
    debtors.run_retention(world.rt, world.org_id, first)
    with transaction(world.rt.sessions) as s:
        repos.get_administration(s, world.org_id, world.adm_id).suspended = False
    debtors.run_retention(world.rt, world.org_id, first + timedelta(days=10))
    assert (
        debtors.run_retention(world.rt, world.org_id, first + timedelta(days=40))["disconnected_administrations"] == 0
    )
    with world.rt.sessions() as s:
        assert repos.get_administration(s, world.org_id, world.adm_id).disconnected_at is None


@pytest.mark.parametrize(
    ("status", "paid_on", "run_on", "kept"),
    [
        ("open", None, date(2040, 1, 1), True),  # the claim is open: kept, whatever the date
        ("paid", date(2026, 4, 20), date(2031, 4, 20), True),  # five years after closing: still kept that day
        ("paid", date(2026, 4, 20), date(2031, 4, 21), False),  # the day after: purged
    ],
)
def test_letters_are_kept_while_the_claim_can_be_enforced(
    world: World, status: str, paid_on: date | None, run_on: date, kept: bool
) -> None:
    letter_id = _queue_letter(world)
    (letter,) = debtors.letters_to_post(world.rt, world.org_id)
    debtors.mark_posted(world.rt, world.org_id, [letter_id], QUEUED)
    if status == "paid":
        world.invoice("i1", "c1", date(2026, 2, 1), "1000.00", open_amount="0.00", status="paid")
        with transaction(world.rt.sessions) as s:
            (row,) = repos.get_invoices(s, world.org_id, world.adm_id, ["i1"])
            row.paid_on = paid_on
    removed = debtors.run_retention(
        world.rt, world.org_id, datetime(run_on.year, run_on.month, run_on.day, 12, tzinfo=UTC)
    )
    assert removed["letters"] == (0 if kept else 1)
    assert bool(letter.file and Path(letter.file).exists()) is kept, "the PDF goes with its evidence"


@pytest.mark.parametrize(("may_replace", "goes"), [(False, "post"), (True, "email")])
def test_a_letter_level_is_e_mailed_only_when_the_policy_says_so(world: World, may_replace: bool, goes: str) -> None:
    """The debtor has an e-mail address; the letter level's policy says whether e-mail may replace the letter."""
    world.debtor("c1", segment="b2c", name="J. Jansen", email="jansen@example.org")
    debtors.set_default_start(world.rt, world.org_id, world.adm_id, "c1", False)
    world.invoice("i1", "c1", date(2026, 2, 1), "1000.00")
    world.set_state("i1", level=3, level_name="Phone call", level_reached_on=date(2026, 2, 18))
    world.run(QUEUED)
    (item,) = world.outbox("fourteen_day_letter")
    assert item.channel.value == "letter" and item.payload.email_may_replace_letter, "the default policy allows it"
    item = item.model_copy(
        update={"payload": item.payload.model_copy(update={"email_may_replace_letter": may_replace})}
    )
    with world.rt.sessions() as s:
        adm = repos.get_administration(s, world.org_id, world.adm_id)
        row = repos.get_debtors(s, world.org_id, world.adm_id, ["c1"])["c1"]
        invoices = [repos.invoice_row_to_model(i) for i in repos.get_invoices(s, world.org_id, world.adm_id, ["i1"])]
    if goes == "post":
        assert deliver(world.rt, adm, item, invoices, row, QUEUED).part.channel == "post"
    else:  # it tries the e-mail channel, which this installation has not switched on
        with pytest.raises(ConfigurationError, match="e-mail sending is off"):
            deliver(world.rt, adm, item, invoices, row, QUEUED)
