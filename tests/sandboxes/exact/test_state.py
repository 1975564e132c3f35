"""The Exact sandbox's ``state_path`` persistence (the common state-object API is in tests/sandboxes/test_runner.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

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
