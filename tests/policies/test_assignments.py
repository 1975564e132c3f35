"""Policy assignment per administration and segment, the organisation's own policy versions, and that the dunning
run really uses what is assigned (docs/policies.md#which-policy-applies)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from connector import policies
from connector.errors import NotFound, PolicyError
from connector.model import Segment
from connector.storage import repos
from connector.storage.db import transaction
from tests.debtors.conftest import World


def _renamed_copy(prefix: str, source: str = "b2b") -> dict[str, Any]:
    document = policies.packaged_policies()[source].model_dump(mode="json")
    for level in document["levels"]:
        level["name"] = f"{prefix} {level['name']}"
    return document


def _level_name(world: World, invoice_ref: str = "I1") -> str:
    state = world.state(invoice_ref)
    assert state is not None and state.level_name, f"the run reached no level for {invoice_ref}"
    return state.level_name


def test_the_run_uses_the_administrations_assigned_policy(any_world: World) -> None:
    """Same invoices, two runs: without an assignment the packaged b2b ladder, with one the organisation's copy."""
    world = any_world
    day = world.clock.now.date()
    world.debtor("D1")
    world.invoice("I1", "D1", day - timedelta(days=4), "100.00")
    with transaction(world.rt.sessions) as s:
        version = policies.save_policy(s, world.org_id, "Acme strict", _renamed_copy("Acme"), "owner@acme.example")
        policies.assign_policy(s, world.org_id, world.adm_id, Segment.B2B, "Acme strict", "owner@acme.example")
    assert version == 1, "a new policy starts at version 1"
    world.run(day)
    name = _level_name(world)
    assert name.startswith("Acme "), f"the assigned policy was not used: {name}"


def test_without_an_assignment_the_packaged_default_applies(world: World) -> None:
    day = world.clock.now.date()
    world.debtor("D1")
    world.invoice("I1", "D1", day - timedelta(days=4), "100.00")
    with transaction(world.rt.sessions) as s:
        policies.save_policy(s, world.org_id, "Acme strict", _renamed_copy("Acme"), "owner@acme.example")
    world.run(day)
    name = _level_name(world)
    assert not name.startswith("Acme "), f"an unassigned copy was used: {name}"


@pytest.mark.parametrize(
    ("segment", "name", "expected"),
    [
        (Segment.B2B, "nope", "there is no policy 'nope'"),
        (Segment.B2C, "b2b", "is for b2b debtors; choose a b2c policy"),
        (Segment.B2B, "b2c", "is for b2c debtors; choose a b2b policy"),
    ],
)
def test_assign_refuses_what_cannot_apply(world: World, segment: Segment, name: str, expected: str) -> None:
    with transaction(world.rt.sessions) as s, pytest.raises(policies.PolicyChoiceError) as caught:
        policies.assign_policy(s, world.org_id, world.adm_id, segment, name, "owner@acme.example")
    assert expected in str(caught.value), f"{segment.value} <- {name}: {caught.value}"


def test_assign_is_scoped_and_audited(world: World) -> None:
    with transaction(world.rt.sessions) as s:
        other = repos.create_organisation(s, "Other")
        with pytest.raises(NotFound):
            policies.assign_policy(s, other, world.adm_id, Segment.B2B, "b2b", "stranger@other.example")
        assert policies.assign_policy(s, world.org_id, world.adm_id, Segment.B2B, "b2b", "a@acme.example") is None
        assert policies.assign_policy(s, world.org_id, world.adm_id, Segment.B2B, "b2b", "b@acme.example") == "b2b"
    with world.rt.sessions() as s:
        trail = repos.audit_trail(s, world.org_id, kind="policy_assigned")
        stored = policies.policy_defaults(s, world.org_id, world.adm_id)
        assert policies.assignments(s, other) == [], "another organisation sees no assignment"
    assert stored == {Segment.B2B: "b2b"}, f"stored assignment: {stored}"
    assert [e.data.get("by") for e in trail] == ["a@acme.example"], "one audit entry (re-assigning the same is quiet)"


def test_versions_count_up_and_unchanged_saves_add_none(any_world: World) -> None:
    world = any_world
    document = _renamed_copy("Acme")
    with transaction(world.rt.sessions) as s:
        first = policies.save_policy(s, world.org_id, "Acme", document, "a@acme.example", based_on="b2b")
        same = policies.save_policy(s, world.org_id, "Acme", document, "b@acme.example")
        document["levels"][1]["days"] = 5
        second = policies.save_policy(s, world.org_id, "Acme", document, "b@acme.example")
        versions = policies.policy_versions(s, world.org_id, "Acme")
        listed = {p.name: p for p in policies.available_policies(s, world.org_id)}
    assert (first, same, second) == (1, 1, 2), "versions: a new one per real change"
    assert [(v.version, v.created_by, v.based_on) for v in versions] == [
        (1, "a@acme.example", "b2b"),
        (2, "b@acme.example", "b2b"),
    ]
    assert listed["Acme"].version == 2 and listed["Acme"].source == policies.OWN, "the latest version is offered"
    assert {"b2b", "b2c"} <= set(listed), "the packaged policies stay available"


@pytest.mark.parametrize(
    ("name", "change", "field"),
    [
        ("b2b", {}, "name"),  # a packaged policy's name
        ("", {}, "name"),
        ("Acme", {"levels": []}, "levels"),
        ("Acme", {"segment": "b2x"}, "segment"),
    ],
)
def test_save_refuses_invalid_documents(world: World, name: str, change: dict[str, Any], field: str) -> None:
    document = {**_renamed_copy("Acme"), **change}
    with transaction(world.rt.sessions) as s, pytest.raises(PolicyError) as caught:
        policies.save_policy(s, world.org_id, name, document, "a@acme.example")
    assert caught.value.field == field, f"{name!r} {change}: {caught.value}"


def test_an_unknown_debtor_override_is_a_non_decision_not_a_crash(world: World) -> None:
    day = world.clock.now.date()
    world.debtor("D1")
    world.invoice("I1", "D1", day - timedelta(days=4), "100.00")
    with transaction(world.rt.sessions) as s:
        policies.assign_policy(s, world.org_id, world.adm_id, Segment.B2B, "b2b", "a@acme.example")
    with transaction(world.rt.sessions) as s:
        for debtor in repos.debtor_rows(s, world.org_id, world.adm_id, "D1")["debtors"]:
            debtor.policy_override = "gone"  # a policy that no longer exists
    report = world.run(day)
    assert report.decisions == 0 and sum(report.non_decisions.values()) == 1, f"one non-decision: {report}"
