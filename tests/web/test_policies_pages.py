"""The policy pages through the app (test client): read, a problem shown at its field, the preview of a change on
today's invoices, saving a copy as a new version that the administration then uses, the history, and who may
(docs/policies.md#the-editor)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connector import model, policies
from connector.storage import repos
from connector.storage.db import transaction
from tests.web import test_access
from tests.web.test_access import World, _client


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    """test_access's world: organisation A with an administration and a member per role, organisation B."""
    yield from test_access.world.__wrapped__(db_url, tmp_path)  # type: ignore[attr-defined]


SWITCHES = ("charge_costs", "charge_interest", "requires_approval", "email_may_replace_letter", "notice_of_default")


def _form(change: dict[str, str] | None = None, action: str = "preview") -> dict[str, str]:
    document = policies.packaged_policies()["b2b"].model_dump(mode="json")
    form = {
        "segment": "b2b",
        "action": action,
        "description": document["description"],
        "min_days_between_messages": str(document["min_days_between_messages"]),
        "costs_enabled": "on",
        "interest_enabled": "on",
    }
    for i, level in enumerate(document["levels"]):
        for field in ("name", "days", "computation", "channel", "action", "template"):
            form[f"levels-{i}-{field}"] = str(level[field])
        for switch in (*SWITCHES, "terminal"):
            if level[switch]:
                form[f"levels-{i}-{switch}"] = "on"
    return {**form, **(change or {})}


def _seed(world: World, overdue_days: int = 4) -> None:
    rt = world.app.extensions["dunning"].runtime
    day = rt.today(world.org_a)
    with transaction(rt.sessions) as s:
        debtor = model.Debtor(provider_ref="D1", name="Debtor One", segment=model.Segment.B2B, email="d1@x.example")
        repos.upsert_debtors(s, world.org_a, world.administration_a, [debtor], rt.clock())
        invoice = model.Invoice(
            provider_ref="I1",
            number="2026-1",
            debtor_ref="D1",
            invoice_date=day - timedelta(days=30 + overdue_days),
            due_date=day - timedelta(days=overdue_days),
            currency="EUR",
            total=Decimal("100.00"),
            open_amount=Decimal("100.00"),
            status=model.InvoiceStatus.OPEN,
            provider_state="open",
        )
        repos.upsert_invoices(s, world.org_a, world.administration_a, [invoice], rt.clock())


def test_policies_are_listed_per_administration(world: World) -> None:
    body = _client(world, "viewer@a.example").get("/policies?lang=en").get_data(as_text=True)
    assert f'id="edit-{world.administration_a}-b2b">b2b<' in body, "the b2b policy in use is not listed"
    assert f'id="edit-{world.administration_a}-b2c">b2c<' in body, "the b2c policy in use is not listed"


def test_a_problem_is_shown_at_its_field(world: World) -> None:
    answer = _client(world, "controller@a.example").post(
        f"/policies/{world.administration_a}?lang=en", data=_form({"levels-2-days": "3"})
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400, f"an invalid ladder answered {answer.status_code}"
    assert 'id="problem-levels-2-days"' in body and "strictly increasing" in body, "no problem at levels[2].days"


def test_preview_then_save_then_history(world: World) -> None:
    _seed(world, overdue_days=1)  # the friendly notice (day -3) is due today; moved to day 2 it is not
    client = _client(world, "controller@a.example")
    url = f"/policies/{world.administration_a}?lang=en"
    preview = client.post(url, data=_form({"levels-0-days": "2"}))
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200, f"preview answered {preview.status_code}"
    assert 'id="preview"' in body and "I1" in body, "the invoice whose step changes is not in the preview"
    rt = world.app.extensions["dunning"].runtime
    with rt.sessions() as s:
        assert policies.assignments(s, world.org_a) == [], "a preview saved something"
    saved = client.post(url, data=_form({"levels-1-days": "10", "copy_name": "Alpha strict"}, action="save"))
    assert saved.status_code == 302, f"save answered {saved.status_code}: {saved.get_data(as_text=True)[:300]}"
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "<strong>Alpha strict</strong>" in page, "the administration does not use the saved copy"
    assert "levels[1].days: 3 -&gt; 10" in page or "copy of b2b" in page, "the history does not say what changed"
    again = client.post(url, data=_form({"levels-1-days": "12"}, action="save"))
    assert again.status_code == 302, "saving the own policy again"
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "levels[1].days: 10 -&gt; 12" in page and "controller@a.example" in page, "history: who and what"
    with rt.sessions() as s:
        versions = policies.policy_versions(s, world.org_a, "Alpha strict")
    assert [v.version for v in versions] == [1, 2], "each save is a new version"


def test_a_viewer_reads_but_cannot_save(world: World) -> None:
    client = _client(world, "viewer@a.example")
    body = client.get(f"/policies/{world.administration_a}?lang=en").get_data(as_text=True)
    assert 'id="save-button"' not in body and "disabled" in body, "a viewer is offered the editor"
    answer = client.post(f"/policies/{world.administration_a}", data=_form(action="save"))
    assert answer.status_code == 403, f"a viewer's save answered {answer.status_code}"


def test_another_organisation_cannot_change_our_policy(world: World) -> None:
    answer = _client(world, "owner@b.example").post(
        f"/policies/{world.administration_a}", data=_form({"copy_name": "Stolen"}, action="save")
    )
    assert answer.status_code == 404, f"organisation B changed A's policy: {answer.status_code}"
    rt = world.app.extensions["dunning"].runtime
    with rt.sessions() as s:
        assert policies.assignments(s, world.org_a) == [], "A's administration got B's policy"
