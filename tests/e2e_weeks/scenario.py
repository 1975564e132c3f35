"""The ten-week story the time-machine test plays on every provider, and what it records while it plays.

Six debtors with invoices all due on day 4: A (B2B, two invoices, the plain ladder), B (B2B, part payment in week
2, paid in full in week 5 right after the rules decided its next step, so only the freshness gate can stop it),
C (disputed in week 1, released in week 4), D (a three-installment arrangement after the first reminder: the
first installment paid, the second missed), E (handed over to a collection agency after the demand letter) and F
(a consumer: the 14-day letter before any costs). The administration stays in safe mode for the first two days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from connector import debtors, services
from connector.debtors import HandOverResult
from connector.storage import repos
from tests.e2e_weeks.world import World

START = date(2026, 3, 2)  # a Monday; day n is START + n
DAYS = 70  # ten weeks
DUE = START + timedelta(days=4)
SAFE_MODE_DAYS = 2  # days 0 and 1 run in safe mode (the friendly notice falls on day 1)
HOLD_DAY, RELEASE_DAY = 5, 23  # week 1, week 4
PART_PAYMENT_DAY, PART_PAYMENT = 10, Decimal("300.00")  # week 2
FULL_PAYMENT_WEEK = range(28, 35)  # week 5
INSTALLMENT_PAID_DAY = 12
INVOICES: dict[str, tuple[tuple[str, Decimal], ...]] = {  # debtor -> (invoice key, total incl. VAT)
    "A": (("A1", Decimal("1210.00")), ("A2", Decimal("605.00"))),
    "B": (("B1", Decimal("1210.00")),),
    "C": (("C1", Decimal("968.00")),),
    "D": (("D1", Decimal("1210.00")),),
    "E": (("E1", Decimal("2420.00")),),
    "F": (("F1", Decimal("1210.00")),),
}
CONSUMERS = {"F"}
Hook = Callable[[World], None]
LADDER_ACTIONS = {
    "friendly_reminder",
    "reminder",
    "phone_task",
    "demand_letter",
    "fourteen_day_letter",
    "final_notice",
    "credit_stop",
    "hand_over",
}


def day_number(day: date) -> int:
    return (day - START).days


@dataclass
class Story:
    """What the scenario created at the provider and when its events happened (simulated day numbers)."""

    debtor_ids: dict[str, str] = field(default_factory=dict)  # "A" -> provider contact/account id
    invoice_ids: dict[str, str] = field(default_factory=dict)  # "A1" -> provider invoice id
    totals: dict[str, Decimal] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)  # provider invoice id -> invoice number (after sync)
    emails: dict[str, str] = field(default_factory=dict)  # "A" -> e-mail address (after sync)
    administration_id: int = 0
    arrangement_id: int | None = None
    arrangement_day: int | None = None
    full_payment_day: int | None = None
    hand_over_day: int | None = None
    credit_stop_approved_day: int | None = None
    hand_over: HandOverResult | None = None
    safe_mode_previews: int = 0

    def debtor_of(self, ref: str) -> str | None:
        """The scenario debtor ("A".."F") of a provider debtor ref, or None for the sandbox's own data."""
        return next((key for key, value in self.debtor_ids.items() if value == ref), None)

    def refs(self, debtor: str) -> list[str]:
        return [self.invoice_ids[key] for key, _total in INVOICES[debtor]]


def book_invoices(world: World) -> Story:
    story = Story()
    for debtor, invoices in INVOICES.items():
        consumer = debtor in CONSUMERS
        debtor_id = world.new_debtor(consumer, set(story.debtor_ids.values()))
        for key, total in invoices:
            invoice_id, debtor_id = world.create_invoice(debtor_id, total, DUE, consumer)
            story.invoice_ids[key], story.totals[invoice_id] = invoice_id, total
        story.debtor_ids[debtor] = debtor_id
    return story


def _level(world: World, story: Story, debtor: str) -> int | None:
    with world.rt.sessions() as s:
        states = repos.reminder_states(s, world.org_id, story.administration_id, story.refs(debtor))
    levels = [state.level for state in states.values() if state.level is not None]
    return min(levels) if levels else None


