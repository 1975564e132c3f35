"""Dunning paused from the cockpit: the run evaluates a paused administration but sends and previews nothing, and
picks it up again once it is resumed (docs/cockpit.md#bulk-actions)."""

from __future__ import annotations

from datetime import date

from connector import cockpit
from tests.debtors.conftest import World

DUE = date(2026, 1, 1)


def test_a_paused_administration_gets_no_decisions_sent_until_resumed(any_world: World) -> None:
    w = any_world
    w.debtor("d1", email="d1@x.example")
    w.invoice("i1", "d1", DUE, "500.00")
    cockpit.bulk(w.rt, w.org_id, "pause", [w.adm_id], who="tester")
    for day in (date(2026, 1, 5), date(2026, 1, 20)):  # unpaused, these runs send the first reminder
        w.run(day)
    assert w.outbox() == [], f"a paused administration got outbox items: {[i.action for i in w.outbox()]}"
    state = w.state("i1")
    assert state is None or state.level is None, "a paused administration's invoice moved up the ladder"
    cockpit.bulk(w.rt, w.org_id, "resume", [w.adm_id], who="tester")
    for day in (date(2026, 1, 28), date(2026, 2, 10), date(2026, 2, 25)):  # the ladder goes on from where it is
        w.run(day)
    assert w.outbox(), "a resumed administration still gets nothing"
