"""The worklist's world: the debtor-management world (one live administration, a settable clock) with a few
debtors, overdue invoices and outbox items in every open state, plus a second organisation whose ids must never
be reachable from the first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connector import model
from connector.model.outbox import OutboxAction, OutboxChannel, OutboxPayload, OutboxStatus
from connector.storage import repos
from connector.storage.db import transaction
from tests.debtors.conftest import World, _world

DAY = date(2026, 1, 5)  # the world's clock (tests.debtors.conftest.Clock): every date here derives from it


@dataclass
class Desk:
    """The world plus the ids a test needs: outbox items by name, debtor and invoice row ids, the other org."""

    world: World
    items: dict[str, int]
    debtors: dict[str, int]
    invoices: dict[str, int]
    other_org: int
    other_item: int
    other_debtor: int
    other_invoice: int

    @property
    def today(self) -> date:
        return self.world.clock.now.date()


ITEMS = {
    # name: (debtor, invoices, level, level name, action, channel, status, amount)
    "approve_me": ("d1", ("i1",), 2, "Reminder", "reminder", "email", OutboxStatus.AWAITING_APPROVAL, "100.00"),
    "queued": ("d2", ("i2", "i3"), 1, "Friendly reminder", "friendly_reminder", "email", OutboxStatus.PENDING, "250.5"),
    "call_d3": ("d3", ("i4",), 3, "Phone call", "phone_task", "phone", OutboxStatus.TASK_OPEN, "75.25"),
    "failed": ("d1", ("i1",), 1, "Friendly reminder", "friendly_reminder", "email", OutboxStatus.FAILED, "100.00"),
    "sent": ("d2", ("i2",), 1, "Friendly reminder", "friendly_reminder", "email", OutboxStatus.DONE, "200.00"),
}


def _seed(world: World) -> Desk:
    world.debtor("d1", name="Bakkerij Jansen")
    world.debtor("d2", name="Fietsen de Vries")
    world.debtor("d3", name="Hovenier Bos")
    with transaction(world.rt.sessions) as s:
        repos.get_debtors(s, world.org_id, world.adm_id, ["d3"])["d3"].kvk_number = "12345678"
    for ref, debtor, days_late, amount in (
        ("i1", "d1", 40, "100.00"),
        ("i2", "d2", 20, "200.00"),
        ("i3", "d2", 10, "50.50"),
        ("i4", "d3", 60, "75.25"),
    ):
        world.invoice(ref, debtor, DAY - timedelta(days=days_late), amount)
    world.payment("p1", "i2", DAY - timedelta(days=3), "10.00")
    items: dict[str, int] = {}
    with transaction(world.rt.sessions) as s:
        for name, (debtor, refs, level, level_name, action, channel, status, amount) in ITEMS.items():
            repos.add_outbox_item(
                s,
                world.org_id,
                world.adm_id,
                idempotency_key=f"test:{name}",
                action=OutboxAction(action),
                debtor_ref=debtor,
                invoice_refs=refs,
                level=level,
                level_name=level_name,
                channel=OutboxChannel(channel),
                run_date=DAY,
                status=status,
                payload=OutboxPayload(open_amount=Decimal(amount), currency="EUR"),
            )
        ids = {i.idempotency_key.removeprefix("test:"): i.id for i in repos.outbox_items(s, world.org_id)}
        items = {name: ids[name] for name in ITEMS}
        debtors = {ref: d.id for ref, d in repos.get_debtors(s, world.org_id, world.adm_id).items()}
        invoices = {i.provider_ref: i.id for i in repos.get_invoices(s, world.org_id, world.adm_id)}
        other = repos.create_organisation(s, "Other")
        conn = repos.create_connection(s, other, "moneybird")
        tenant = model.Tenant(provider_tenant_id="9", name="O")
        adm = repos.upsert_administration(s, other, conn.id, "moneybird", tenant)
        repos.upsert_debtors(s, other, adm.id, [model.Debtor(provider_ref="x1", name="Bakkerij Elders")], world.clock())
        repos.upsert_invoices(
            s,
            other,
            adm.id,
            [
                model.Invoice(
                    provider_ref="xi1",
                    number="2026-i1",
                    debtor_ref="x1",
                    invoice_date=DAY - timedelta(days=60),
                    due_date=DAY - timedelta(days=30),
                    currency="EUR",
                    total=Decimal("9.00"),
                    open_amount=Decimal("9.00"),
                    status=model.InvoiceStatus.OPEN,
                    provider_state="open",
                )
            ],
            world.clock(),
        )
        repos.add_outbox_item(
            s,
            other,
            adm.id,
            idempotency_key="other",
            action=OutboxAction.REMINDER,
            debtor_ref="x1",
            invoice_refs=["xi1"],
            level=2,
            level_name="Reminder",
            channel=OutboxChannel.EMAIL,
            run_date=DAY,
            status=OutboxStatus.AWAITING_APPROVAL,
        )
        other_item = repos.outbox_items(s, other)[0].id
        other_debtor = repos.get_debtors(s, other, adm.id)["x1"].id
        other_invoice = repos.get_invoices(s, other, adm.id)[0].id
    return Desk(world, items, debtors, invoices, other, other_item, other_debtor, other_invoice)


@pytest.fixture
def desk(migrated_db: str, tmp_path: Path) -> Iterator[Desk]:
    for world in _world(migrated_db, tmp_path):
        yield _seed(world)


@pytest.fixture
def any_desk(db_url: str, tmp_path: Path) -> Iterator[Desk]:
    """The same desk on SQLite and on PostgreSQL."""
    for world in _world(db_url, tmp_path):
        yield _seed(world)
