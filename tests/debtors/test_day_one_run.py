"""The run applies the administration's day-one choice (docs/onboarding.md#day-one-choices): with ``skip_history``
an invoice due before dunning started gets no step, a newer one does; without a choice both do."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connector.storage import repos
from connector.storage.db import transaction
from tests.debtors.conftest import World


@pytest.mark.parametrize(("choice", "old_dunned"), [("skip_history", False), (None, True)])
def test_skip_history_leaves_the_old_invoice_alone(any_world: World, choice: str | None, old_dunned: bool) -> None:
    world = any_world
    day = world.clock().date()
    world.debtor("D1")
    world.invoice("OLD", "D1", day - timedelta(days=40), "500.00")
    world.invoice("NEW", "D1", day - timedelta(days=1), "200.00")
    with transaction(world.rt.sessions) as s:
        repos.set_day_one(s, world.org_id, world.adm_id, choice, day - timedelta(days=2))
    report = world.run(day)
    assert (world.state("OLD") is not None) is old_dunned, f"{choice}: the old invoice's state {world.state('OLD')}"
    assert world.state("NEW") is not None, f"{choice}: the new invoice got no step"
    if choice:
        assert report.non_decisions.get("before_start") == 1, f"{choice}: {report.non_decisions}"
