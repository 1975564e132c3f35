"""Who works an outbox item, who holds a lease, and what fits a column: on SQLite and on PostgreSQL.

A claim is one conditional UPDATE: exactly one of two claimants wins, a lapsed claim (its process died) can be
taken again, a finished item cannot. Two runs queueing the same key meet the unique key as "already queued". A
provider's value that no column can hold is an error naming the field, never a database error; the values
PostgreSQL refused before (Xero's 70-character versions, Exact's five webhook ids) are stored as they are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connector import model
from connector.errors import ValueTooLong
from connector.model.outbox import OutboxAction, OutboxChannel, OutboxStatus
from connector.storage import repos
from connector.storage.db import transaction

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def _world(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    with transaction(sessions) as s:
        org = repos.create_organisation(s, "Org")
        conn = repos.create_connection(s, org, "xero")
        adm = repos.upsert_administration(s, org, conn.id, "xero", model.Tenant(provider_tenant_id="t1", name="A"))
        repos.add_outbox_item(
            s,
            org,
            adm.id,
            idempotency_key="k" * 64,
            action=OutboxAction.REMINDER,
            debtor_ref="d1",
            invoice_refs=["i1"],
            level=1,
            level_name="Herinnering",
            channel=OutboxChannel.EMAIL,
            run_date=date(2026, 11, 24),
        )
        [item] = repos.outbox_items(s, org)
    return org, adm.id, item.id


def _claim(sessions: sessionmaker[Session], org: int, item: int, holder: str, at: datetime) -> bool:
    with transaction(sessions) as s:
        return repos.claim_outbox_item(s, org, item, holder, at + LEASE, at) is not None


def test_one_claimant_wins_and_a_lapsed_claim_can_be_taken_again(sessions: sessionmaker[Session]) -> None:
    org, _adm, item = _world(sessions)
    steps = [
        ("a", NOW, True, "the first claimant gets a free item"),
        ("b", NOW + timedelta(minutes=1), False, "a second claimant while the first one's claim runs"),
        ("b", NOW + LEASE, True, "the first claimant's process died: its claim lapsed"),
        ("a", NOW + LEASE + timedelta(minutes=1), False, "the first claimant came back too late"),
    ]
    for holder, at, expected, what in steps:
        assert _claim(sessions, org, item, holder, at) is expected, what
    with transaction(sessions) as s:
        repos.update_outbox_item(s, org, item, status=OutboxStatus.DONE, claimed_by=None, claimed_until=None)
    assert not _claim(sessions, org, item, "c", NOW + 3 * LEASE), "a finished item was claimed again"


def test_the_same_key_queued_twice_is_already_queued(sessions: sessionmaker[Session]) -> None:
    org, adm, _item = _world(sessions)
    with transaction(sessions) as s:
        again = repos.add_outbox_item(
            s,
            org,
            adm,
            idempotency_key="k" * 64,
            action=OutboxAction.REMINDER,
            debtor_ref="d1",
            invoice_refs=["i1"],
            level=1,
            level_name="Herinnering",
            channel=OutboxChannel.EMAIL,
            run_date=date(2026, 11, 24),
        )
    assert again is False, "a second item was queued under a key that exists"


def test_a_lease_has_one_holder_until_it_lapses(sessions: sessionmaker[Session]) -> None:
    org, _adm, _item = _world(sessions)
    steps = [
        ("w1", NOW, True, "a free lease"),
        ("w2", NOW, False, "held by w1"),
        ("w1", NOW + timedelta(minutes=1), True, "w1 renews its own lease"),
        ("w2", NOW + timedelta(minutes=1) + LEASE, True, "w1's lease lapsed"),
    ]
    for holder, at, expected, what in steps:
        with transaction(sessions) as s:
            assert repos.try_lease(s, org, "outbox", holder, at + LEASE, at) is expected, what


def _invoice(**changes: object) -> model.Invoice:
    values: dict[str, object] = dict(
        provider_ref="e2f1c0de-0000-4000-8000-000000000001",
        number="INV-0001",
        debtor_ref="d1",
        invoice_date=date(2026, 10, 1),
        due_date=date(2026, 10, 31),
        currency="EUR",
        total=Decimal("121.00"),
        open_amount=Decimal("121.00"),
        status=model.InvoiceStatus.OPEN,
        provider_state="AUTHORISED",
        provider_version="2026-11-24T09:00:00.1234567Z/" + "9" * 40,  # Xero's are 68-70 characters
    )
    values.update(changes)
    return model.Invoice.model_validate(values)


def test_long_provider_values_are_stored_and_too_long_ones_name_their_field(sessions: sessionmaker[Session]) -> None:
    org, adm, _item = _world(sessions)
    with transaction(sessions) as s:
        assert repos.upsert_invoices(s, org, adm, [_invoice()], NOW) == 1, "a 70-character version was refused"
        row = repos.get_administration(s, org, adm)
        row.webhook_ref = ",".join(["0f8fad5b-d9cb-469f-a165-70867728950e"] * 5)  # Exact's five: 184 characters
    with pytest.raises(ValueTooLong, match=r"invoices\.provider_ref"):
        with transaction(sessions) as s:
            repos.upsert_invoices(s, org, adm, [_invoice(provider_ref="x" * 101)], NOW)
