"""The sandbox runner: every provider's emulator starts on 127.0.0.1 and offers the same state-object API.

The demo, the flow tests and the benchmarks drive any provider's books through ``SandboxState``; this pins
that every sandbox really offers it, with the same meaning, and that a served sandbox stops when asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from sandboxes.runner import SANDBOXES, RunningServer, sandbox_factory, start_sandbox, state_of

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SMALL: dict[str, dict[str, int]] = {
    "exact": {"items_per_division": 20, "accounts_per_division": 6},
    "moneybird": {"invoices_per_administration": 20, "contacts_per_administration": 6},
    "xero": {"invoices_per_tenant": 20, "contacts_per_tenant": 6},
}


@pytest.fixture(params=sorted(SANDBOXES))
def running(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    server = start_sandbox(request.param, clock=lambda: NOW, rate_limits=False, **SMALL[request.param])
    yield server
    server.shutdown()


def test_every_sandbox_has_a_size_here() -> None:
    assert sorted(SMALL) == sorted(SANDBOXES)


def test_an_unknown_provider_names_the_choices() -> None:
    with pytest.raises(KeyError, match="moneybird, xero, exact"):
        sandbox_factory("wave")


def test_the_common_state_api(running: RunningServer) -> None:
    state = state_of(running.app)
    tenants = state.tenant_ids()
    assert len(tenants) >= 2, "every sandbox seeds at least two tenants"
    tenant = tenants[0]
    before = set(state.open_invoice_ids(tenant))
    new = state.create_invoice(tenant, total=Decimal("50.00"), due_date=NOW.date() + timedelta(days=14))
    assert set(state.open_invoice_ids(tenant)) == before | {new}
    state.register_payment(tenant, new, Decimal("20.00"))
    assert new in state.open_invoice_ids(tenant), "a part payment leaves the invoice open"
    state.register_payment(tenant, new, Decimal("30.00"))
    assert set(state.open_invoice_ids(tenant)) == before
    assert state.writes(tenant) == []
    assert state.deliver_webhooks() == 0, "nothing is delivered before a webhook target is set"


def test_a_served_sandbox_answers_until_it_is_shut_down() -> None:
    server = start_sandbox("moneybird", clock=lambda: NOW, **SMALL["moneybird"])
    assert requests.get(f"{server.url}/api/v2/administrations.json", timeout=5).status_code == 401  # no token
    server.shutdown()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/api/v2/administrations.json", timeout=5)
