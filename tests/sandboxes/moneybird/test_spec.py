"""The Moneybird sandbox's requests and responses validated against the official OpenAPI spec (openapi-core).

Every call goes through the Flask test client with ``base_url="https://moneybird.com"`` so the werkzeug request
maps onto the spec server ``https://moneybird.com/api/v2``; request and response are then validated with
``openapi_core.contrib.werkzeug``. The schemas use ``unevaluatedProperties: false``, so any extra or misnamed field
in an invoice, contact, payment, note, event, webhook or workflow fails these tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.test import EnvironBuilder, TestResponse

from sandboxes.moneybird.state import MoneybirdSandbox
from tests.specs import load_spec

SPEC_HOST = "https://moneybird.com"


def _query_and_path_parameters_as_strings(document: dict[str, Any]) -> None:
    """openapi-core 0.23.1 cannot deserialise a *parameter* whose schema has a list ``type`` (``page``,
    ``per_page``: ``[integer, string]``; ids: ``$ref identifier`` = ``[string, integer]``) and crashes with
    TypeError. On the wire a query/path parameter is always a string, so only those parameter schemas are
    rewritten to their string alternative (pattern kept); request bodies and every response schema stay as
    published."""
    parameters = list(document["components"]["parameters"].values())
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                parameters += [p for p in operation.get("parameters", []) if "schema" in p]
    for parameter in parameters:
        schema = parameter.get("schema", {})
        if schema.get("$ref", "").endswith("/identifier"):
            parameter["schema"] = {"type": "string", "pattern": "^\\d+$"}
        elif isinstance(schema.get("type"), list) and "string" in schema["type"]:
            parameter["schema"] = {key: value for key, value in schema.items() if key not in ("minimum", "maximum")}
            parameter["schema"]["type"] = "string"


@pytest.fixture(scope="session")
def spec() -> OpenAPI:
    document = load_spec("moneybird_openapi.yml")
    _query_and_path_parameters_as_strings(document)
    # Spec quirk: base_contact_response.is_trusted declares `default: "default"` on a boolean, so
    # openapi-spec-validator rejects the document itself; skip validating the spec, keep validating data.
    # Request bodies are declared as `application/*`, for which openapi-core has no deserialiser: parse as JSON.
    config = Config(spec_validator_cls=None, extra_media_type_deserializers={"application/*": json.loads})
    return OpenAPI.from_dict(document, config=config)


@pytest.fixture
def spec_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(invoices_per_administration=60, probe_webhooks=False, rate_limit_per_window=1000)


@pytest.fixture
def sandbox(spec_app: Flask) -> MoneybirdSandbox:
    state: MoneybirdSandbox = spec_app.extensions["sandbox"]
    return state


@pytest.fixture
def call(spec_app: Flask, sandbox: MoneybirdSandbox, spec: OpenAPI) -> Callable[..., TestResponse]:
    client: FlaskClient = spec_app.test_client()
    token = sandbox.issue_token("sales_invoices settings")["access_token"]

    def run(
        method: str,
        path: str,
        status: int,
        *,
        json_body: Any = None,
        query: dict[str, str] | None = None,
        validate_request: bool = True,
    ) -> TestResponse:
        options: dict[str, Any] = {
            "method": method,
            "base_url": SPEC_HOST,
            "query_string": query,
            "json": json_body,
            "headers": {"Authorization": f"Bearer {token}"},
        }
        response = client.open(path, **options)
        assert response.status_code == status, response.get_data(as_text=True)
        # The app consumed the sent body, so validate an identical request built from the same arguments.
        # openapi-core's path matcher lets `{id}` swallow the suffix in `/sales_invoices/{id}{format}`
        # (id = "123.json", format = ""), so an id-terminated path is validated in its equally valid bare form.
        bare = re.sub(r"(\d)\.json$", r"\1", path)
        request = WerkzeugOpenAPIRequest(EnvironBuilder(bare, **options).get_request())
        if validate_request:
            spec.validate_request(request)
        spec.validate_response(request, WerkzeugOpenAPIResponse(response))
        return response

    return run


def test_spec_loads_with_the_sales_invoice_schema(spec: OpenAPI) -> None:
    schemas = spec.spec / "components" / "schemas"
    with (schemas / "sales_invoice_response").open() as schema:
        assert schema["unevaluatedProperties"] is False


def _first(sandbox: MoneybirdSandbox, adm: str, state: str) -> str:
    return next(i for i, inv in sandbox.data["administrations"][adm]["invoices"].items() if inv["state"] == state)


READ_CALLS = [
    ("GET", "/api/v2/administrations.json", None),
    (
        "GET",
        "/api/v2/{adm}/sales_invoices.json",
        {"filter": "period:20250101..20261231,state:open|late|reminded", "per_page": "100"},
    ),
    (
        "GET",
        "/api/v2/{adm}/sales_invoices.json",
        {"filter": "state:all,period:this_year", "page": "2", "per_page": "5"},
    ),
    ("GET", "/api/v2/{adm}/sales_invoices/synchronization.json", {"filter": "state:open|late"}),
    ("GET", "/api/v2/{adm}/sales_invoices/synchronization.json", None),
    ("GET", "/api/v2/{adm}/contacts.json", {"per_page": "100"}),
    ("GET", "/api/v2/{adm}/contacts/synchronization.json", None),
    ("GET", "/api/v2/{adm}/workflows.json", None),
    ("GET", "/api/v2/{adm}/document_styles.json", None),
    ("GET", "/api/v2/{adm}/identities.json", None),
    ("GET", "/api/v2/{adm}/users.json", None),
    ("GET", "/api/v2/{adm}/webhooks.json", None),
]


@pytest.mark.parametrize(("method", "path", "query"), READ_CALLS)
def test_read_endpoints_match_the_spec(
    call: Callable[..., TestResponse], sandbox: MoneybirdSandbox, method: str, path: str, query: dict[str, str] | None
) -> None:
    adm = sandbox.tenant_ids()[1]
    sandbox.create_webhook(adm, "https://connector.example/webhooks/moneybird", ["sales_invoice"])
    response = call(method, path.format(adm=adm), 200, query=query)
    assert isinstance(response.json, list)
    assert response.json
    # only the create response carries it (docs/providers/moneybird.md#subscribing)
    assert "secret" not in response.get_data(as_text=True)


def test_validation_is_strict_about_extra_fields(spec: OpenAPI, sandbox: MoneybirdSandbox) -> None:
    """Guard against a vacuous validator: one extra key in an otherwise valid invoice must fail."""
    adm = sandbox.tenant_ids()[0]
    invoice = sandbox.invoice(adm, sandbox.open_invoice_ids(adm)[0])
    request = MockRequest(
        SPEC_HOST, "get", f"/api/v2/{adm}/sales_invoices/{invoice['id']}.json", headers={"Authorization": "Bearer x"}
    )
    spec.validate_response(request, MockResponse(json.dumps(invoice).encode(), content_type="application/json"))
    with pytest.raises(OpenAPIError):
        spec.validate_response(
            request,
            MockResponse(json.dumps({**invoice, "amount_due": "1.0"}).encode(), content_type="application/json"),
        )


def test_every_seeded_invoice_and_contact_matches_the_spec(
    call: Callable[..., TestResponse], sandbox: MoneybirdSandbox
) -> None:
    for adm in sandbox.tenant_ids():
        ids = [row["id"] for row in call("GET", f"/api/v2/{adm}/sales_invoices/synchronization.json", 200).json]
        states = set()
        for start in range(0, len(ids), 100):
            batch = call(
                "POST",
                f"/api/v2/{adm}/sales_invoices/synchronization.json",
                200,
                json_body={"ids": ids[start : start + 100]},
            ).json
            states |= {inv["state"] for inv in batch}
        assert states == {"draft", "scheduled", "open", "pending_payment", "reminded", "late", "paid", "uncollectible"}
        contact_ids = [c["id"] for c in call("GET", f"/api/v2/{adm}/contacts/synchronization.json", 200).json]
        contacts = call(
            "POST", f"/api/v2/{adm}/contacts/synchronization.json", 200, json_body={"ids": contact_ids[:100]}
        ).json
        assert len(contacts) == min(100, len(contact_ids))
        call("GET", f"/api/v2/{adm}/contacts/{contact_ids[0]}.json", 200)


def test_single_invoice_and_404_match_the_spec(call: Callable[..., TestResponse], sandbox: MoneybirdSandbox) -> None:
    adm = sandbox.tenant_ids()[0]
    invoice_id = _first(sandbox, adm, "paid")
    assert call("GET", f"/api/v2/{adm}/sales_invoices/{invoice_id}.json", 200).json["id"] == invoice_id
    missing = call("GET", f"/api/v2/{adm}/sales_invoices/999999999999999999.json", 404)
    assert missing.json == {"error": "record not found", "symbolic": {"id": "not_found"}}


def test_write_back_calls_match_the_spec(call: Callable[..., TestResponse], sandbox: MoneybirdSandbox) -> None:
    adm = sandbox.tenant_ids()[0]
    late = sandbox.invoice(adm, _first(sandbox, adm, "late"))
    reminder = {
        "contact_id": late["contact_id"],
        "workflow_id": late["workflow_id"],
        "document_style_id": late["document_style_id"],
        "identity_id": late["identity_id"],
        "sales_invoice_ids": [late["id"]],
        "delivery_method": "Manual",
        "reminder_text": "Herinnering",
    }
    sent = call(
        "POST",
        f"/api/v2/{adm}/sales_invoices/send_reminders.json",
        200,
        json_body={"sales_invoice_reminders": [reminder]},
    )
    assert sent.json == 200
    paused = call("POST", f"/api/v2/{adm}/sales_invoices/{late['id']}/pause.json", 201, json_body={})
    assert paused.json["paused"] is True
    call("POST", f"/api/v2/{adm}/sales_invoices/{late['id']}/resume.json", 201, json_body={})
    note = call(
        "POST",
        f"/api/v2/{adm}/sales_invoices/{late['id']}/notes.json",
        201,
        json_body={"note": {"note": "Klant belt vrijdag terug", "todo": True}},
    )
    assert note.json["entity_type"] == "SalesInvoice"
    call("POST", f"/api/v2/{adm}/sales_invoices/{late['id']}/notes.json", 422, json_body={"note": {"note": " "}})
    call(
        "POST",
        f"/api/v2/{adm}/contacts/{late['contact_id']}/notes.json",
        201,
        json_body={"note": {"note": "Betalingsregeling afgesproken"}},
    )
    marked = call("PATCH", f"/api/v2/{adm}/sales_invoices/{late['id']}/mark_as_uncollectible.json", 200, json_body={})
    assert marked.json["state"] == "uncollectible"


def test_webhook_create_matches_the_spec(call: Callable[..., TestResponse], sandbox: MoneybirdSandbox) -> None:
    adm = sandbox.tenant_ids()[0]
    created = call(
        "POST",
        f"/api/v2/{adm}/webhooks.json",
        201,
        json_body={
            "url": "https://connector.example/webhooks/moneybird",
            "enabled_events": ["sales_invoice_state_changed", "payment_registered"],
        },
    )
    assert created.json["secret"]
    assert created.json["token"]
    removed = call(
        "POST",
        f"/api/v2/{adm}/webhooks.json",
        400,
        json_body={"url": "https://connector.example/webhooks/moneybird", "events": ["x"]},
        validate_request=False,
    )  # `events` is no longer in the request schema (docs/providers/moneybird.md#subscribing)
    assert removed.json["symbolic"] == {"events": "removed"}


def test_bad_per_page_400_matches_the_spec(call: Callable[..., TestResponse], sandbox: MoneybirdSandbox) -> None:
    adm = sandbox.tenant_ids()[0]
    # The request itself violates the spec (per_page maximum 100), so only the response is validated here.
    response = call("GET", f"/api/v2/{adm}/sales_invoices.json", 400, query={"per_page": "101"}, validate_request=False)
    assert response.json["error"] == "per_page does not have a valid value"
    call("GET", f"/api/v2/{adm}/sales_invoices.json", 400, query={"filter": "state:bogus"})


def test_429_matches_the_spec(call: Callable[..., TestResponse], sandbox: MoneybirdSandbox) -> None:
    adm = sandbox.tenant_ids()[0]
    sandbox.rate_limit_per_window = 1
    call("GET", f"/api/v2/{adm}/users.json", 200)
    # The spec documents 429 only on the report endpoints and users.json; users.json is the one we serve.
    throttled = call("GET", f"/api/v2/{adm}/users.json", 429)
    assert throttled.json == "Retry later"


def test_webhook_payload_entity_is_a_spec_invoice(spec: OpenAPI, sandbox: MoneybirdSandbox) -> None:
    """The ``entity`` of an invoice push is the API representation (docs/providers/moneybird.md#payload)."""
    adm = sandbox.tenant_ids()[0]
    sandbox.create_webhook(adm, "http://127.0.0.1:9/unused", ["sales_invoice"])
    invoice_id = sandbox.create_invoice(adm)
    entity = json.loads(sandbox.data["deliveries"][-1]["body"])["entity"]
    assert entity["id"] == invoice_id
    request = MockRequest(
        SPEC_HOST, "get", f"/api/v2/{adm}/sales_invoices/{invoice_id}.json", headers={"Authorization": "Bearer x"}
    )
    spec.validate_response(request, MockResponse(json.dumps(entity).encode(), content_type="application/json"))