def _sent(world: World, story: Story, debtor: str, action: str) -> bool:
    return any(
        i.action == action and i.status == "done" and i.debtor_ref == story.debtor_ids[debtor]
        for i in world.outbox_items()
    )


def morning(story: Story, out_dir: Path) -> tuple[Hook, Hook]:
    """The day's events before the sync, and those between the rules and the drain."""

    def before_sync(world: World) -> None:
        n = day_number(world.today)
        rt, org, adm = world.rt, world.org_id, story.administration_id
        if n == SAFE_MODE_DAYS:
            for administration in world.administrations():
                services.set_safe_mode(rt, org, administration.id, False)
        if n == HOLD_DAY:
            assert debtors.hold_invoice(rt, org, adm, story.invoice_ids["C1"], "dispute")
        if n == RELEASE_DAY:
            assert debtors.release_invoice(rt, org, adm, story.invoice_ids["C1"], note="dispute resolved")
        if n == PART_PAYMENT_DAY:
            world.pay(story.invoice_ids["B1"], PART_PAYMENT)
        if story.arrangement_id is None and _sent(world, story, "D", "reminder"):  # after the first reminder
            story.arrangement_id = debtors.create_arrangement(
                rt,
                org,
                adm,
                story.debtor_ids["D"],
                [story.invoice_ids["D1"]],
                installments=3,
                first_due=START + timedelta(days=14),
                every_days=14,
                note="three installments",
            )
            story.arrangement_day = n
        if n == INSTALLMENT_PAID_DAY:
            world.pay(story.invoice_ids["D1"], Decimal("403.33"))  # installment 1 of 1210.00 / 3, on time
        if story.credit_stop_approved_day is None:  # a person approves A's credit stop the morning after
            waiting = [
                i
                for i in world.outbox_items()
                if i.status == "awaiting_approval"
                and i.action == "credit_stop"
                and i.debtor_ref == story.debtor_ids["A"]
            ]
            for item in waiting:
                services.approve(rt, org, item.id)
                story.credit_stop_approved_day = n
        if story.hand_over is None and _sent(world, story, "E", "demand_letter"):
            story.hand_over = debtors.hand_over(
                rt, org, adm, story.debtor_ids["E"], out_dir, agency="Incasso Noord B.V.", today=world.today
            )
            story.hand_over_day = n

    def after_rules(world: World) -> None:
        n = day_number(world.today)
        if n in FULL_PAYMENT_WEEK and story.full_payment_day is None:
            pending = [
                i for i in world.outbox_items() if i.status == "pending" and i.debtor_ref == story.debtor_ids["B"]
            ]
            if pending or n == FULL_PAYMENT_WEEK[-1]:  # paid after the decision, before the send
                world.pay(story.invoice_ids["B1"], story.totals[story.invoice_ids["B1"]] - PART_PAYMENT)
                story.full_payment_day = n

    return before_sync, after_rules


def play(world: World, out_dir: Path) -> Story:
    """Book the invoices, then run ten weeks day by day; returns what happened."""
    story = book_invoices(world)
    before_sync, after_rules = morning(story, out_dir)
    for n in range(DAYS):
        report = world.day(START + timedelta(days=n), before_sync, after_rules)
        if n == 0:
            story.administration_id = world.administration().id
            with world.rt.sessions() as s:
                rows = repos.get_invoices(s, world.org_id, story.administration_id, list(story.totals))
                found = repos.get_debtors(s, world.org_id, story.administration_id, list(story.debtor_ids.values()))
            story.numbers = {row.provider_ref: row.number or row.provider_ref for row in rows}
            story.emails = {key: (found[ref].email or "").lower() for key, ref in story.debtor_ids.items()}
        if n < SAFE_MODE_DAYS:
            story.safe_mode_previews += len(report.previews)
            assert not world.outbox_items() and not world.mails and not world.writes, f"safe mode sent on day {n}"
    return story
