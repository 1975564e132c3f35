"""The sandbox's requests and responses against Xero's official OpenAPI specs (openapi-core 0.23.1).

An adapter run (tenants, every sync reader, write-back) is recorded on the wire; each Accounting exchange is validated
against ``xero_accounting.yaml`` as if sent to https://api.xero.com, ``/connections`` against the ``Connection`` schema
of ``xero-identity.yaml`` and the signed webhook deliveries against ``xero-webhooks.yaml``. Known spec-vs-wire
differences are named where they are relaxed.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from werkzeug.datastructures import Headers

from adapters.xero.provider import XeroAdapter
from connector.model import ReminderWrite, WriteAction
from sandboxes.xero.state import XeroSandbox
from tests.adapters.xero.conftest import Recorder, no_known
from tests.receiver import start_receiver
from tests.specs import load_spec, spec_path


@pytest.fixture(scope="session")
def accounting_spec() -> OpenAPI:
    path = spec_path("xero_accounting.yaml")
    # the official file itself fails spec validation (``default: "false"`` on booleans), so skip that check
    return OpenAPI.from_file_path(str(path), config=Config(spec_validator_cls=None))  # 926 KB: once per session


class AsXero(RequestsOpenAPIRequest):
    """The recorded request as if it had gone to api.xero.com.

    docs/providers/xero.md#incremental-sync vs spec: ``If-Modified-Since`` is documented as ``format: date-time`` but
    Xero wants ``yyyy-mm-ddThh:mm:ss`` without zone; the header is dropped before validation.
    """

    def __init__(self, request: requests.PreparedRequest) -> None:
        super().__init__(request)
        headers = Headers(dict(request.headers))
        headers.pop("If-Modified-Since", None)
        self.parameters.header = headers

    @property
    def host_url(self) -> str:
        return "https://api.xero.com"


@pytest.fixture
def traffic(adapter: XeroAdapter, sandbox: XeroSandbox, recorder: Recorder) -> list[Any]:
    tenants = [t.provider_tenant_id for t in adapter.list_tenants()]
    tenant = tenants[0]
    list(adapter.iter_invoice_pages(tenant, None, no_known))
    list(adapter.iter_payment_pages(tenant, None, no_known))
    list(adapter.iter_credit_note_pages(tenant, None, no_known))
    list(adapter.iter_debtor_pages(tenant, None, no_known))
    invoice = sandbox.open_invoice_ids(tenant)[0]
    adapter.fetch_invoices(tenant, [invoice])
    adapter.reminder_settings(tenant)
    adapter.online_invoice_url(tenant, invoice)
    debtor = sandbox.org(tenant).invoices[invoice]["ContactID"]
    for action in (WriteAction.NOTE, WriteAction.CREDIT_HOLD, WriteAction.CREDIT_RELEASE):
        adapter.write_reminder_status(
            tenant,
            ReminderWrite(
                action=action,
                debtor_ref=debtor,
                invoice_refs=[invoice],
                level=1,
                level_name="first",
                idempotency_key="k1",
            ),
        )
    return recorder.exchanges


def test_accounting_exchanges_match_the_spec(accounting_spec: OpenAPI, traffic: list[Any]) -> None:
    validated = set()
    for request, response in traffic:
        if "/api.xro/2.0/" not in (request.url or ""):
            continue
        openapi_request = AsXero(request)
        accounting_spec.validate_request(openapi_request)
        if response.status_code != 204:
            accounting_spec.validate_response(openapi_request, RequestsOpenAPIResponse(response))
        validated.add((request.method, openapi_request.path.split("/api.xro/2.0")[1].split("/")[1]))
    assert {
        ("GET", "Invoices"),
        ("GET", "Payments"),
        ("GET", "CreditNotes"),
        ("GET", "Contacts"),
        ("GET", "Organisation"),
        ("GET", "InvoiceReminders"),
        ("PUT", "Invoices"),
        ("GET", "ContactGroups"),
        ("PUT", "ContactGroups"),
        ("DELETE", "ContactGroups"),
    } <= validated


def test_sandbox_only_lists_match_the_spec(
    accounting_spec: OpenAPI, sandbox: XeroSandbox, tokens: Any, server: Any
) -> None:
    """Overpayments and Prepayments (not read by the adapter, but served) and a 400 ValidationException."""
    headers = {
        "Authorization": f"Bearer {tokens.access_token}",
        "xero-tenant-id": sandbox.tenant_ids()[0],
        "Accept": "application/json",
    }
    http = requests.Session()
    for path, params in (
        ("Overpayments", {"page": "1"}),
        ("Prepayments", {"page": "1"}),
        ("Invoices", {"where": 'Nonsense=="x"'}),
    ):
        response = http.get(f"{server.url}/api.xro/2.0/{path}", params=params, headers=headers, timeout=5)
        openapi_request = AsXero(response.request)
        accounting_spec.validate_request(openapi_request)
        if response.status_code == 200:
            accounting_spec.validate_response(openapi_request, RequestsOpenAPIResponse(response))
            assert response.json()[path]
        else:
            assert response.status_code == 400
            assert response.json()["Type"] == "ValidationException"


def test_connections_match_the_identity_schema(traffic: list[Any]) -> None:
    from openapi_schema_validator import OAS30Validator

    spec = load_spec("xero-identity.yaml")
    schema = dict(spec["components"]["schemas"]["Connection"])
    # docs/providers/xero.md#tenants vs spec: createdDateUtc/updatedDateUtc come as 7-digit, zone-less strings; no
    # format check
    validator = OAS30Validator({"type": "array", "items": schema})
    bodies = [response.json() for request, response in traffic if (request.url or "").endswith("/connections")]
    assert bodies
    for body in bodies:
        validator.validate(body)
        assert all(len(c["createdDateUtc"].split(".")[1]) == 7 for c in body)


def test_validation_can_fail(accounting_spec: OpenAPI, traffic: list[Any]) -> None:
    """Guards the tests above against validating nothing: a wrong type and a wrong parameter are caught."""
    import copy

    request, response = next((q, r) for q, r in traffic if (q.url or "").split("?")[0].endswith("/Invoices"))
    broken = copy.copy(response)
    broken._content = response.content.replace(b'"AmountDue": ', b'"AmountDue": "lots", "X": ', 1)
    assert broken.content != response.content
    with pytest.raises(Exception, match="(?i)invalid|error"):
        accounting_spec.validate_response(AsXero(request), RequestsOpenAPIResponse(broken))
    bad_request = request.copy()
    bad_request.prepare_url(request.url.split("?")[0], {"page": "one"})
    with pytest.raises(Exception, match="(?i)invalid|error|cast"):
        accounting_spec.validate_request(AsXero(bad_request))


def test_webhook_deliveries_match_the_webhooks_spec(sandbox: XeroSandbox) -> None:
    """Each signed delivery's body against ``WebhookEvent`` of ``xero-webhooks.yaml`` (formats checked too)."""
    from jsonschema import FormatChecker
    from openapi_schema_validator import OAS31Validator

    validator = OAS31Validator(load_spec("xero-webhooks.yaml")["components"]["schemas"]["WebhookEvent"])
    validator.format_checker = FormatChecker()
    receiver = start_receiver()
    try:
        sandbox.set_webhook_target(receiver.url, "spec-key")
        tenant = sandbox.tenant_ids()[0]
        contact = sandbox.create_contact(tenant)
        sandbox.create_invoice(tenant, contact)
        sandbox.create_credit(tenant, "credit_note", contact, Decimal("10.00"))
        sandbox.deliver_webhooks()
    finally:
        receiver.shutdown()
    bodies = [json.loads(raw) for raw, _headers in receiver.received]
    categories = {event["eventCategory"] for body in bodies for event in body["events"]}
    assert categories == {"CONTACT", "INVOICE", "CREDITNOTE"}
    for body in bodies:
        validator.validate(body)
    broken = {**bodies[0], "events": [{k: v for k, v in bodies[0]["events"][0].items() if k != "tenantId"}]}
    assert not validator.is_valid(broken), "the schema must refuse an event without its tenant"
