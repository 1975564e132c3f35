"""One conformance suite over every adapter in the registry: declarations, classification, webhook contract."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.errors import GarbageResponse, NotSupported, WebhookRejected
from connector.model import Capability
from connector.ports import AccountingAdapter, ResponseAction
from connector.registry import ADAPTERS

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(params=sorted(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> type[AccountingAdapter]:
    return ADAPTERS[request.param]


def test_declarations(adapter: type[AccountingAdapter]) -> None:
    assert adapter.id and adapter.name and adapter.page_size > 0
    assert adapter.oauth.authorize_path.startswith("/") and adapter.oauth.token_path.startswith("/")
    assert adapter.limits and all(limit.calls > 0 and limit.seconds > 0 for limit in adapter.limits)


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (200, {ResponseAction.OK}),
        (201, {ResponseAction.OK}),
        (204, {ResponseAction.OK}),
        (401, {ResponseAction.REAUTH, ResponseAction.PERMANENT}),
        (403, {ResponseAction.PERMANENT, ResponseAction.REAUTH}),
        (404, {ResponseAction.NOT_FOUND}),
        (409, {ResponseAction.PERMANENT, ResponseAction.RETRY}),
        (429, {ResponseAction.RATE_LIMITED}),
        (500, {ResponseAction.RETRY}),
        (503, {ResponseAction.RETRY}),
    ],
)
def test_classify(adapter: type[AccountingAdapter], status: int, allowed: set[ResponseAction]) -> None:
    assert adapter.classify(status, {}, b"{}") in allowed


def test_webhook_contract(adapter: type[AccountingAdapter]) -> None:
    if Capability.WEBHOOKS not in adapter.capabilities:
        with pytest.raises(NotSupported):
            adapter.verify_webhook(b"{}", {}, ["k"], NOW)
        return
    for headers in ({}, {"X-Junk": "1"}):
        with pytest.raises(WebhookRejected):
            adapter.verify_webhook(b'{"a":1}', headers, ["secret"], NOW)
    with pytest.raises((GarbageResponse, ValueError)):
        adapter.parse_webhook(b"not json", {})


def test_built_the_way_the_runtime_builds_it(adapter: type[AccountingAdapter]) -> None:
    """Runtime.adapter_for calls cls(http, config, clock=...): every adapter accepts the base constructor."""
    from unittest import mock

    from connector.settings import Settings

    config = Settings(secret_keys=["x"]).provider(adapter.id)  # type: ignore[list-item]
    built = adapter(mock.Mock(), config, clock=lambda: NOW)
    assert built.clock() == NOW


def test_capabilities_match_implemented_methods(adapter: type[AccountingAdapter]) -> None:
    overridden = {
        name
        for name in ("write_reminder_status", "iter_invoice_pages", "fetch_invoices")
        if getattr(adapter, name) is not getattr(AccountingAdapter, name)
    }
    assert {"iter_invoice_pages", "fetch_invoices"} <= overridden
    writes = {Capability.SEND_REMINDER, Capability.WRITE_NOTE, Capability.CREDIT_HOLD}
    if adapter.capabilities & writes:
        assert "write_reminder_status" in overridden
