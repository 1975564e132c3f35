"""The API's lists at a few thousand rows, on SQLite and PostgreSQL: every page costs the same number of SQL
queries however deep the cursor goes, and the pages together are every matching row exactly once, in id order
(docs/api.md#pagination). Rows are seeded straight into storage; the app is the real Flask app with a read key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from connector import apikeys, model
from connector.model.outbox import OutboxAction, OutboxChannel, OutboxPayload, OutboxStatus
from connector.storage import repos
from connector.storage.db import transaction, upgrade
from dashboard import create_app
from tests.dbs import backend, database_url
from tests.debtors.conftest import World, _world

DEBTORS = 600
INVOICES_PER_DEBTOR = 4  # 2,400 invoices
HELD_EVERY = 3  # every third invoice on hold: 800 holds
ITEMS = 900  # worklist items
CALLS = 700
ADMINISTRATIONS = 250  # beside the world's own, on the same connection, without invoices
PAGE = 97  # not a divisor of any count: the last page is a short one


@dataclass
class Scale:
    world: World
    client: FlaskClient
    headers: dict[str, str]
    statements: list[str]
    today: date


def _seed(world: World) -> date:
    today = world.clock.now.date()
    debtors = [model.Debtor(provider_ref=f"d{n:04}", name=f"Debtor {n:04}") for n in range(DEBTORS)]
    invoices = [
        model.Invoice(
            provider_ref=f"i{n:04}-{k}",
            number=f"2026-{n:04}-{k}",
            debtor_ref=f"d{n:04}",
            invoice_date=today - timedelta(days=40 + k),
            due_date=today - timedelta(days=10 * k - 5),  # k=0 not due yet, the others overdue
            currency="EUR",
            total=Decimal("100.00") + k,
            open_amount=Decimal("100.00") + k,
            status=model.InvoiceStatus.OPEN,
            provider_state="open",
        )
        for n in range(DEBTORS)
        for k in range(INVOICES_PER_DEBTOR)
    ]
    org, adm = world.org_id, world.adm_id
    with transaction(world.rt.sessions) as s:
        connection = repos.get_administration(s, org, adm).connection_id
        for n in range(ADMINISTRATIONS):
            tenant = model.Tenant(provider_tenant_id=f"client-{n}", name=f"Client {n}")
            repos.upsert_administration(s, org, connection, "moneybird", tenant)
        repos.upsert_debtors(s, org, adm, debtors, world.clock())
        repos.upsert_invoices(s, org, adm, invoices, world.clock())
        for inv in invoices[::HELD_EVERY]:
            state = repos.reminder_state(s, org, adm, inv.provider_ref)
            state.hold_reason, state.updated_at = "dispute", world.clock()
        for n in range(ITEMS):
            repos.add_outbox_item(
                s,
                org,
                adm,
                idempotency_key=f"scale-{n}",
                action=OutboxAction.REMINDER,
                debtor_ref=f"d{n % DEBTORS:04}",
                invoice_refs=[f"i{n % DEBTORS:04}-1"],
                level=1,
                level_name="Reminder",
                channel=OutboxChannel.EMAIL,
                run_date=today,
                status=OutboxStatus.AWAITING_APPROVAL if n % 2 else OutboxStatus.PENDING,
                payload=OutboxPayload(open_amount=Decimal("101.00"), currency="EUR"),
            )
        for n in range(CALLS):
            repos.record_contact_moment(
                s,
                org,
                adm,
                debtor_ref=f"d{n % DEBTORS:04}",
                invoice_ref=None,
                at=datetime(today.year, today.month, today.day, 8, tzinfo=UTC) - timedelta(minutes=n),
                channel="phone",
                direction="out",
                reason_code=None,
                outcome="no_answer",
                note=None,
                promise_date=None,
            )
    return today


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def scale(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Scale]:
    if request.param == "sqlite" and backend() == "postgres":
        pytest.skip("SQLite case: ran in the SQLite pass of the suite")
    tmp = Path(tmp_path_factory.mktemp("api-scale"))
    with database_url(str(request.param), tmp) as url:
        upgrade(url)
        for world in _world(url, tmp):
            today = _seed(world)
            app = create_app(world.rt.settings, runtime=world.rt, org_id=world.org_id)
            app.config["SERVER_NAME"] = "127.0.0.1:8000"
            key = apikeys.create_key(world.rt, world.org_id, "read", "scale").key
            statements: list[str] = []

            def count(*args: Any, statements: list[str] = statements) -> None:
                statements.append(str(args[2]))

            event.listen(world.rt.engine, "before_cursor_execute", count)
            yield Scale(world, app.test_client(), {"Authorization": f"Bearer {key}"}, statements, today)
            event.remove(world.rt.engine, "before_cursor_execute", count)


def _walk(scale: Scale, path: str, **params: Any) -> tuple[list[int], list[int]]:
    """Every id the list returns, page by page, and the number of SQL statements each page took."""
    ids: list[int] = []
    costs: list[int] = []
    cursor: str | None = None
    for _ in range(1000):
        query = {**params, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
        scale.statements.clear()
        response = scale.client.get(f"/api/v1{path}", headers=scale.headers, query_string=query)
        costs.append(len(scale.statements))
        assert response.status_code == 200, f"{path} after {len(ids)} rows: {response.get_data(as_text=True)}"
        body = response.get_json()
        ids += [int(item["id"]) for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, costs
    raise AssertionError(f"{path} never reached its last page")


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("/administrations", {}, ADMINISTRATIONS + 1),
        ("/invoices", {}, DEBTORS * INVOICES_PER_DEBTOR),
        ("/invoices", {"overdue": "true"}, DEBTORS * (INVOICES_PER_DEBTOR - 1)),
        ("/debtors", {}, DEBTORS),
        ("/debtors", {"q": "debtor 01"}, 100),  # Debtor 0100..0199
        ("/worklist", {}, ITEMS),
        ("/worklist", {"status": "pending"}, (ITEMS + 1) // 2),
        ("/holds", {}, len(range(0, DEBTORS * INVOICES_PER_DEBTOR, HELD_EVERY))),
        ("/calls", {}, CALLS),
    ],
)
def test_pages_cost_the_same_queries_and_cover_every_row_once(
    scale: Scale, path: str, params: dict[str, str], expected: int
) -> None:
    ids, costs = _walk(scale, path, **params)
    assert len(ids) == expected, f"{path} {params}: {len(ids)} rows, expected {expected}"
    assert len(set(ids)) == len(ids), f"{path} {params}: pages overlap"
    assert ids == sorted(ids), f"{path} {params}: pages run in id order"
    assert len(costs) == -(-expected // PAGE), f"{path} {params}: {len(costs)} pages for {expected} rows"
    assert len(set(costs)) == 1, f"{path} {params}: SQL statements per page vary with depth: {costs}"
    assert costs[0] <= 10, f"{path} {params}: {costs[0]} statements for one page"
