"""End to end over real HTTP: OAuth connect, full sync, webhook -> re-fetch, rules -> write-back, crash resume."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import requests

from connector import decide, demo, outbox, sync
from connector.storage import repos


def _sandbox(run: demo.DemoRun):  # type: ignore[no-untyped-def]
    return run.sandboxes["moneybird"].app.extensions["sandbox"]


def test_connect_sync_rules_writeback_then_nothing_twice(stack: demo.DemoRun, today: date) -> None:
    first = demo.run_provider(stack, "moneybird", today)
    assert first["administrations"] == 2
    assert all(
        first[k] > 0 for k in ("invoices_synced", "open_invoices", "payments", "api_calls", "decisions", "writebacks")
    )
    sandbox = _sandbox(stack)
    reminders = [w for t in sandbox.tenant_ids() for w in sandbox.writes(t) if w["kind"] == "reminder"]
    assert reminders, "the sandbox received no send_reminders call"
    reminded = [i for w in reminders for i in w["invoice_ids"]]
    assert len(reminded) == len(set(reminded)), "an invoice was reminded twice in one run"
    writes_before = sum(len(sandbox.writes(t)) for t in sandbox.tenant_ids())
    second = demo.run_provider(stack, "moneybird", today)
    assert second["decisions"] == 0 and second["writebacks"] == 0
    assert sum(len(sandbox.writes(t)) for t in sandbox.tenant_ids()) == writes_before


def test_webhook_payment_is_refetched(stack: demo.DemoRun) -> None:
    rt = stack.runtime
    sync.sync_connection(rt, stack.org_id, demo.connect(stack, "moneybird"))
    sandbox = _sandbox(stack)
    tenant = sandbox.tenant_ids()[0]
    invoice_id = sandbox.open_invoice_ids(tenant)[0]
    unpaid = Decimal(sandbox.invoice(tenant, invoice_id)["total_unpaid"])
    sandbox.register_payment(tenant, invoice_id, unpaid)
    assert sandbox.deliver_webhooks() >= 1
    with rt.sessions() as s:
        adm = next(a for a in repos.list_administrations(s, stack.org_id) if a.provider_tenant_id == tenant)
        row = repos.get_invoices(s, stack.org_id, adm.id, [invoice_id])[0]
        events = repos.inbox_events(s, stack.org_id)
    assert row.status == "paid" and row.open_minor == 0
    assert any(e.entity_id == invoice_id and e.status == "processed" for e in events)


def test_freshness_gate_skips_an_invoice_paid_after_the_decision(stack: demo.DemoRun, today: date) -> None:
    rt = stack.runtime
    connection_id = demo.connect(stack, "moneybird")
    sync.sync_connection(rt, stack.org_id, connection_id)
    with rt.sessions() as s:
        for adm in repos.list_administrations(s, stack.org_id):
            adm.safe_mode = False
        s.commit()
    decide.run_dunning(rt, stack.org_id, today)
    with rt.sessions() as s:
        pending = repos.pending_outbox(s, stack.org_id, datetime.now(UTC))
        adm = repos.get_administration(s, stack.org_id, pending[0].administration_id)
    sandbox = _sandbox(stack)
    item = pending[0]
    for ref in item.invoice_refs:  # paid at the provider, no webhook delivered: only the gate can notice
        sandbox.register_payment(
            adm.provider_tenant_id, ref, Decimal(sandbox.invoice(adm.provider_tenant_id, ref)["total_unpaid"])
        )
    outbox.drain(rt, stack.org_id)
    with rt.sessions() as s:
        statuses = {i.id: i.status for i in repos.outbox_items(s, stack.org_id)}
    assert statuses[item.id] == "skipped"
    sent = {
        i for t in sandbox.tenant_ids() for w in sandbox.writes(t) if w["kind"] == "reminder" for i in w["invoice_ids"]
    }
    assert not set(item.invoice_refs) & sent


def test_crash_between_pages_is_completed_by_the_next_run(stack: demo.DemoRun, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = stack.runtime
    connection_id = demo.connect(stack, "moneybird")
    original = sync.store_page
    calls = {"n": 0}

    def crashing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash after two committed pages")
        return original(*args, **kwargs)

    monkeypatch.setattr(sync, "store_page", crashing)
    with pytest.raises(RuntimeError):
        sync.sync_connection(rt, stack.org_id, connection_id)
    monkeypatch.setattr(sync, "store_page", original)
    sync.sync_connection(rt, stack.org_id, connection_id)
    sandbox = _sandbox(stack)
    with rt.sessions() as s:
        adms = repos.list_administrations(s, stack.org_id)
        stored = sum(
            repos.counts(s, stack.org_id, [a.id])["invoices"] + repos.counts(s, stack.org_id, [a.id])["credit_notes"]
            for a in adms
        )
    expected = sum(
        len(sandbox.state_of(t)["sales_invoices"]) if hasattr(sandbox, "state_of") else 0 for t in sandbox.tenant_ids()
    )
    listed = sum(
        len(
            requests.get(
                f"{stack.sandboxes['moneybird'].url}/api/v2/{t}/sales_invoices/synchronization.json",
                headers={"Authorization": f"Bearer {rt.tokens.access_token(connection_id)}"},
                timeout=10,
            ).json()
        )
        for t in sandbox.tenant_ids()
    )
    assert stored == listed and (expected in (0, listed))


def test_webhook_receiver_answers_per_contract(stack: demo.DemoRun, today: date) -> None:
    from adapters.moneybird.webhooks import sign

    demo.run_provider(stack, "moneybird", today)
    rt = stack.runtime
    with rt.sessions() as s:
        adm = repos.list_administrations(s, stack.org_id)[0]
        secret = rt.cipher.decrypt(
            rt.webhook_secret_binding("moneybird", adm.provider_tenant_id), adm.webhook_secret_ciphertext
        )["secret"]
    url = f"{stack.web.url}/webhooks/moneybird"
    body = json.dumps(
        {
            "administration_id": adm.provider_tenant_id,
            "webhook_id": adm.webhook_ref,
            "entity_type": "SalesInvoice",
            "entity_id": "1",
            "state": "paid",
            "action": "sales_invoice_state_changed_to_paid",
        }
    ).encode()
    now = int(time.time())

    def post(raw: bytes, ts: int = now, key: str = secret, extra: dict[str, str] | None = None) -> requests.Response:
        headers = {
            "Moneybird-Signature": f"t={ts},v1={sign(key, ts, raw)}",
            "Idempotency-Key": "idem-1",
            "Content-Type": "application/json",
            **(extra or {}),
        }
        return requests.post(url, data=raw, headers=headers, timeout=10)

    def count() -> int:
        with rt.sessions() as s:
            return len(repos.inbox_events(s, stack.org_id, limit=10_000))

    start = count()
    assert post(body, key="wrong").status_code == 401 and count() == start
    # A minute outside the 5-minute window each way: the server reads its clock a moment after ``now`` (seconds
    # under load), so ±301 would be flaky here; the exact 300/301 s edges are in tests/adapters/moneybird's vectors.
    assert post(body, ts=now - 360).status_code == 401 and count() == start
    assert post(body, ts=now + 360).status_code == 401 and count() == start
    reserialised = json.dumps(json.loads(body), indent=2).encode()
    bad = requests.post(
        url, data=reserialised, headers={"Moneybird-Signature": f"t={now},v1={sign(secret, now, body)}"}, timeout=10
    )
    assert bad.status_code == 401
    assert requests.post(url, data=body, timeout=10).status_code == 401  # unsigned event
    ok = post(body)
    assert ok.status_code == 200 and ok.content == b"" and count() == start + 1
    assert post(body).status_code == 200 and count() == start + 1  # duplicate Idempotency-Key
    assert requests.post(url, data=b"x" * (1024 * 1024 + 1), timeout=10).status_code == 413
    garbage = b'{"administration_id": "%s", "not": "an event"}' % adm.provider_tenant_id.encode()
    assert post(garbage, extra={"Idempotency-Key": "idem-2"}).status_code == 200
    with rt.sessions() as s:
        dead = repos.inbox_events(s, stack.org_id, status="dead")
    assert any("unparseable" in (d.last_error or "") for d in dead)
    assert requests.post(url, data=b"{}", timeout=10).status_code == 200  # registration probe
    assert requests.post(f"{stack.web.url}/webhooks/nope", data=b"{}", timeout=10).status_code == 404


def test_an_unparseable_dead_letter_is_parsed_again_on_replay(
    stack: demo.DemoRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.moneybird import webhooks as mb_webhooks
    from adapters.moneybird.provider import MoneybirdAdapter
    from connector import inbox

    rt = stack.runtime
    sync.sync_connection(rt, stack.org_id, demo.connect(stack, "moneybird"))
    with rt.sessions() as s:
        adm = repos.list_administrations(s, stack.org_id)[0]
        invoice = repos.get_invoices(s, stack.org_id, adm.id, open_only=True)[0]
    # a body today's parser cannot read (a payload version that calls the action "event")
    raw = json.dumps(
        {
            "administration_id": adm.provider_tenant_id,
            "webhook_id": "1",
            "entity_type": "SalesInvoice",
            "entity_id": invoice.provider_ref,
            "event": "sales_invoice_updated",
        }
    ).encode()
    monkeypatch.setattr(MoneybirdAdapter, "verify_webhook", staticmethod(lambda *a: None))
    signed = {"Moneybird-Signature": "t=1,v1=checked-by-the-patched-verifier"}
    assert inbox.receive(rt, "moneybird", raw, signed, datetime.now(UTC)).reason == "dead letter"
    assert inbox.replay_dead(rt, stack.org_id) == []  # still unparseable: stays dead with its reason
    with rt.sessions() as s:
        (dead,) = repos.inbox_events(s, stack.org_id, status="dead")
        assert "still unparseable" in (dead.last_error or "")
    original = mb_webhooks.parse

    def learnt(body: bytes, headers):  # type: ignore[no-untyped-def]
        data = json.loads(body)
        data.setdefault("action", data.get("event"))
        return original(json.dumps(data).encode(), headers)

    monkeypatch.setattr(MoneybirdAdapter, "parse_webhook", staticmethod(learnt))
    (revived,) = inbox.replay_dead(rt, stack.org_id)
    assert inbox.process_event(rt, stack.org_id, revived) == "processed"
    with rt.sessions() as s:
        assert repos.inbox_events(s, stack.org_id, status="dead") == []
        assert repos.get_inbox_event(s, stack.org_id, revived).entity_id == invoice.provider_ref


def test_retention_deletes_processed_webhook_bodies_after_30_days(stack: demo.DemoRun) -> None:
    """docs/law.md#our-retention-policy: raw bodies go after 30 days; metadata and dead letters (for replay) stay."""
    from datetime import timedelta

    rt = stack.runtime
    sync.sync_connection(rt, stack.org_id, demo.connect(stack, "moneybird"))
    sandbox = stack.sandboxes["moneybird"].app.extensions["sandbox"]
    tenant = sandbox.tenant_ids()[0]
    sandbox.register_payment(tenant, sandbox.open_invoice_ids(tenant)[0], Decimal("1.00"))
    assert sandbox.deliver_webhooks() >= 1
    now = datetime.now(UTC)
    with rt.sessions.begin() as s:
        assert repos.purge_webhook_bodies(s, stack.org_id, now - timedelta(days=30)) == 0  # too recent
        purged = repos.purge_webhook_bodies(s, stack.org_id, now + timedelta(seconds=1))
    assert purged >= 1
    with rt.sessions() as s:
        events = repos.inbox_events(s, stack.org_id)
    assert all(e.raw == b"" for e in events if e.status == "processed")
    assert all(e.action and e.entity_id for e in events if e.status == "processed")  # the metadata stays
