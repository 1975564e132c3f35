"""Moneybird sandbox: deterministic seed data (administrations, contacts, workflows, invoices in every state).

Called once by the sandbox state (``state.py``) when no persisted state exists. Builds its records with the
factories of ``records.py`` (amounts in integer cents, dates as ISO strings) that ``render.py`` renders in the
spec's shapes. Deterministic for a given seed and clock date, and O(n) in the number of invoices so the
benchmark's 10,000-invoice administration is generated quickly.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sandboxes.moneybird.records import IdSource, new_administration, new_contact, new_invoice, today_in_amsterdam
from sandboxes.moneybird.render import PAUSED_NEXT_REMINDER, Record, stamp

FIRST_ID = 496081500000000000

COMPANIES = (
    "Bakkerij De Gouden Korst B.V.",
    "Van Dijk Installatietechniek B.V.",
    "Groothandel Noord B.V.",
    "Jansen & Zonen Transport",
    "Bloemenhuis Flora",
    "Studio Pixelwerk",
    "De Vries Bouw B.V.",
    "Koffiebranderij Het Anker",
    "Technisch Bureau Smit",
    "Hoveniersbedrijf Groen",
    "Drukkerij Visser",
    "Autobedrijf Bakker",
    "Fietsenmakerij Snel",
    "Advocatenkantoor Mulder",
    "Zorgcentrum De Linde",
    "Timmerbedrijf Hout & Co",
    "Schoonmaakbedrijf Glans",
    "ICT Partners Utrecht B.V.",
    "Restaurant De Haven",
    "Kaashandel Gouda",
    "Elektro Peters",
    "Architectenbureau Lijn",
    "Rijschool Veilig",
    "Tandartspraktijk Wit",
)
FIRST_NAMES = ("Jan", "Sanne", "Pieter", "Fatima", "Daan", "Emma", "Mohamed", "Lotte", "Bram", "Anouk", "Kees")
LAST_NAMES = ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "Yilmaz")
CITIES = (("Amsterdam", "1012AB"), ("Utrecht", "3511CD"), ("Rotterdam", "3011EF"), ("Groningen", "9711GH"))


def at(day: date, seconds: int) -> datetime:
    """A UTC instant on ``day`` (Amsterdam office hours), offset by ``seconds``."""
    return datetime.combine(day, time(8, 0), tzinfo=UTC) + timedelta(seconds=seconds)


def new_state(
    *, seed: int, now: datetime, administrations: int, invoices: int, contacts: int, sizes: Sequence[int] | None = None
) -> dict[str, Any]:
    """``sizes`` (invoices per administration, one each) replaces ``administrations`` x ``invoices``; contacts then
    follow each administration's size."""
    data: dict[str, Any] = {
        "format": 1,
        "seed": seed,
        "seed_date": today_in_amsterdam(now).isoformat(),
        "next_id": FIRST_ID,
        "last_tick": today_in_amsterdam(now).isoformat(),
        "administrations": {},
        "deliveries": [],
        "oauth": {"codes": {}, "access_tokens": {}, "refresh_tokens": {}},
    }
    next_id = IdSource(data)
    counts = list(sizes) if sizes is not None else [invoices] * max(2, administrations)
    for index, count in enumerate(counts):
        rng = random.Random(f"{seed}-{index}")
        adm = new_administration(index, next_id, now)
        _seed_contacts(adm, rng, next_id, now, contacts if sizes is None else max(6, min(count // 4 + 4, 200)))
        _seed_invoices(adm, rng, next_id, now, count)
        data["administrations"][adm["info"]["id"]] = adm
    return data


def _seed_contacts(adm: Record, rng: random.Random, next_id: IdSource, now: datetime, count: int) -> None:
    adm_id = adm["info"]["id"]
    for number in range(1, max(4, count) + 1):
        created = stamp(now - timedelta(days=500 - number))
        consumer = number % 3 == 0  # one in three contacts is a B2C person
        company = (
            None
            if consumer
            else COMPANIES[(number - 1) % len(COMPANIES)] + ("" if number <= len(COMPANIES) else f" {number}")
        )
        person = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)) if consumer or number % 4 == 1 else None
        kvk = None if consumer else f"{rng.randrange(10_000_000, 99_999_999)}"
        contact = new_contact(
            adm_id,
            next_id(),
            number,
            person=person,
            company=company,
            kvk=kvk,
            city=CITIES[number % len(CITIES)],
            created=created,
        )
        adm["contacts"][contact["id"]] = contact


# The first invoices of every administration cover every state; the rest are drawn at random.
_FIXED_KINDS = (
    "draft",
    "scheduled",
    "open",
    "pending_payment",
    "reminded",
    "late",
    "paid",
    "uncollectible",
    "credit",
    "part_paid",
    "paused",
)


def _seed_invoices(adm: Record, rng: random.Random, next_id: IdSource, now: datetime, count: int) -> None:
    today = today_in_amsterdam(now)
    contacts = list(adm["contacts"])
    auto, manual = adm["workflows"]
    user_id = adm["users"][0]["id"]
    paid_ids: list[str] = []
    for index in range(count):
        kind = _FIXED_KINDS[index] if index < len(_FIXED_KINDS) else _draw_kind(rng)
        excl = rng.randrange(5_000, 500_000) if rng.random() < 0.9 else rng.randrange(500_000, 2_500_000)
        terms = rng.choice((14, 14, 30, 30, 60))
        if kind == "paid" or (kind == "credit" and not paid_ids):
            invoice_date = today - timedelta(days=rng.randrange(terms, 425))  # spread over ~14 months
            due = invoice_date + timedelta(days=terms)
        elif kind == "scheduled":
            invoice_date = today + timedelta(days=rng.randrange(1, 15))
            due = invoice_date + timedelta(days=terms)
        else:
            low, high = {"late": (-60, 0), "open": (0, 31)}.get(kind, (-60, 31))
            due = today + timedelta(days=rng.randrange(low, high))  # due 60 days ago .. 30 days ahead
            invoice_date = min(due - timedelta(days=terms), today)
        workflow = auto if kind == "reminded" or (kind != "late" and rng.random() < 0.35) else manual
        created = at(min(invoice_date, today), rng.randrange(0, 30_000))
        inv = new_invoice(
            adm,
            next_id,
            contact_id=contacts[rng.randrange(len(contacts))],
            excl_cents=excl,
            invoice_date=None if kind == "draft" else invoice_date,
            due_date=due,
            created=created,
            workflow=workflow,
            draft=kind == "draft",
        )
        moment = created

        def event(
            action: str,
            day: date | None = None,
            data: dict[str, Any] | None = None,
            inv: Record = inv,
        ) -> None:
            nonlocal moment
            moment = max(moment, at(day, rng.randrange(0, 30_000)) if day else moment) + timedelta(seconds=7)
            moment = min(moment, now)
            inv["events"].append(
                {"action": action, "user_id": user_id, "data": data or {}, "created_at": stamp(moment)}
            )

        event("sales_invoice_created")
        if kind == "draft":
            inv["state"] = "draft"
        elif kind == "scheduled":
            inv.update(state="scheduled", sent_at=None)
        else:
            event("sales_invoice_state_changed_to_open")
            event("sales_invoice_send_email", data={"email_address": adm["contacts"][inv["contact_id"]]["email"]})
            _settle(adm, inv, kind, rng, next_id, today, paid_ids, event, user_id, auto)
        inv["updated_at"] = inv["events"][-1]["created_at"]
        adm["invoices"][inv["id"]] = inv
        if inv["state"] == "paid" and not inv["original_sales_invoice_id"]:
            paid_ids.append(inv["id"])


def _draw_kind(rng: random.Random) -> str:
    roll = rng.random()
    for kind, upto in (
        ("draft", 0.03),
        ("scheduled", 0.05),
        ("credit", 0.08),
        ("paid", 0.45),
        ("part_paid", 0.58),
        ("paused", 0.64),
        ("pending_payment", 0.67),
        ("uncollectible", 0.69),
    ):
        if roll < upto:
            return kind
    return "unpaid"


def _settle(
    adm: Record,
    inv: Record,
    kind: str,
    rng: random.Random,
    next_id: IdSource,
    today: date,
    paid_ids: list[str],
    event: Any,
    user_id: str,
    auto: Record,
) -> None:
    """Give a sent seed invoice its payments, reminders and final state."""
    due = date.fromisoformat(inv["due_date"])
    total = inv["excl_cents"] + inv["tax_cents"]

    def pay(cents: int, day: date, credit_invoice_id: str | None = None) -> None:
        inv["payments"].append(
            {
                "id": next_id(),
                "price_cents": cents,
                "payment_date": day.isoformat(),
                "user_id": user_id,
                "credit_invoice_id": credit_invoice_id,
                "manual_payment_action": "bank_transfer",
                "created_at": "",
                "financial_account_id": None,
                "transaction_identifier": None,
            }
        )
        event("payment_registered", day)
        inv["payments"][-1]["created_at"] = inv["events"][-1]["created_at"]

    if kind == "credit" and paid_ids:
        original = adm["invoices"][paid_ids[rng.randrange(len(paid_ids))]]
        inv.update(
            excl_cents=-original["excl_cents"],
            tax_cents=-original["tax_cents"],
            original_sales_invoice_id=original["id"],
            contact_id=original["contact_id"],
        )
        inv["lines"][0].update(price_cents=-original["excl_cents"], description="Creditering")
        total = -(original["excl_cents"] + original["tax_cents"])
        kind = "paid"
    if kind == "paid":
        pay_day = min(today, date.fromisoformat(inv["invoice_date"]) + timedelta(days=rng.randrange(1, 45)))
        if rng.random() < 0.2 and total > 0:
            pay(total // 3, pay_day - timedelta(days=1))
        pay(total - sum(p["price_cents"] for p in inv["payments"]), pay_day)
        inv["paid_at"] = pay_day.isoformat()
        inv["state"] = "paid"
        event("sales_invoice_state_changed_to_paid", pay_day)
        return
    if kind == "part_paid":
        pay(total // rng.choice((2, 3, 4)), min(today, due - timedelta(days=3)))
    inv["state"] = "late" if due < today else "open"
    if kind == "pending_payment":
        inv["state"] = "pending_payment"
        event("sales_invoice_state_changed_to_pending_payment", today)
    elif kind == "uncollectible":
        inv.update(state="uncollectible", marked_uncollectible_on=today.isoformat())
        event("sales_invoice_marked_as_uncollectible", today)
        event("sales_invoice_state_changed_to_uncollectible", today)
    elif kind == "paused":
        inv.update(paused=True, next_reminder=PAUSED_NEXT_REMINDER)
        event("sales_invoice_paused", today)
    elif kind == "reminded" and due >= today:
        inv["due_date"] = (today - timedelta(days=20)).isoformat()
        due = date.fromisoformat(inv["due_date"])
    if inv["state"] == "late":
        event("sales_invoice_state_changed_to_late", due + timedelta(days=1))
        if inv["workflow_id"] == auto["id"] and not inv["paused"]:
            _auto_reminders(inv, auto, due, today, event)


def _auto_reminders(inv: Record, workflow: Record, due: date, today: date, event: Any) -> None:
    """Moneybird's own workflow already reminded this late invoice (reminder_auto_send steps)."""
    next_day = due + timedelta(days=workflow["steps"][0]["reminder_delay"])
    for step in workflow["steps"]:
        if next_day > today:
            break
        inv["reminder_count"] += 1
        inv["state"] = "reminded"
        event("sales_invoice_send_reminder_email", next_day, {"reminder_text": step["reminder_text"]})
        event("sales_invoice_state_changed_to_reminded", next_day)
        next_day = next_day + timedelta(days=step["reminder_delay"])
    inv["next_reminder"] = next_day.isoformat() if inv["reminder_count"] else inv["due_date"]
