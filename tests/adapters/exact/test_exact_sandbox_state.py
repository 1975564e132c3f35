"""The Exact sandbox's common state-object API and ``state_path`` persistence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from sandboxes.exact.app import create_app
from tests.adapters.exact.conftest import Clock


def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "exact.json"
    clock = Clock()
    first = create_app(state_path=path, clock=clock, items_per_division=50).extensions["sandbox"]
    tenant = first.tenant_ids()[0]
    new = first.create_invoice(tenant, total=Decimal("10.01"), due_date=date(2026, 4, 1), consumer=True)
    first.register_payment(tenant, new, Decimal("0.01"))
    second = create_app(state_path=path, clock=clock, seed=7).extensions["sandbox"]
    assert second.tenant_ids() == first.tenant_ids()
    assert new in second.open_invoice_ids(tenant)
    amounts = sorted(t["AmountDC"] for t in second.terms_of(tenant, new))
    assert amounts == [Decimal("0.01"), Decimal("10.00")]


def test_common_api_shapes() -> None:
    state = create_app(clock=Clock(), items_per_division=40).extensions["sandbox"]
    assert len(state.tenant_ids()) >= 3 and all(t.isdigit() for t in state.tenant_ids())
    tenant = state.tenant_ids()[2]
    before = set(state.open_invoice_ids(tenant))
    new = state.create_invoice(tenant, total=Decimal("5.00"))
    assert set(state.open_invoice_ids(tenant)) == before | {new}
    state.register_payment(tenant, new, Decimal("5.00"))
    assert new not in state.open_invoice_ids(tenant)
    with pytest.raises(ValueError):
        state.register_payment(tenant, new, Decimal("1.00"))  # nothing open any more
    assert state.writes(tenant) == [] and state.deliver_webhooks() == 0
