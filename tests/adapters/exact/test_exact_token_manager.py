"""The core's TokenManager with ExactAdapter's OAuthSpec against the sandbox: it waits for the last 30 s.

A token 540 s old is handed out unchanged (no token call, which Exact would answer with
TooEarlyToRefreshTokens); at 576 s exactly one refresh happens even when two workers race, the rotated
refresh token is stored, and the old one is dead at the sandbox.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from openapi_core import OpenAPI
from sqlalchemy import Engine

from adapters.exact.provider import ExactAdapter
from connector.auth.crypto import TokenCipher
from connector.auth.tokens import TokenManager
from connector.settings import ExactConfig
from connector.storage import repos, tables
from connector.storage.db import make_engine, session_factory
from tests.adapters.exact.conftest import CLIENT_ID, CLIENT_SECRET, Clock, Exact, start

CIPHER = TokenCipher([Fernet.generate_key().decode()])


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    eng = make_engine(sqlite_url)
    yield eng
    eng.dispose()


@pytest.fixture
def world(openapi: OpenAPI, clock: Clock) -> Iterator[Exact]:
    running = start(openapi, clock)
    yield running
    running.running.shutdown()


def _manager(engine: Engine, world: Exact) -> TokenManager:
    config = ExactConfig(base_url=world.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)  # type: ignore[arg-type]
    return TokenManager(
        engine, CIPHER, world.clock, adapters={"exact": ExactAdapter}, provider_config=lambda _provider: config
    )


def _connected(engine: Engine, world: Exact) -> int:
    tokens = ExactAdapter.parse_token_response(world.connect(), world.clock())
    with session_factory(engine)() as session, session.begin():
        org_id = repos.create_organisation(session, "org-exact")
        connection_id = repos.create_connection(session, org_id, "exact").id
    _manager(engine, world).store_initial(connection_id, org_id, tokens)
    return connection_id


def _refreshes(world: Exact) -> list[tuple[str, int]]:
    return [call for call in world.state.token_log if call[0] == "refresh_token"]


def test_the_core_waits_until_the_refresh_window(engine: Engine, world: Exact) -> None:
    connection_id = _connected(engine, world)
    first = world.tokens["access_token"]
    world.clock.advance(540)
    assert _manager(engine, world).access_token(connection_id) == first
    assert _refreshes(world) == []  # never asked early: no TooEarlyToRefreshTokens, no error-cap hit
    world.clock.advance(36)  # 576 s: inside the last 30 s and inside the 25 s leeway
    fresh = _manager(engine, world).access_token(connection_id)
    assert fresh != first
    assert _refreshes(world) == [("refresh_token", 200)]
    old = world.token_call(grant_type="refresh_token", refresh_token=world.tokens["refresh_token"])
    assert old.status_code == 401  # rotated: the original refresh token died at once


def test_two_workers_racing_make_one_refresh(engine: Engine, world: Exact) -> None:
    connection_id = _connected(engine, world)
    world.clock.advance(580)
    results: list[str] = []
    workers = [
        threading.Thread(target=lambda: results.append(_manager(engine, world).access_token(connection_id)))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert len(results) == 4
    assert len(set(results)) == 1
    assert _refreshes(world) == [("refresh_token", 200)]


def test_refresh_goes_to_the_connections_own_country_site(sqlite_url: str, world: Exact) -> None:
    """docs/providers/exact.md#endpoints: a connection made on another country site refreshes there, not on the default
    site."""
    from connector.runtime import Runtime
    from connector.settings import Settings

    dead_default = "http://127.0.0.1:9"  # nothing listens here: a refresh sent to the default site would fail
    settings = Settings(
        database_url=sqlite_url,
        secret_keys=[Fernet.generate_key().decode()],  # type: ignore[list-item]
        exact=ExactConfig(base_url=dead_default, client_id=CLIENT_ID, client_secret=CLIENT_SECRET),  # type: ignore[arg-type]
    )
    rt = Runtime(settings, clock=world.clock, budget_url="memory://")
    tokens = ExactAdapter.parse_token_response(world.connect(), world.clock())
    with rt.sessions.begin() as session:
        org_id = repos.create_organisation(session, "org-site")
        connection = repos.create_connection(session, org_id, "exact")
        connection.site_url = world.url
        connection_id = connection.id
    rt.tokens.store_initial(connection_id, org_id, tokens)
    world.clock.advance(576)
    assert rt.tokens.access_token(connection_id) != tokens.access_token
    assert _refreshes(world) == [("refresh_token", 200)]
    rt.close()


def test_keepalive_at_21_days_and_needs_reauth_after_31(engine: Engine, world: Exact) -> None:
    """docs/architecture.md#tokens (keep-alive): an idle Exact connection is refreshed at 21 days; one idle 31 days
    needs re-auth."""
    connection_id = _connected(engine, world)
    manager = _manager(engine, world)
    world.clock.advance(19 * 86400)
    assert manager.keepalive_due(world.clock()) == []
    world.clock.advance(2 * 86400)
    assert manager.keepalive_due(world.clock()) == [connection_id]
    manager.keepalive(connection_id)
    assert _refreshes(world) == [("refresh_token", 200)]
    assert manager.keepalive_due(world.clock()) == []
    world.clock.advance(31 * 86400)
    assert manager.keepalive_due(world.clock()) == []  # too late to keep alive: the refresh token is dead
    assert manager.expire_idle(world.clock()) == [connection_id]
    with session_factory(engine)() as session:
        connection = session.get(tables.Connection, connection_id)
        assert connection is not None
        assert connection.status == "needs_reauth"
