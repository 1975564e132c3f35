"""The periodic tasks, called directly on an immediate queue against a demo stack: they do what they say."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from connector import demo, services
from connector.jobs import HueyQueue, build_queue
from connector.storage import repos, tables


def _queue(stack: demo.DemoRun) -> HueyQueue:
    assert stack.runtime.settings.queue_immediate
    return build_queue(stack.runtime.settings, lambda: stack.runtime)


def _sandbox(stack: demo.DemoRun) -> Any:
    return stack.sandboxes["moneybird"].app.extensions["sandbox"]


def _leases(stack: demo.DemoRun) -> list[str]:
    with stack.runtime.sessions() as s:
        return [lease.name for lease in s.query(tables.Lease)]


def test_incremental_sync_reads_every_active_connection(stack: demo.DemoRun) -> None:
    rt = stack.runtime
    with rt.sessions() as s:
        connection = repos.list_connections(s, stack.org_id, "moneybird")[0]
        adm_before = {a.id: a.last_sync_at for a in repos.list_administrations(s, stack.org_id)}
    sandbox = _sandbox(stack)
    calls_before = len(sandbox.request_log)

    _queue(stack).tasks["incremental_sync"]()

    with rt.sessions() as s:
        after = repos.get_connection(s, stack.org_id, connection.id).last_sync_at
        adm_after = {a.id: a.last_sync_at for a in repos.list_administrations(s, stack.org_id)}
    assert connection.last_sync_at is not None and after is not None and after > connection.last_sync_at
    assert len(adm_after) == 2 and all(adm_before.values())
    assert all((adm_after[i] or t) > t for i, t in adm_before.items() if t is not None)
    new_calls = sandbox.request_log[calls_before:]
    assert any(path.endswith("/sales_invoices/synchronization.json") for _, path, _ in new_calls)
    assert _leases(stack) == [], "the sync lease is released afterwards"


def test_incremental_sync_skips_a_connection_that_needs_reauthorisation(stack: demo.DemoRun) -> None:
    rt = stack.runtime
    with rt.sessions() as s:
        connection = repos.list_connections(s, stack.org_id, "moneybird")[0]
        connection.status = "needs_reauth"
        s.commit()
    calls_before = len(_sandbox(stack).request_log)
    _queue(stack).tasks["incremental_sync"]()
    assert len(_sandbox(stack).request_log) == calls_before


def test_reconciliation_sweep_processes_an_event_whose_enqueue_failed(
    stack: demo.DemoRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = stack.runtime
    web_queue = stack.web.app.extensions["dunning"].queue

    def broken_enqueue(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("simulated: the queue is down")

    monkeypatch.setattr(web_queue, "enqueue", broken_enqueue)
    sandbox = _sandbox(stack)
    tenant = sandbox.tenant_ids()[0]
    invoice_id = sandbox.open_invoice_ids(tenant)[0]
    sandbox.register_payment(tenant, invoice_id, Decimal(sandbox.invoice(tenant, invoice_id)["total_unpaid"]))
    assert sandbox.deliver_webhooks() >= 1  # answered 200: stored before the (failed) enqueue

    def events() -> list[tables.InboxEvent]:
        with rt.sessions() as s:
            return [e for e in repos.inbox_events(s, stack.org_id) if e.entity_id == invoice_id]

    assert events() and {e.status for e in events()} == {"received"}
    queue = _queue(stack)

    queue.tasks["reconciliation_sweep"]()  # just received: its own job may still be on the way
    assert {e.status for e in events()} == {"received"}

    real_clock = rt.clock
    monkeypatch.setattr(rt, "clock", lambda: real_clock() + timedelta(minutes=10))
    queue.tasks["reconciliation_sweep"]()
    assert {e.status for e in events()} == {"processed"}
    with rt.sessions() as s:
        adm = next(a for a in repos.list_administrations(s, stack.org_id) if a.provider_tenant_id == tenant)
        invoice = repos.get_invoices(s, stack.org_id, adm.id, [invoice_id])[0]
        trail = repos.audit_trail(s, stack.org_id, invoice_ref=invoice_id, kind="webhook")
    assert invoice.status == "paid" and invoice.open_minor == 0
    assert trail, "the event was processed by the sweeper (audited), not just overtaken by the full sync"
    assert _leases(stack) == []


def test_daily_dunning_runs_the_rules_and_drains_the_outbox(stack: demo.DemoRun) -> None:
    rt = stack.runtime
    with rt.sessions() as s:
        administrations = repos.list_administrations(s, stack.org_id)
    for adm in administrations:
        services.set_safe_mode(rt, stack.org_id, adm.id, False)
    queue = _queue(stack)
    writes_before = sum(len(_sandbox(stack).writes(t)) for t in _sandbox(stack).tenant_ids())

    queue.tasks["daily_dunning"]()

    with rt.sessions() as s:
        items = repos.outbox_items(s, stack.org_id)
    today = rt.today(stack.org_id)  # the organisation's day, as the daily run takes it (not the UTC date)
    assert items and all(i.run_date == today for i in items)
    assert any(i.status == "done" for i in items)
    assert all(i.status != "pending" for i in items), "drained after the run"
    assert sum(len(_sandbox(stack).writes(t)) for t in _sandbox(stack).tenant_ids()) > writes_before
    assert _leases(stack) == []

    queue.tasks["daily_dunning"]()  # the same day again: nothing new
    with rt.sessions() as s:
        assert len(repos.outbox_items(s, stack.org_id)) == len(items)


def test_daily_dunning_in_safe_mode_only_previews(stack: demo.DemoRun) -> None:
    rt = stack.runtime
    _queue(stack).tasks["daily_dunning"]()
    with rt.sessions() as s:
        assert repos.outbox_items(s, stack.org_id) == []
        assert repos.audit_trail(s, stack.org_id, kind="preview")
    assert all(w["kind"] != "reminder" for t in _sandbox(stack).tenant_ids() for w in _sandbox(stack).writes(t))
