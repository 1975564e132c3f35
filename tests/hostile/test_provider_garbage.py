"""A provider answering 200 with an HTML page or garbled JSON: every adapter's reads end in one classified,
retried ``MalformedResponse`` that names the provider and the endpoint (docs/architecture.md#retries-and-retry-after).

The real adapters talk HTTP to a stub on 127.0.0.1 that answers every path with the same 2xx body; the session's
sleep is a no-op, so the retries cost no time. Before the session checked the body, Moneybird and Xero raised a
permanent ``GarbageResponse`` (never retried) and Exact one naming neither provider nor endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask, Response, request
from pydantic import SecretStr

from connector.demo import URL_SETTINGS
from connector.errors import MalformedResponse, TransientError
from connector.http.session import ConnectionSession
from connector.ports import AccountingAdapter
from connector.registry import ADAPTERS
from connector.settings import Settings
from sandboxes.runner import RunningServer, serve_in_thread
from tests.http.fakes import FakeAdapter

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ATTEMPTS = 3
BODIES = {
    "html": ("text/html; charset=utf-8", "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"),
    "garbled-json": ("application/json", '{"Invoices": [{"InvoiceID": "44aa'),
    "json-typed-html": ("application/json", "<!DOCTYPE html><title>Maintenance</title>"),
    "binary": ("application/json", "\udcff\udcfe\x00garbage"),
}
# one read per provider that needs no tenant, one that does (provider-side tenant ids as the adapters expect them)
READS: dict[str, dict[str, Callable[[AccountingAdapter], Any]]] = {
    provider: {
        "tenants": lambda adapter: adapter.list_tenants(),
        "invoices": lambda adapter, tenant=tenant: next(iter(adapter.iter_invoice_pages(tenant, None, lambda ids: {}))),
    }
    for provider, tenant in {
        "moneybird": "381927349137",
        "xero": "e629a03c-7ffe-4913-bd94-ff2fdb36a702",
        "exact": "123456",
    }.items()
}


class GarbageProvider:
    """Answers every request with the body under test (200), and counts the requests per path."""

    def __init__(self) -> None:
        self.body: tuple[str, str] = BODIES["html"]
        self.paths: list[str] = []
        self.app = Flask("garbage")
        self.app.add_url_rule("/", "root", self._answer, methods=["GET", "POST", "PUT", "PATCH"])
        self.app.add_url_rule("/<path:rest>", "any", self._answer, methods=["GET", "POST", "PUT", "PATCH"])

    def _answer(self, rest: str = "") -> Response:
        self.paths.append(request.path)
        content_type, text = self.body
        return Response(text.encode("utf-8", "surrogateescape"), status=200, content_type=content_type)


@pytest.fixture(scope="module")
def stub() -> Iterator[tuple[GarbageProvider, RunningServer]]:
    provider = GarbageProvider()
    server = serve_in_thread(provider.app)
    yield provider, server
    server.shutdown()


def adapter_for(provider: str, url: str) -> AccountingAdapter:
    cls = ADAPTERS[provider]
    base = Settings(secret_keys=[SecretStr("unused")]).provider(provider)
    config = base.model_copy(update=dict.fromkeys(URL_SETTINGS[provider], url))
    session = ConnectionSession(
        cls, access_token=lambda: "tok", sleep=lambda _: None, clock=lambda: NOW, max_attempts=ATTEMPTS
    )
    return cls(session, config, clock=lambda: NOW)


CASES = [(p, read, body) for p in sorted(READS) for read in READS[p] for body in BODIES]


@pytest.mark.parametrize(("provider", "read", "body"), CASES, ids=["-".join(c) for c in CASES])
def test_a_2xx_that_is_not_json_is_a_retried_malformed_response_naming_provider_and_endpoint(
    stub: tuple[GarbageProvider, RunningServer], provider: str, read: str, body: str
) -> None:
    garbage, server = stub
    garbage.body, garbage.paths = BODIES[body], []
    with pytest.raises(TransientError) as caught:
        READS[provider][read](adapter_for(provider, server.url))
    error = caught.value
    assert isinstance(error, MalformedResponse), f"{provider} {read}: {type(error).__name__}: {error}"
    assert error.provider == provider, f"the error names provider {error.provider!r}"
    message = str(error)
    assert message.startswith(f"{provider} GET /"), f"the message names no provider and method: {message}"
    assert garbage.paths and garbage.paths[0] in message, f"the message names no endpoint: {message}"
    assert len(garbage.paths) == ATTEMPTS, f"retried {len(garbage.paths)} times, not {ATTEMPTS}: {garbage.paths}"
    assert "Traceback" not in message and "JSONDecodeError" not in message


def test_a_malformed_answer_followed_by_json_succeeds(stub: tuple[GarbageProvider, RunningServer]) -> None:
    """The retry is real: the second answer is used."""
    garbage, server = stub
    answers = iter([BODIES["html"], ("application/json", '{"ok": true}')])
    garbage.paths = []
    original = garbage._answer

    def flip(rest: str = "") -> Response:
        garbage.body = next(answers)
        return original(rest)

    garbage.app.view_functions["any"] = flip
    try:
        session = ConnectionSession(FakeAdapter, access_token=lambda: "tok", sleep=lambda _: None, clock=lambda: NOW)
        assert session.request("GET", f"{server.url}/api/things").json() == {"ok": True}
        assert len(garbage.paths) == 2, garbage.paths
    finally:
        garbage.app.view_functions["any"] = original


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/pdf", "%PDF-1.4 binary"), ("application/json", ""), ("application/atom+xml", "<feed/>")],
    ids=["pdf", "empty", "atom"],
)
def test_documents_and_empty_bodies_pass_through(
    stub: tuple[GarbageProvider, RunningServer], content_type: str, body: str
) -> None:
    garbage, server = stub
    garbage.body, garbage.paths = (content_type, body), []
    session = ConnectionSession(FakeAdapter, access_token=lambda: "tok", sleep=lambda _: None, clock=lambda: NOW)
    assert session.request("GET", f"{server.url}/api/doc").status_code == 200
    assert len(garbage.paths) == 1, f"a {content_type} body was retried: {garbage.paths}"
