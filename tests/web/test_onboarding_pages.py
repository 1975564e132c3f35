"""The onboarding wizard through the app (test client): four steps, each stored when posted, safe mode on until
the last with its confirmation, the home page's banner until then (docs/onboarding.md#the-four-steps)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector import model
from connector.storage import repos
from connector.storage.db import transaction
from tests.web import test_access
from tests.web.test_access import World, _client


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    """test_access's world: organisation A with an administration and a member per role, organisation B."""
    yield from test_access.world.__wrapped__(db_url, tmp_path)  # type: ignore[attr-defined]


def test_four_steps_then_sending_is_on(world: World) -> None:
    rt = world.app.extensions["dunning"].runtime
    with transaction(rt.sessions) as s:
        connection = repos.list_connections(s, world.org_a)[0]
        other = repos.upsert_administration(
            s, world.org_a, connection.id, "moneybird", model.Tenant(provider_tenant_id="t-b", name="Left Out BV")
        ).id
    owner = _client(world, "owner@a.example")
    assert 'id="onboarding-banner"' in owner.get("/?lang=en").get_data(as_text=True), "no banner before onboarding"
    first = owner.get("/onboarding?lang=en").get_data(as_text=True)
    assert "Step 1 of 4" in first and "Left Out BV" in first, "step 1 does not list the administrations"
    adm = world.administration_a
    steps = [
        ("administrations", {"administration": str(adm)}, "step=policies"),
        ("policies", {f"policy-{adm}-b2b": "b2b", f"policy-{adm}-b2c": "b2c"}, "step=plan"),
        ("plan", {f"day-one-{adm}": "skip_history"}, "step=sending"),
    ]
    for step, form, goes_to in steps:
        answer = owner.post(f"/onboarding/{step}", data=form)
        assert answer.status_code == 302 and goes_to in answer.headers["Location"], f"{step}: {answer.headers}"
    refused = owner.post("/onboarding/sending", data={"administration": str(adm)})
    assert "error=confirm" in refused.headers["Location"], "sending went on without the confirmation"
    with rt.sessions() as s:
        assert repos.get_administration(s, world.org_a, adm).safe_mode, "safe mode went off before step 4"
    owner.post("/onboarding/sending", data={"administration": str(adm), "confirm": "1"})
    with rt.sessions() as s:
        chosen, left = repos.get_administration(s, world.org_a, adm), repos.get_administration(s, world.org_a, other)
        assert (chosen.paused, chosen.safe_mode, chosen.day_one) == (False, False, "skip_history"), "step results"
        assert (left.paused, left.safe_mode) == (True, True), "the administration not chosen is dunned"
        assert repos.onboarded_at(s, world.org_a) is not None, "onboarding not marked done"
    assert 'id="onboarding-banner"' not in owner.get("/").get_data(as_text=True), "banner after onboarding"


def test_the_plan_step_renders_every_choice(world: World) -> None:
    owner = _client(world, "owner@a.example")
    body = owner.get("/onboarding?step=plan&lang=en").get_data(as_text=True)
    for choice in ("reminder_1", "by_age", "skip_history"):
        assert f'value="{choice}"' in body, f"the plan step does not offer {choice}"
