"""Ten simulated weeks on Moneybird, Xero and Exact (docs/architecture.md#testing): the whole product under one
controlled clock.

Every day the sandbox and our runtime move to the same simulated day, then: incremental sync, the debtor checks,
the rules for that day and the outbox drain. What the debtors received (the SMTP mailbox) and what the package
received (the sandbox's write-backs) is checked against the policy ladder: exactly once each, in order, nothing
while held, paid, in an arrangement or handed over, and a consumer's costs only after the 14-day letter's term.
The story itself is in ``scenario.py``; the world (stack, clock, collectors) in ``world.py``.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from connector import decide, outbox
from connector.channels.templating import money
from connector.debtors import list_arrangements
from connector.model.outbox import OutboxItem
from connector.rules.letter import letter_dates
from connector.rules.snapshot import LetterChannel
from connector.storage import repos
from tests.e2e_weeks.scenario import (
    FULL_PAYMENT_WEEK,
    HOLD_DAY,
    LADDER_ACTIONS,
    PART_PAYMENT,
    PART_PAYMENT_DAY,
    RELEASE_DAY,
    SAFE_MODE_DAYS,
    START,
    Story,
    day_number,
    play,
)
from tests.e2e_weeks.world import Mail, World, note_marker, numbers_listed, start_world

PROVIDERS = ("moneybird", "xero", "exact")
PROVIDER_SENT = {"friendly_reminder", "reminder", "final_notice"}  # Moneybird's send_reminders sends these
SENT = {"done", "task_open"}
NOTE_KINDS = {"note", "history"}
LADDER = frozenset(LADDER_ACTIONS)
# docs/credit-management.md#payment-arrangements: reminders follow an arrangement's schedule
INSTALLMENTS = frozenset({"installment_reminder"})
COST_LINE = re.compile(r"^(Incassokosten|Collection costs): ", re.MULTILINE)
NOTICE = re.compile(r"^(Hierbij stellen wij u in gebreke|This is a formal notice of default)\.", re.MULTILINE)


@pytest.fixture(scope="module", params=PROVIDERS)
def played(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Story]]:
    tmp = tmp_path_factory.mktemp(request.param)
    with pytest.MonkeyPatch.context() as monkeypatch:
        world = start_world(request.param, START, tmp, monkeypatch)
        try:
            yield world, play(world, tmp / "dossiers")
        finally:
            world.run.shutdown()


def ladder(world: World, story: Story, actions: frozenset[str] = LADDER) -> dict[str, list[OutboxItem]]:
    """Our dunning steps (or, with ``actions=INSTALLMENTS``, arrangement reminders) per debtor, oldest first."""
    steps: dict[str, list[OutboxItem]] = defaultdict(list)
    for item in world.outbox_items():
        if item.action in actions:
            debtor = story.debtor_of(item.debtor_ref)
            assert debtor is not None, f"a step for a debtor the scenario did not create: {item.debtor_ref}"
            steps[debtor].append(item)
    return steps


def mails_to(world: World, story: Story, debtor: str) -> list[tuple[date, Mail]]:
    return [(day, mail) for day, mail in world.mails if mail.to == story.emails[debtor]]


def writes_for(world: World, invoice_id: str) -> list[tuple[date, dict[str, object]]]:
    return [(day, w) for day, w in world.writes if invoice_id in (w.get("invoice_ids") or [])]


def delivered(item: OutboxItem) -> dict[str, str]:
    part = item.payload.delivered
    return part.model_dump(mode="json", exclude_none=True) if part else {}


def test_nothing_is_sent_in_safe_mode_and_the_first_step_follows_the_switch(played: tuple[World, Story]) -> None:
    world, story = played  # play() asserted after each safe-mode day: no outbox item, no mail, no write-back
    assert story.safe_mode_previews >= len(story.debtor_ids), "safe mode previewed nothing: the check proves nothing"
    first = min(item.run_date for steps in ladder(world, story).values() for item in steps)
    assert first == START + timedelta(days=SAFE_MODE_DAYS)


def test_every_message_went_out_exactly_once(played: tuple[World, Story]) -> None:
    world, story = played
    ids = [mail.message_id for _day, mail in world.mails]
    assert ids, "nothing was e-mailed"
    assert len(ids) == len(set(ids)), "a Message-ID arrived twice"
    steps = [item for items in ladder(world, story).values() for item in items]
    installments = [item for items in ladder(world, story, INSTALLMENTS).values() for item in items]
    by_message_id = {
        delivered(i)["message_id"]: i for i in steps + installments if delivered(i).get("channel") == "email"
    }
    assert set(by_message_id) == set(ids), "the mailbox and our outbox disagree on what was e-mailed"
    for day, mail in world.mails:
        item = by_message_id[mail.message_id]
        debtor = story.debtor_of(item.debtor_ref)
        assert debtor is not None and mail.to == story.emails[debtor]
        assert item.done_at is not None and mail.sent.date() == item.done_at.date() == day
        assert item.run_date == day or item.action == "credit_stop", "only an approved step goes out after its run"
        assert numbers_listed(mail.text, story.numbers) == set(item.invoice_refs), mail.subject
    per_level = Counter((i.debtor_ref, i.level) for i in steps)
    assert max(per_level.values()) == 1, f"two steps for one (debtor, level): {per_level.most_common(1)}"
    per_run = Counter((i.debtor_ref, i.run_date) for i in steps)
    assert max(per_run.values()) == 1, f"two steps for one debtor in one run: {per_run.most_common(1)}"
    a_steps = ladder(world, story)["A"]
    assert all(set(i.invoice_refs) == set(story.refs("A")) for i in a_steps), "A's invoices were not grouped"


def test_levels_follow_the_policy_ladder_in_order(played: tuple[World, Story]) -> None:
    world, story = played
    policies, _rates = decide.load_rules(world.rt)
    for debtor, steps in ladder(world, story).items():
        policy = policies["b2c" if debtor == "F" else "b2b"]
        assert [i.level for i in steps] == list(range(len(steps))), f"{debtor} skipped or repeated a level"
        assert [i.run_date for i in steps] == sorted({i.run_date for i in steps})
        for item in steps:
            level = policy.levels[item.level]
            assert (item.action, item.level_name) == (level.action.value, level.name)
            approved = item.action == "credit_stop" and debtor == "A"  # the scenario approves this one only
            assert (item.status == "awaiting_approval") == (level.requires_approval and not approved)
    assert len(ladder(world, story)["A"]) == 8, "A should climb the whole B2B ladder in ten weeks"


def test_steps_reach_the_debtor_through_the_right_channel_and_are_written_back(
    played: tuple[World, Story],
) -> None:
    world, story = played
    steps = [item for items in ladder(world, story).values() for item in items if item.status in SENT]
    installments = [item for items in ladder(world, story, INSTALLMENTS).values() for item in items]
    reminder_writes = sorted(
        (day, tuple(sorted(w["invoice_ids"]))) for day, w in world.writes if w["kind"] == "reminder"
    )
    reminders = [i for i in steps if i.action in PROVIDER_SENT]
    # a step that charges costs or interest, or is a consumer's notice of default, is always ours: the package's
    # reminder would not state the amounts, nor put the debtor in default
    charging = [i for i in reminders if i.payload.needs_our_text]
    by_provider = [i for i in reminders if i not in charging]
    assert by_provider and charging, "the scenario should have both uncharged and charged reminder steps"
    assert all(delivered(i).get("channel") == "email" for i in charging)
    for item in charging:  # ...and our e-mail states what is charged, or gives the notice
        (mail,) = [m for _day, m in world.mails if m.message_id == delivered(item)["message_id"]]
        if item.payload.costs:
            assert COST_LINE.search(mail.text), f"{item.level_name}: the charged costs are not in the e-mail"
        if item.payload.notice_term_days is not None:
            assert NOTICE.search(mail.text), f"{item.level_name}: the notice of default is not in the e-mail"
    if world.provider == "moneybird":  # the package itself sends the uncharged reminders
        assert reminder_writes == sorted((i.run_date, tuple(sorted(i.invoice_refs))) for i in by_provider)
        assert not [i for i in by_provider if delivered(i)], "Moneybird sends these itself; we must not e-mail"
    else:  # Xero and Exact cannot send reminders: our e-mail does, and the step is noted in the package
        assert not reminder_writes
        assert all(delivered(i).get("channel") == "email" for i in by_provider)
    for item in steps + installments:
        if item.action == "credit_stop":  # written on the debtor, not per invoice: see the credit-stop test
            continue
        marker = note_marker(world.provider, item.idempotency_key)
        for ref in item.invoice_refs:
            notes = [
                w for _day, w in writes_for(world, ref) if w["kind"] in NOTE_KINDS and marker in str(w.get("text"))
            ]
            assert len(notes) == 1, f"{item.level_name} for {ref}: {len(notes)} notes in the package"
    letters = [i for i in steps if i.action in ("demand_letter", "fourteen_day_letter")]
    assert letters and all(delivered(i).get("channel") == "email" for i in letters)
    for _day, mail in world.mails:
        if mail.attachments:
            assert all(content.startswith(b"%PDF") for _name, content in mail.attachments)


def test_an_approved_credit_stop_is_sent_once_and_written_back_on_the_debtor(played: tuple[World, Story]) -> None:
    world, story = played
    (stop,) = [i for i in ladder(world, story)["A"] if i.action == "credit_stop"]
    approved = story.credit_stop_approved_day
    assert stop.status == "done" and approved == day_number(stop.run_date) + 1
    (mail,) = [m for d, m in mails_to(world, story, "A") if day_number(d) >= approved]
    assert mail.message_id == delivered(stop)["message_id"]
    assert numbers_listed(mail.text, story.numbers) == set(story.refs("A"))
    on_debtor = [w for d, w in world.writes if day_number(d) == approved]
    debtor_id = story.debtor_ids["A"]
    if world.provider == "xero":  # docs/providers/xero.md#write-back: a contact group
        assert [(w["kind"], w["action"]) for w in on_debtor] == [("contact_group", "create"), ("contact_group", "add")]
        assert on_debtor[1]["contact_ids"] == [debtor_id]
    else:  # a note on the contact (Moneybird) or the account (Exact; Blocked only when opted in)
        (note,) = on_debtor
        assert note["kind"] == "note" and "Kredietstop" in str(note["text"])
        assert world.provider != "exact" or note["account"] == debtor_id
    others = [i for steps in ladder(world, story).values() for i in steps if i.action in ("credit_stop", "hand_over")]
    assert all(i.status == "awaiting_approval" for i in others if i.id != stop.id), "sent without approval"


def test_payments_re_evaluate_and_the_freshness_gate_stops_a_paid_invoice(played: tuple[World, Story]) -> None:
    world, story = played
    steps = ladder(world, story)["B"]
    total = story.totals[story.invoice_ids["B1"]]
    paid_day = story.full_payment_day
    assert paid_day is not None and paid_day in FULL_PAYMENT_WEEK, "B was never paid in full"
    assert paid_day != FULL_PAYMENT_WEEK[-1], "no step was pending for B in week 5: the gate was not exercised"
    before = [i for i in steps if day_number(i.run_date) < PART_PAYMENT_DAY]
    after = [i for i in steps if PART_PAYMENT_DAY <= day_number(i.run_date) < paid_day]
    assert before and after
    assert {i.payload.open_amount for i in before} == {total}
    assert after[0].payload.open_amount == total - PART_PAYMENT
    emailed = [mail for _day, mail in mails_to(world, story, "B") if day_number(_day) >= PART_PAYMENT_DAY]
    for mail in emailed:  # the message shows the new open amount next to the invoice amount
        assert money(total - PART_PAYMENT, "EUR", "nl") in mail.text and money(total, "EUR", "nl") in mail.text
    if world.provider != "moneybird":
        assert emailed, "no e-mail after the part payment"
    gated = [i for i in steps if day_number(i.run_date) == paid_day]
    assert [i.status for i in gated] == ["skipped"], "the payment after the decision did not stop the send"
    assert "freshness gate" in (world_audit_detail(world, gated[0]) or "")
    assert not [i for i in steps if day_number(i.run_date) > paid_day]
    assert not [m for d, m in mails_to(world, story, "B") if day_number(d) >= paid_day]
    assert not [
        w
        for d, w in writes_for(world, story.invoice_ids["B1"])
        if day_number(d) >= paid_day and w["kind"] == "reminder"
    ]


def world_audit_detail(world: World, item: OutboxItem) -> str | None:
    with world.rt.sessions() as s:
        entries = repos.audit_trail(s, world.org_id, kind="outbox_skipped", limit=1000)
    return next((e.message for e in entries if (e.data or {}).get("idempotency_key") == item.idempotency_key), None)


def test_a_disputed_invoice_waits_and_resumes_at_the_next_level(played: tuple[World, Story]) -> None:
    world, story = played
    steps = ladder(world, story)["C"]
    held = [i for i in steps if HOLD_DAY <= day_number(i.run_date) < RELEASE_DAY]
    assert not held, f"sent while disputed: {[(i.run_date, i.level_name) for i in held]}"
    last_before = [i for i in steps if day_number(i.run_date) < HOLD_DAY][-1]
    first_after = next(i for i in steps if day_number(i.run_date) >= RELEASE_DAY)
    assert (first_after.level, day_number(first_after.run_date)) == (last_before.level + 1, RELEASE_DAY)
    assert not [m for d, m in mails_to(world, story, "C") if HOLD_DAY <= day_number(d) < RELEASE_DAY]
    notes = [str(w.get("text")) for _d, w in writes_for(world, story.invoice_ids["C1"]) if w["kind"] in NOTE_KINDS]
    assert sum("gepauzeerd" in n and "dispute" in n for n in notes) == 1, "the hold was not noted in the package"
    assert sum("hervat" in n for n in notes) == 1, "the release was not noted in the package"


def test_an_arrangement_pauses_the_ladder_until_an_installment_is_missed(played: tuple[World, Story]) -> None:
    world, story = played
    steps = ladder(world, story)["D"]
    first_reminder = next(i for i in steps if i.action == "reminder")
    assert story.arrangement_day == day_number(first_reminder.run_date) + 1
    (plan,) = [p for p in list_arrangements(world.rt, world.org_id) if p["id"] == story.arrangement_id]
    assert [(i["paid"], i["due_date"]) for i in plan["installments"]] == [
        (True, (START + timedelta(days=14)).isoformat()),
        (False, (START + timedelta(days=28)).isoformat()),
        (False, (START + timedelta(days=42)).isoformat()),
    ]
    assert plan["status"] == "broken"
    broken = [day for day, check in world.checks.items() if check.arrangements_broken]
    assert [day_number(d) for d in broken] == [28 + 3 + 1], "installment 2 (day 28) + 3 grace days, missed on 32"
    paused = [i for i in steps if story.arrangement_day <= day_number(i.run_date) < day_number(broken[0])]
    assert not paused, f"sent during the arrangement: {[(i.run_date, i.level_name) for i in paused]}"
    resumed = next(i for i in steps if i.run_date >= broken[0])
    assert (resumed.run_date, resumed.level) == (broken[0], first_reminder.level + 1)
    assert resumed.payload.open_amount == story.totals[story.invoice_ids["D1"]] - Decimal("403.33")
    reminded = ladder(world, story, INSTALLMENTS)["D"]  # the schedule's own reminders, paid or not, until it broke
    assert [(i.payload.installment.number, day_number(i.run_date), i.status) for i in reminded] == [
        (1, 14 - 3, "done"),
        (2, 28 - 3, "done"),
    ]
    for item in reminded:
        (mail,) = [m for _d, m in world.mails if m.message_id == delivered(item)["message_id"]]
        assert mail.to == story.emails["D"] and money(item.payload.installment.amount) in mail.text
    notes = [str(w.get("text")) for _d, w in writes_for(world, story.invoice_ids["D1"]) if w["kind"] in NOTE_KINDS]
    assert sum("Betalingsregeling: 3 termijnen" in n for n in notes) == 1, "the arrangement was not noted"
    assert sum("Betalingsregeling niet nagekomen" in n for n in notes) == 1, "the broken arrangement was not noted"


def test_a_handed_over_debtor_gets_nothing_more_and_has_a_dossier(played: tuple[World, Story]) -> None:
    world, story = played
    steps = ladder(world, story)["E"]
    demand = next(i for i in steps if i.action == "demand_letter")
    assert story.hand_over is not None and story.hand_over_day == day_number(demand.run_date) + 1
    assert not [i for i in steps if day_number(i.run_date) >= story.hand_over_day]
    assert not [m for d, m in mails_to(world, story, "E") if day_number(d) >= story.hand_over_day]
    invoice = story.invoice_ids["E1"]
    later = [w for d, w in writes_for(world, invoice) if day_number(d) >= story.hand_over_day]
    assert not [w for w in later if w["kind"] == "reminder"]
    assert sum("Overgedragen aan incassobureau" in str(w.get("text")) for w in later) == 1
    result = story.hand_over
    assert result.pdf_path.read_bytes().startswith(b"%PDF")
    rows = list(csv.DictReader(io.StringIO(result.csv_path.read_text("utf-8"))))
    assert {r["reference"] for r in rows if r["record_type"] == "invoice"} == {story.numbers[invoice]}
    contacts = [r for r in rows if r["record_type"] == "contact"]
    with world.rt.sessions() as s:
        moments = repos.contact_moments(s, world.org_id, story.administration_id, debtor_ref=story.debtor_ids["E"])
    for moment in moments:
        assert any(r["date"] == moment.at.isoformat() and r["channel"] == moment.channel for r in contacts), moment.note
    for item in steps:
        if item.status in SENT:
            assert any(item.level_name in r["description"] for r in contacts), f"{item.level_name} not in dossier"
    assert [r for r in rows if r["record_type"] == "letter"], "the demand letter is not in the dossier"


def test_every_dossier_line_is_dated_in_simulated_time(played: tuple[World, Story]) -> None:
    _world, story = played
    assert story.hand_over is not None
    rows = list(csv.DictReader(io.StringIO(story.hand_over.csv_path.read_text("utf-8"))))
    dates = {date.fromisoformat(r["date"][:10]) for r in rows if r["record_type"] == "contact"}
    handed_over_on = START + timedelta(days=story.hand_over_day or 0)
    outside = sorted(d for d in dates if not START <= d <= handed_over_on)
    assert dates and not outside, f"contact lines dated outside the simulated weeks: {outside[:3]}"


def test_a_consumer_pays_costs_only_after_the_fourteen_day_term(played: tuple[World, Story]) -> None:
    world, story = played
    with world.rt.sessions() as s:
        debtor = repos.get_debtors(s, world.org_id, story.administration_id, [story.debtor_ids["F"]])
        (evidence,) = repos.letter_evidence(
            s, world.org_id, story.administration_id, debtor_ref=story.debtor_ids["F"], kind="fourteen_day_letter"
        )
    assert debtor[story.debtor_ids["F"]].segment == "b2c"
    steps = ladder(world, story)["F"]
    letter = next(i for i in steps if i.action == "fourteen_day_letter")
    fee = letter.payload.letter_costs.fee
    assert fee > 0 and evidence.sent_on == letter.run_date and evidence.stated_costs_minor == int(fee * 100)
    assert evidence.channel == "email" and evidence.text_counts_from_receipt is True
    assert evidence.message_id == delivered(letter)["message_id"]
    assert evidence.delivery_proof and evidence.delivery_proof.startswith("accepted by 127.0.0.1:"), evidence
    assert " 250 " in evidence.delivery_proof and evidence.message_id in evidence.delivery_proof
    dates = letter_dates(evidence.sent_on, LetterChannel.EMAIL)  # e-mailed: received the next day
    assert dates.received == evidence.sent_on + timedelta(days=1) and evidence.printed_term_ends == dates.term_ends
    chargeable = dates.costs_from
    (letter_mail,) = [m for _d, m in world.mails if m.message_id == delivered(letter)["message_id"]]
    assert money(fee, "EUR", "nl") in letter_mail.text, "the 14-day letter does not state the costs"
    assert letter_mail.attachments and not COST_LINE.search(letter_mail.text)
    charged = [i for i in steps if i.payload.costs]
    assert charged, "the consumer was never charged costs: the gate was not exercised"
    assert all(i.run_date >= chargeable for i in charged), [(i.run_date, i.level_name) for i in charged]
    assert not [i for i in steps if i.run_date < letter.run_date and i.payload.costs]
    for day, mail in mails_to(world, story, "F"):
        assert not COST_LINE.search(mail.text) or day >= chargeable, f"costs in a mail of {day}"
    if world.provider != "moneybird":  # Moneybird sends the final notice itself
        assert any(COST_LINE.search(m.text) for d, m in mails_to(world, story, "F") if d >= chargeable)


def test_a_rerun_of_the_last_day_sends_nothing(played: tuple[World, Story]) -> None:
    world, _story = played
    mails, writes = len(world.run.mailbox.messages()), len(world.sandbox.writes(world.tenant))
    report = decide.run_dunning(world.rt, world.org_id, world.today)
    drained = outbox.drain(world.rt, world.org_id)
    assert (report.queued, drained.done, drained.writebacks) == (0, 0, 0)
    assert len(world.run.mailbox.messages()) == mails and len(world.sandbox.writes(world.tenant)) == writes
