"""Connecting another package from the connections page leads into the onboarding wizard for the administrations
it added, and only those (docs/onboarding.md#connections): the administrations onboarded before stay as they
are."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector import model
from connector.connect import Connected
from connector.storage import repos
from connector.storage.db import transaction
from dashboard import oauth
from tests.web import test_access
from tests.web.test_access import World, _client


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    """test_access's world, its administration onboarded already (day-one choice made, sending on)."""
    for found in test_access.world.__wrapped__(db_url, tmp_path):  # type: ignore[attr-defined]
        rt = found.app.extensions["dunning"].runtime
        with transaction(rt.sessions) as s:
            repos.set_day_one(s, found.org_a, found.administration_a, "by_age", rt.today(found.org_a))
            repos.get_administration(s, found.org_a, found.administration_a).safe_mode = False
            repos.set_onboarded(s, found.org_a, rt.clock())
        yield found


def _consent_adds(world: World, names: list[str]) -> Any:
    """What the package's consent does in complete_connect: a connection reaching ``names``."""

    def complete(rt: Any, provider: str, code: str, state: str, **_: Any) -> Connected:
        with transaction(rt.sessions) as s:
            connection = repos.create_connection(s, world.org_a, provider)
            for n, name in enumerate(names):
                tenant = model.Tenant(provider_tenant_id=f"new-{n}", name=name)
                repos.upsert_administration(s, world.org_a, connection.id, provider, tenant)
        return Connected(connection.id, len(names), 0, world.org_a)

    return complete


@pytest.mark.parametrize(("names", "to_wizard"), [(["Nieuw BV", "Tweede BV"], True), ([], False)])
def test_a_new_connection_leads_into_the_wizard_for_its_administrations(
    world: World, monkeypatch: pytest.MonkeyPatch, names: list[str], to_wizard: bool
) -> None:
    monkeypatch.setattr(oauth, "complete_connect", _consent_adds(world, names))
    owner = _client(world, "owner@a.example")
    answer = owner.get("/oauth/xero/callback?code=c&state=s")
    landed = answer.headers.get("Location", "")
    assert landed.endswith("/onboarding") is to_wizard, f"{names}: the callback answered {answer.status_code} {landed}"
    if not to_wizard:
        return
    body = owner.get("/onboarding?lang=en").get_data(as_text=True)
    assert "Step 1 of 4" in body and all(n in body for n in names), "the wizard does not list the new administrations"
    assert test_access.SECRET_NAME not in body, "the wizard offers the administration onboarded before"
    rt = world.app.extensions["dunning"].runtime
    with rt.sessions() as s:
        new = [a.id for a in repos.list_administrations(s, world.org_a) if a.name in names]
    owner.post("/onboarding/administrations", data={"administration": str(new[0])})
    owner.post("/onboarding/plan", data={f"day-one-{new[0]}": "skip_history"})
    owner.post("/onboarding/sending", data={"administration": str(new[0]), "confirm": "1"})
    with rt.sessions() as s:
        old = repos.get_administration(s, world.org_a, world.administration_a)
        first, second = (repos.get_administration(s, world.org_a, i) for i in new)
    assert (old.paused, old.safe_mode, old.day_one) == (False, False, "by_age"), "the old administration changed"
    assert (first.paused, first.safe_mode, first.day_one) == (False, False, "skip_history"), "the chosen new one"
    assert (second.paused, second.safe_mode) == (True, True), "the new one not chosen is dunned"
