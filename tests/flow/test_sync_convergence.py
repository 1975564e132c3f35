"""Sync convergence (docs/architecture.md#sync): whatever mix of payments, state changes, shuffled and duplicated
webhook hints and incremental syncs happens, once every hint is processed the stored invoices equal a clean full sync
of the provider, without a reconciliation sync to paper over a lost or misapplied hint."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector import demo, inbox, sync
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos, tables
from connector.storage.db import upgrade
from tests.dbs import installation_url

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["pay_part", "pay_full", "late", "deliver", "deliver_twice", "sync", "process"]),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=12,
)


def _invoices(rt: Runtime, org_id: int) -> dict[tuple[str, str], tuple[str, int, str]]:
    with rt.sessions() as s:
        return {
            (adm.provider_tenant_id, row.provider_ref): (row.status, row.open_minor, row.provider_state)
            for adm in repos.list_administrations(s, org_id)
            for row in repos.get_invoices(s, org_id, adm.id)
        }


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_any_order_of_hints_and_syncs_converges(tmp_path_factory, operations) -> None:  # type: ignore[no-untyped-def]
    tmp = Path(tmp_path_factory.mktemp("converge"))
    # two installations per example (the converged one and a clean copy), PostgreSQL in that pass (tests/dbs.py)
    with installation_url(tmp / "converged") as url, installation_url(tmp / "clean") as clean_url:
        _converge(Settings(var_dir=tmp / "var", database_url=url), clean_url, operations)


def _converge(settings_: Settings, clean_url: str, operations: list[tuple[str, int]]) -> None:
    run = demo.start(
        settings_,
        providers=["moneybird"],
        options={
            "moneybird": {
                "invoices_per_administration": 15,
                "contacts_per_administration": 5,
                "rate_limits": False,
                "auto_reminders": False,
            }
        },
    )
    try:
        rt = run.runtime
        connection_id = demo.connect(run, "moneybird")
        sync.sync_connection(rt, run.org_id, connection_id)
        sandbox = run.sandboxes["moneybird"].app.extensions["sandbox"]
        tenants = sandbox.tenant_ids()
        queue = run.web.app.extensions["dunning"].queue
        held: list[tuple[int | None, int]] = []
        queue.enqueue = lambda name, key, payload, eta=None: held.append((payload["org_id"], payload["event_id"]))
        for operation, pick in operations:
            tenant = tenants[pick % len(tenants)]
            open_ids = sandbox.open_invoice_ids(tenant)
            if operation in ("pay_part", "pay_full", "late") and open_ids:
                invoice = open_ids[pick % len(open_ids)]
                unpaid = Decimal(sandbox.invoice(tenant, invoice)["total_unpaid"])
                if operation == "pay_part" and unpaid > 1:
                    sandbox.register_payment(tenant, invoice, (unpaid / 3).quantize(Decimal("0.01")))
                elif operation == "pay_full":
                    sandbox.register_payment(tenant, invoice, unpaid)
                else:
                    sandbox.set_state(tenant, invoice, "late")
            elif operation in ("deliver", "deliver_twice"):
                sandbox.duplicate_rate = 1.0 if operation == "deliver_twice" else 0.0
                sandbox.deliver_webhooks()
            elif operation == "sync":
                sync.sync_connection(rt, run.org_id, connection_id)
            elif operation == "process" and held:
                random.Random(pick).shuffle(held)
                for org_id, event_id in held:
                    inbox.process_event(rt, org_id, event_id)
                held.clear()
        sandbox.duplicate_rate = 0.0
        sandbox.deliver_webhooks()
        for org_id, event_id in held:  # whatever was still queued, in arrival order
            inbox.process_event(rt, org_id, event_id)
        # no reconciliation sync here: the webhook hints alone, shuffled and duplicated, must have converged

        upgrade(clean_url)
        clean = Runtime(rt.settings.model_copy(update={"database_url": clean_url}), budget_url="memory://")
        with clean.sessions.begin() as s:
            clean_org = repos.create_organisation(s, "clean")
            copy = repos.create_connection(s, clean_org, "moneybird").id
        clean.tokens.store_initial(copy, clean_org, _tokens(rt, connection_id))  # the same grant, a fresh database
        sync.sync_connection(clean, clean_org, copy, full=True)
        assert _invoices(rt, run.org_id) == _invoices(clean, clean_org)
        clean.close()
    finally:
        run.shutdown()


def _tokens(rt: Runtime, connection_id: int):  # type: ignore[no-untyped-def]
    with rt.sessions() as s:
        row = s.get(tables.OAuthToken, connection_id)
        assert row is not None
        return rt.cipher.decrypt_tokens(connection_id, row.ciphertext)
