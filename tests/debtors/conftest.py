"""A migrated database with one organisation, one live administration (safe mode off) and a settable clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connector import decide, model
from connector.auth.crypto import TokenCipher
from connector.model.outbox import OutboxItem
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos, tables
from connector.storage.db import transaction


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def day(self, day: date) -> date:
        self.now = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam, same day
        return day


@dataclass
class World:
    rt: Runtime
    clock: Clock
    org_id: int
    adm_id: int

    def debtor(self, ref: str, segment: str = "b2b", name: str | None = None, email: str | None = None) -> None:
        debtor = model.Debtor(
            provider_ref=ref,
            name=name or f"Debtor {ref}",
            segment=model.Segment(segment),
            email=email,
            customer_number=f"C-{ref}",
            address=model.Address(line1="Damrak 1", postcode="1012 LG", city="Amsterdam"),
        )
        with transaction(self.rt.sessions) as s:
            repos.upsert_debtors(s, self.org_id, self.adm_id, [debtor], self.clock())

    def invoice(
        self,
        ref: str,
        debtor_ref: str,
        due: date,
        amount: str,
        *,
        open_amount: str | None = None,
        status: str = "open",
    ) -> None:
        inv = model.Invoice(
            provider_ref=ref,
            number=f"2026-{ref}",
            debtor_ref=debtor_ref,
            invoice_date=due.replace(day=1),
            due_date=due,
            currency="EUR",
            total=Decimal(amount),
            open_amount=Decimal(amount if open_amount is None else open_amount),
            status=model.InvoiceStatus(status),
            provider_state=status,
        )
        with transaction(self.rt.sessions) as s:
            repos.upsert_invoices(s, self.org_id, self.adm_id, [inv], self.clock())

    def payment(self, ref: str, invoice_ref: str, on: date, amount: str) -> None:
        pay = model.Payment(
            provider_ref=ref, invoice_ref=invoice_ref, payment_date=on, amount=Decimal(amount), currency="EUR"
        )
        with transaction(self.rt.sessions) as s:
            repos.upsert_payments(s, self.org_id, self.adm_id, [pay], self.clock())

    def run(self, day: date) -> decide.RunReport:
        self.clock.day(day)
        return decide.run_dunning(self.rt, self.org_id, day)

    def outbox(self, action: str | None = None) -> list[OutboxItem]:
        with self.rt.sessions() as s:
            items = repos.outbox_items(s, self.org_id)
        return [i for i in items if action is None or i.action == action]

    def state(self, invoice_ref: str) -> tables.ReminderState | None:
        with self.rt.sessions() as s:
            return repos.reminder_states(s, self.org_id, self.adm_id, [invoice_ref]).get(invoice_ref)

    def set_state(self, invoice_ref: str, **values: object) -> None:
        with transaction(self.rt.sessions) as s:
            state = repos.reminder_state(s, self.org_id, self.adm_id, invoice_ref)
            for key, value in values.items():
                setattr(state, key, value)


def _world(url: str, tmp_path: Path) -> Iterator[World]:
    settings = Settings(var_dir=tmp_path / "var", database_url=url, secret_keys=[TokenCipher.generate_key()])
    clock = Clock()
    rt = Runtime(settings, clock=clock)
    with transaction(rt.sessions) as s:
        org = repos.create_organisation(s, "Acme")
        conn = repos.create_connection(s, org, "moneybird")
        tenant = model.Tenant(provider_tenant_id="1", name="Acme BV")
        adm = repos.upsert_administration(s, org, conn.id, "moneybird", tenant)
        adm.safe_mode = False
        adm_id = adm.id
    yield World(rt, clock, org, adm_id)
    rt.close()


@pytest.fixture
def world(migrated_db: str, tmp_path: Path) -> Iterator[World]:
    yield from _world(migrated_db, tmp_path)


@pytest.fixture
def any_world(db_url: str, tmp_path: Path) -> Iterator[World]:
    """The same world on SQLite and on PostgreSQL."""
    yield from _world(db_url, tmp_path)
