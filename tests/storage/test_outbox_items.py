"""The typed outbox: storage validates every payload it writes and reads, and the stored strings stay the same."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from connector import model
from connector.model.outbox import (
    CostsPart,
    InstallmentPart,
    OutboxAction,
    OutboxChannel,
    OutboxPayload,
    OutboxStatus,
)
from connector.rules.policy import Action, Channel
from connector.storage import repos, tables

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 24)


def _org_with_admin(session: Session) -> tuple[int, int]:
    org = repos.create_organisation(session, "Org")
    conn = repos.create_connection(session, org, "moneybird")
    adm = repos.upsert_administration(
        session, org, conn.id, "moneybird", model.Tenant(provider_tenant_id="1", name="A")
    )
    return org, adm.id


def _queue(session: Session, org: int, adm: int, key: str, payload: OutboxPayload | None = None, **extra: Any) -> bool:
    fields: dict[str, Any] = {
        "idempotency_key": key,
        "action": OutboxAction.REMINDER,
        "debtor_ref": "d1",
        "invoice_refs": ["i1"],
        "level": 1,
        "level_name": "Herinnering",
        "channel": OutboxChannel.EMAIL,
        "run_date": DAY,
        "payload": payload,
    }
    fields.update(extra)
    return repos.add_outbox_item(session, org, adm, **fields)


def test_every_ladder_step_and_channel_has_an_outbox_value() -> None:
    assert {a.value for a in Action} <= {a.value for a in OutboxAction}, "a policy step the outbox cannot store"
    assert {c.value for c in Channel} <= {c.value for c in OutboxChannel}, "a policy channel the outbox cannot store"


@pytest.mark.parametrize(
    ("field", "value"),
    [("action", "send_reminder"), ("channel", "fax"), ("status", "sent")],
)
def test_unknown_strings_are_refused_when_written(sessions: sessionmaker[Session], field: str, value: str) -> None:
    with pytest.raises(ValueError, match=value), sessions.begin() as s:
        org, adm = _org_with_admin(s)
        _queue(s, org, adm, "k", **{field: value})


def test_an_unknown_payload_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="costz"):
        OutboxPayload.model_validate({"costz": {"fee": "40.00"}})


def test_stored_values_are_the_strings_of_before(sessions: sessionmaker[Session]) -> None:
    payload = OutboxPayload(
        open_amount=Decimal("121.00"),
        currency="EUR",
        costs=CostsPart(basis="wik", principal=Decimal("121.00"), fee=Decimal("40.00"), vat=Decimal("0.00")),
        interest=Decimal("0.00"),
    )
    with sessions.begin() as s:
        org, adm = _org_with_admin(s)
        _queue(s, org, adm, "k", payload, status=OutboxStatus.AWAITING_APPROVAL)
    with sessions() as s:
        row = s.query(tables.OutboxItem).one()
    assert (row.action, row.channel, row.status) == ("reminder", "email", "awaiting_approval")
    assert row.payload == {
        "open_amount": "121.00",
        "currency": "EUR",
        "costs": {"basis": "wik", "principal": "121.00", "fee": "40.00", "vat": "0.00"},
        "interest": "0.00",
    }


def test_a_payload_stored_before_the_types_reads_back(sessions: sessionmaker[Session]) -> None:
    """Items queued earlier carry str(CostBasis.WIK) and str(None) in their cost lines."""
    legacy = {
        "template": "reminder",
        "open_amount": "700.00",
        "currency": "EUR",
        "costs": {"basis": "CostBasis.WIK", "principal": "700.00", "fee": "105.00", "vat": "0.00", "cap": "None"},
        "letter_costs": None,
        "interest": "3.10",
        "needs_provider_pause": False,
        "why": [{"rule": "ladder.next_level", "inputs": {}, "synced_at": "2026-11-24T09:00:00Z"}],
    }
    with sessions.begin() as s:
        org, adm = _org_with_admin(s)
        _queue(s, org, adm, "k")
        s.query(tables.OutboxItem).one().payload = legacy
    with sessions() as s:
        (item,) = repos.outbox_items(s, org)
    costs = item.payload.costs
    assert costs is not None, "the cost line was lost"
    assert (costs.basis, costs.cap, costs.total) == ("wik", None, Decimal("105.00"))
    assert item.payload.interest == Decimal("3.10")
    assert item.payload.charges, "a step with costs is not recognised as charging"


def test_a_malformed_row_fails_loudly_when_read(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        org, adm = _org_with_admin(s)
        _queue(s, org, adm, "k")
        s.query(tables.OutboxItem).one().payload = {"open_amount": "twelve"}
    with pytest.raises(ValidationError, match="open_amount"), sessions() as s:
        repos.outbox_items(s, org)


def test_update_changes_only_what_it_is_given(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        org, adm = _org_with_admin(s)
        _queue(s, org, adm, "k", OutboxPayload(note="n"))
        (item,) = repos.outbox_items(s, org)
        done = repos.update_outbox_item(s, org, item.id, status=OutboxStatus.DONE, done_at=NOW)
        assert repos.update_outbox_item(s, org + 1, item.id, status=OutboxStatus.FAILED) is None, "crossed orgs"
    assert done is not None
    assert (done.status, done.done_at, done.payload.note, done.attempts) == (OutboxStatus.DONE, NOW, "n", 0)


AMOUNTS = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(open_amount=AMOUNTS, fee=AMOUNTS, number=st.integers(1, 36), amount=AMOUNTS)
def test_payload_amounts_round_trip_exactly(
    sessions: sessionmaker[Session], open_amount: Decimal, fee: Decimal, number: int, amount: Decimal
) -> None:
    payload = OutboxPayload(
        open_amount=open_amount,
        costs=CostsPart(basis="eu_fixed_40", principal=open_amount, fee=fee, vat=Decimal("0.00")),
        installment=InstallmentPart(number=number, of=36, due_date=DAY, amount=amount),
    )
    with sessions.begin() as s:
        org, adm = _org_with_admin(s)
        _queue(s, org, adm, "k", payload)
    with sessions() as s:
        back = repos.outbox_items(s, org)[-1].payload
    assert back == payload, "the payload changed on its way through storage"
