"""The world the conformance suite runs every adapter in: the adapter against its own sandbox, on 127.0.0.1.

A world is a provider's sandbox served in a thread (small seeded books, no rate limits, a fixed clock that the
adapter shares), connected through the real OAuth redirect and token exchange of ``connector.auth.oauth``, and
the adapter built the way the runtime builds it (``cls(ConnectionSession, config, clock=...)``). Only the
sandbox sizes are named per provider; the URL settings are the demo's own table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pydantic import SecretStr

from connector.auth.oauth import authorize_url, exchange_code, new_pkce_pair
from connector.demo import URL_SETTINGS
from connector.http.session import ConnectionSession
from connector.model import TokenSet
from connector.ports import AccountingAdapter
from connector.registry import ADAPTERS
from connector.settings import ProviderConfig, Settings
from sandboxes.runner import RunningServer, SandboxState, sandbox_factory, serve_in_thread, state_of

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # the sandboxes seed their books relative to this clock
CLIENT_ID, CLIENT_SECRET = "conformance-client", "conformance-secret"
REDIRECT = "http://127.0.0.1:9/oauth/callback"
SIZES: dict[str, dict[str, int]] = {
    "exact": {"divisions": 2, "items_per_division": 30, "accounts_per_division": 8},
    "moneybird": {"administrations": 2, "invoices_per_administration": 30, "contacts_per_administration": 8},
    "xero": {"tenants": 2, "invoices_per_tenant": 30, "contacts_per_tenant": 8},
}


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"the adapter path slept {seconds}s; a conformance world has no rate limits")


@dataclass
class World:
    """One adapter connected to its running sandbox."""

    provider: str
    server: RunningServer
    config: ProviderConfig
    tokens: TokenSet
    adapter: AccountingAdapter

    @property
    def state(self) -> SandboxState:
        return state_of(self.server.app)

    @property
    def tenant(self) -> str:
        return self.state.tenant_ids()[0]


def connect(cls: type[AccountingAdapter], config: ProviderConfig) -> TokenSet:
    """The authorization-code flow against the sandbox (auto-consent), with PKCE where the provider wants it."""
    verifier = new_pkce_pair()[0] if cls.oauth.pkce else None
    url = authorize_url(cls, config, REDIRECT, "conformance", code_verifier=verifier)
    redirect = requests.get(url, allow_redirects=False, timeout=10)
    assert redirect.status_code == 302, f"{cls.id} authorize answered {redirect.status_code}: {redirect.text[:200]}"
    query = parse_qs(urlsplit(redirect.headers["Location"]).query)
    assert query.get("state") == ["conformance"], f"{cls.id} did not echo the OAuth state"
    return exchange_code(cls, config, query["code"][0], REDIRECT, verifier, now=NOW)


def start_world(provider: str, **options: Any) -> World:
    cls = ADAPTERS[provider]
    app = sandbox_factory(provider)(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        clock=lambda: NOW,
        rate_limits=False,
        **{**SIZES[provider], **options},
    )
    server = serve_in_thread(app)
    base = Settings(secret_keys=[SecretStr("unused")]).provider(provider)
    config = base.model_copy(
        update={name: server.url for name in URL_SETTINGS[provider]}
        | {"client_id": CLIENT_ID, "client_secret": SecretStr(CLIENT_SECRET)}
    )
    tokens = connect(cls, config)
    session = ConnectionSession(cls, access_token=lambda: tokens.access_token, sleep=no_sleep, clock=lambda: NOW)
    return World(provider, server, config, tokens, cls(session, config, clock=lambda: NOW))


@pytest.fixture(scope="module", params=sorted(ADAPTERS))
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    """One world per adapter, shared by a module's tests: each test works on invoices it creates itself."""
    running = start_world(request.param)
    yield running
    running.server.shutdown()
