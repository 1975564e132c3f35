"""Fixtures for the Xero tests: a settable clock, the sandbox served on 127.0.0.1, OAuth tokens and the adapter.

The adapter talks real HTTP to the sandbox through the real ``ConnectionSession``; a response hook on its
``requests.Session`` records every exchange so the spec tests can validate them with openapi-core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pydantic import SecretStr

from adapters.xero.provider import XeroAdapter
from connector.auth.oauth import authorize_url, exchange_code, new_pkce_pair, refresh_tokens
from connector.http.session import ConnectionSession
from connector.model import TokenSet
from connector.settings import XeroConfig
from sandboxes.runner import RunningServer, serve_in_thread
from sandboxes.xero.app import create_app
from sandboxes.xero.state import XeroSandbox

START = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
REDIRECT = "http://127.0.0.1:9/callback"


class SettableClock:
    """The sandbox's and adapter's clock: tests move it explicitly, never by wall time."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Recorder:
    """Keeps (PreparedRequest, Response) pairs of every HTTP exchange of a requests.Session."""

    def __init__(self) -> None:
        self.exchanges: list[tuple[requests.PreparedRequest, requests.Response]] = []

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.exchanges.append((response.request, response))
        return response


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def serve(clock: SettableClock) -> Iterator[Callable[..., RunningServer]]:
    servers: list[RunningServer] = []

    def start(**options: Any) -> RunningServer:
        options.setdefault("clock", clock)
        options.setdefault("invoices_per_tenant", 120)
        server = serve_in_thread(create_app(**options))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture
def server(serve: Callable[..., RunningServer]) -> RunningServer:
    return serve()


@pytest.fixture
def sandbox(server: RunningServer) -> XeroSandbox:
    state: XeroSandbox = server.app.extensions["sandbox"]
    return state


def make_config(url: str, **overrides: Any) -> XeroConfig:
    return XeroConfig(
        client_id="sandbox-client",
        client_secret=SecretStr("sandbox-secret"),
        login_url=url,
        identity_url=url,
        api_url=url,
        **overrides,
    )


@pytest.fixture
def config(server: RunningServer) -> XeroConfig:
    return make_config(server.url)


def connect(config: XeroConfig, clock: SettableClock, *, public: bool = False) -> TokenSet:
    """Run the authorization-code flow with PKCE against the sandbox (auto-consent) and exchange the code."""
    verifier, _challenge = new_pkce_pair()
    url = authorize_url(XeroAdapter, config, REDIRECT, "state-1", code_verifier=verifier)
    redirect = requests.get(url, allow_redirects=False, timeout=5)
    assert redirect.status_code == 302, redirect.text
    query = parse_qs(urlsplit(redirect.headers["Location"]).query)
    assert query["state"] == ["state-1"]
    if public:
        config = config.model_copy(update={"client_secret": SecretStr("")})
    return exchange_code(XeroAdapter, config, query["code"][0], REDIRECT, verifier, now=clock())


@pytest.fixture
def tokens(config: XeroConfig, clock: SettableClock) -> TokenSet:
    return connect(config, clock)


class TokenSource:
    """Hands out the current access token and refreshes it (rotating the refresh token) when it is due,
    like ``TokenManager`` does for one connection; tests move the clock past 30 minutes freely."""

    def __init__(self, config: XeroConfig, tokens: TokenSet, clock: SettableClock) -> None:
        self.config, self.tokens, self.clock = config, tokens, clock
        self.refreshes = 0

    def __call__(self) -> str:
        expires = self.tokens.expires_at
        if expires is not None and (expires - self.clock()).total_seconds() <= XeroAdapter.oauth.refresh_leeway_seconds:
            self.force(self.tokens.access_token)
        return self.tokens.access_token

    def force(self, rejected: str) -> str:
        self.refreshes += 1
        self.tokens = refresh_tokens(XeroAdapter, self.config, self.tokens.refresh_token or "", now=self.clock())
        return self.tokens.access_token


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_adapter(
    config: XeroConfig, tokens: TokenSet, clock: SettableClock, recorder: Recorder
) -> Callable[..., XeroAdapter]:
    def build(
        *, sleep: Callable[[float], None] | None = None, token: str | None = None, **session_options: Any
    ) -> XeroAdapter:
        http = requests.Session()
        http.hooks["response"].append(recorder.hook)
        source = TokenSource(config, tokens, clock)
        session = ConnectionSession(
            XeroAdapter,
            access_token=(lambda: token) if token else source,
            session=http,
            on_unauthorized=source.force,
            clock=clock,
            sleep=sleep or _no_sleep,
            **session_options,
        )
        return XeroAdapter(session, config, clock=clock)

    return build


@pytest.fixture
def adapter(make_adapter: Callable[..., XeroAdapter]) -> XeroAdapter:
    return make_adapter()


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"the adapter path slept {seconds}s; no test here expects a sleep")


def no_known(refs: Any) -> dict[str, str]:
    return {}
