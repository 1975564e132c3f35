"""Double-chase guard on Xero: where Xero's own invoice reminders are on and the policy says we chase, Xero
cannot be paused per invoice, so nothing is queued and the level does not advance; the other tenant is chased."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from connector import demo
from connector.ports import RateLimit
from connector.registry import ADAPTERS
from connector.settings import Settings
from connector.storage import repos


def test_xero_with_its_own_reminders_on_is_not_chased_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, today: date, installation_db: str
) -> None:
    monkeypatch.setattr(ADAPTERS["xero"], "limits", (RateLimit(100_000, 60),))
    settings = Settings(var_dir=tmp_path / "var", database_url=installation_db)
    run = demo.start(
        settings,
        providers=["xero"],
        options={"xero": {"tenants": 2, "invoices_per_tenant": 30, "contacts_per_tenant": 8, "rate_limits": False}},
    )
    try:
        rt = run.runtime
        demo.run_provider(run, "xero", today)
        demo.run_provider(run, "xero", today + timedelta(days=1))
        with rt.sessions() as s:
            administrations = repos.list_administrations(s, run.org_id)
            items = repos.outbox_items(s, run.org_id)
            guarded = repos.audit_trail(s, run.org_id, kind="non_decision", limit=10_000)
        chasing = [a for a in administrations if a.provider_reminders_active]
        quiet = [a for a in administrations if not a.provider_reminders_active]
        assert chasing and quiet, "the sandbox should seed one organisation with Xero's reminders on"
        assert not [
            i for i in items if i.administration_id == chasing[0].id and i.action in ("reminder", "final_notice")
        ]
        assert any(e.administration_id == chasing[0].id and e.message.startswith("double_chase") for e in guarded)
        with rt.sessions() as s:
            states = repos.reminder_states(s, run.org_id, chasing[0].id)
        assert all(state.level is None or state.level <= 0 for state in states.values()), "a blocked level advanced"
        assert [i for i in items if i.administration_id == quiet[0].id], "the other organisation was not chased"
    finally:
        run.shutdown()
