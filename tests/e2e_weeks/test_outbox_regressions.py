"""Two outbox bugs the ten-week run found, each pinned on a small world of its own.

1. With the package's own reminders on, our first reminder pauses them (double-chase guard); the next sync reads
   the invoice as paused at the provider, and without the ``paused_by_us`` marker the ladder stopped for good.
2. The write-back of a hold or a hand-over went through the freshness gate of a dunning step, which drops held
   and handed-over invoices: the note telling the package was always skipped (now
   ``connector.outbox.drain._process_manual``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connector import debtors, services
from connector.storage import repos
from tests.e2e_weeks.world import World, start_world

START = date(2026, 3, 2)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    world = start_world("moneybird", START, tmp_path, monkeypatch)
    yield world
    world.run.shutdown()


def _booked(world: World, count: int) -> list[str]:
    invoices = []
    for _ in range(count):
        invoice_id, _debtor = world.create_invoice("", Decimal("605.00"), START + timedelta(days=4), False)
        invoices.append(invoice_id)
    world.day(START)
    for adm in world.administrations():
        services.set_safe_mode(world.rt, world.org_id, adm.id, False)
    return invoices


def test_our_own_pause_of_the_package_reminders_does_not_stop_our_ladder(world: World) -> None:
    (invoice,) = _booked(world, 1)
    for n in range(1, 8):  # friendly notice on day 1 (pauses Moneybird's workflow), first reminder on day 7
        world.day(START + timedelta(days=n))
    kinds = [w["kind"] for _day, w in world.writes if invoice in w["invoice_ids"]]
    assert "pause" in kinds, "the administration has Moneybird's own reminders on: we must pause them first"
    assert kinds.count("reminder") == 2, f"the ladder stopped after our own pause: {kinds}"
    with world.rt.sessions() as s:
        state = repos.reminder_state(s, world.org_id, world.administration().id, invoice)
        assert state.level == 1 and "paused_by_us" in (state.provider_reminded_levels or [])


def test_hold_and_hand_over_notes_reach_the_package(world: World, tmp_path: Path) -> None:
    held, handed = _booked(world, 2)
    adm = world.administration().id
    assert debtors.hold_invoice(world.rt, world.org_id, adm, held, "dispute")
    with world.rt.sessions() as s:
        debtor = repos.get_invoices(s, world.org_id, adm, [handed])[0].debtor_ref
    debtors.hand_over(world.rt, world.org_id, adm, debtor, tmp_path / "dossier", today=START + timedelta(days=1))
    world.day(START + timedelta(days=1))
    notes = {
        ref: [str(w["text"]) for _day, w in world.writes if w["kind"] == "note" and ref in w["invoice_ids"]]
        for ref in (held, handed)
    }
    assert any("gepauzeerd (on hold): dispute" in text for text in notes[held]), notes[held]
    assert any("Overgedragen aan incassobureau" in text for text in notes[handed]), notes[handed]
    assert not [w for _day, w in world.writes if w["kind"] == "reminder" and {held, handed} & set(w["invoice_ids"])]
