"""Receiver and tenant isolation (docs/architecture.md#tenant-isolation)."""

from __future__ import annotations

import json
import socket
import time
from unittest import mock

import requests

from adapters.moneybird.webhooks import sign
from connector import demo, services, sync
from connector.model import Tenant
from connector.storage import repos


def _signed(tenant: str, secret: str, entity: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "administration_id": tenant,
            "webhook_id": "1",
            "entity_type": "SalesInvoice",
            "entity_id": entity,
            "state": "paid",
            "action": "sales_invoice_state_changed_to_paid",
        }
    ).encode()
    now = int(time.time())
    return body, {"Moneybird-Signature": f"t={now},v1={sign(secret, now, body)}", "Idempotency-Key": f"k-{entity}"}


def test_receiver_makes_no_outbound_call_and_drops_unknown_tenants(stack: demo.DemoRun) -> None:
    rt = stack.runtime
    sync.sync_connection(rt, stack.org_id, demo.connect(stack, "moneybird"))
    app = stack.web.app
    app.extensions["dunning"].queue = mock.Mock()  # only what the receiver itself does
    client = app.test_client()
    with rt.sessions() as s:
        adm = repos.list_administrations(s, stack.org_id)[0]
        secret = rt.cipher.decrypt(
            rt.webhook_secret_binding("moneybird", adm.provider_tenant_id), adm.webhook_secret_ciphertext
        )["secret"]
        before = len(repos.inbox_events(s, stack.org_id, limit=100_000))
    body, headers = _signed(adm.provider_tenant_id, secret, "42")
    with mock.patch.object(socket.socket, "connect", side_effect=AssertionError("outbound call from the receiver")):
        assert client.post("/webhooks/moneybird", data=body, headers=headers).status_code == 200
    # a tenant nobody connected: no Moneybird secret exists for it, so it cannot be verified (401, nothing stored)
    stranger_body, stranger_headers = _signed("999999999999999999", "whatever", "43")
    assert client.post("/webhooks/moneybird", data=stranger_body, headers=stranger_headers).status_code == 401
    # ...and when a delivery does verify (app-wide keys: Xero, Exact) but names an unknown tenant, it is
    # acknowledged so the provider stops retrying, and dropped: nothing stored, nothing queued
    with mock.patch("adapters.moneybird.provider.MoneybirdAdapter.verify_webhook"):
        assert client.post("/webhooks/moneybird", data=stranger_body, headers=stranger_headers).status_code == 200
    with rt.sessions() as s:
        assert len(repos.inbox_events(s, stack.org_id, limit=100_000)) == before + 1
        assert repos.inbox_events(s, None) == []
    assert app.extensions["dunning"].queue.enqueue.call_count == 1


def test_an_event_for_one_organisation_never_touches_another(stack: demo.DemoRun) -> None:
    rt = stack.runtime
    sync.sync_connection(rt, stack.org_id, demo.connect(stack, "moneybird"))
    other_org = services.ensure_organisation(rt, "Other accountancy")
    with rt.sessions.begin() as s:
        connection = repos.create_connection(s, other_org, "moneybird")
        repos.upsert_administration(
            s, other_org, connection.id, "moneybird", Tenant(provider_tenant_id="555555555555555555", name="Elsewhere")
        )
    with rt.sessions() as s:
        mine = repos.list_administrations(s, stack.org_id)[0]
        theirs = repos.list_administrations(s, other_org)[0]
        secret = rt.cipher.decrypt(
            rt.webhook_secret_binding("moneybird", mine.provider_tenant_id), mine.webhook_secret_ciphertext
        )["secret"]
    body, headers = _signed(mine.provider_tenant_id, secret, "44")
    assert (
        requests.post(f"{stack.web.url}/webhooks/moneybird", data=body, headers=headers, timeout=10).status_code == 200
    )
    with rt.sessions() as s:
        assert repos.inbox_events(s, other_org) == []
    # the dashboard serves its own organisation: another organisation's administration is not found
    http = demo.login(stack)  # the demo's owner, a member of the demo organisation only
    page = http.get(stack.web.url, timeout=10)
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    answer = http.post(
        f"{stack.web.url}/administrations/{theirs.id}/safe-mode",
        data={"enabled": "0", "csrf": csrf},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 404
    with rt.sessions() as s:
        assert repos.get_administration(s, other_org, theirs.id).safe_mode is True
