"""TokenManager on SQLite and PostgreSQL: one refresh for many callers, Exact's window, invalid_grant, persistence."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from flask import Flask, jsonify, request
from sqlalchemy import Engine, text, update

from connector.auth.crypto import TokenCipher, TokenDecryptError
from connector.auth.tokens import TokenManager
from connector.errors import ReauthRequired, TransientError
from connector.http.session import ConnectionSession
from connector.logging import configure_logging, unconfigure_logging
from connector.model import TokenSet
from connector.ports import AccountingAdapter
from connector.storage import repos
from connector.storage.db import make_engine, session_factory
from connector.storage.tables import Connection, OAuthToken
from sandboxes.runner import RunningServer, serve_in_thread
from tests.auth.fakes import ADAPTERS, ExactLike, MoneybirdLike, TokenAdapter, TokenServer, XeroLike, config_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CIPHER_KEY = Fernet.generate_key().decode()
CIPHER = TokenCipher([CIPHER_KEY])


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    url: str
    engine: Engine
    server: TokenServer
    running: RunningServer
    clock: Clock

    def manager(self, engine: Engine | None = None) -> TokenManager:
        return TokenManager(
            engine or self.engine,
            CIPHER,
            self.clock,
            adapters=ADAPTERS,
            provider_config=lambda _provider: config_for(self.running.url),
        )

    def connect(
        self,
        adapter: type[AccountingAdapter],
        expires_at: datetime | None = T0 + timedelta(seconds=600),
        refresh_token: str | None = "rt-0",
    ) -> int:  # noqa: S107
        with session_factory(self.engine)() as session, session.begin():
            org_id = repos.create_organisation(session, f"org-{adapter.id}-{threading.get_ident()}")
            connection_id = repos.create_connection(session, org_id, adapter.id).id
        self.manager().store_initial(
            connection_id, org_id, TokenSet(access_token="at-0", refresh_token=refresh_token, expires_at=expires_at)
        )
        return connection_id

    def row(self, connection_id: int) -> tuple[OAuthToken, Connection]:
        with session_factory(self.engine)() as session:
            token = session.get(OAuthToken, connection_id)
            connection = session.get(Connection, connection_id)
            assert token is not None and connection is not None
            return token, connection

    def stored(self, connection_id: int) -> TokenSet:
        return CIPHER.decrypt_tokens(connection_id, self.row(connection_id)[0].ciphertext)


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    engine = make_engine(db_url)
    server = TokenServer(expires_in="600", delay=0.05)
    running = serve_in_thread(server.app)
    yield World(db_url, engine, server, running, Clock(T0))
    running.shutdown()
    engine.dispose()


def test_fresh_token_is_returned_without_a_token_call(world: World) -> None:
    cid = world.connect(TokenAdapter)
    assert world.manager().access_token(cid) == "at-0"
    assert world.server.calls == []


def test_concurrent_refresh_makes_exactly_one_token_call(world: World) -> None:
    cid = world.connect(TokenAdapter, expires_at=T0 + timedelta(seconds=30))  # inside the 60 s leeway
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        engine = make_engine(world.url)  # one engine per thread, like separate worker processes
        try:
            barrier.wait()
            results.append(world.manager(engine).access_token(cid))
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(world.server.calls) == 1
    assert results == ["at-1"] * 8
    assert world.stored(cid).refresh_token == "rt-1"
    assert world.row(cid)[0].version == 1  # store_initial wrote 0; exactly one compare-and-swap


def test_exact_window_540s_old_is_not_refreshed_575s_is(world: World) -> None:
    cid = world.connect(ExactLike, expires_at=T0 + timedelta(seconds=600))
    manager = world.manager()
    world.clock.now = T0 + timedelta(seconds=540)  # inside the 60 s leeway, outside Exact's last 30 s
    assert manager.access_token(cid) == "at-0"
    assert world.server.calls == []
    world.clock.now = T0 + timedelta(seconds=575)
    assert manager.access_token(cid) == "at-1"
    assert len(world.server.calls) == 1
    assert world.row(cid)[0].access_expires_at == T0 + timedelta(seconds=575 + 600)


def test_too_early_response_keeps_the_current_token_without_reauth(world: World) -> None:
    cid = world.connect(ExactLike)
    world.server.mode = "too_early"
    world.clock.now = T0 + timedelta(seconds=575)
    assert world.manager().access_token(cid) == "at-0"
    assert len(world.server.calls) == 1
    token, connection = world.row(cid)
    assert (token.status, connection.status) == ("active", "active")


def test_invalid_grant_with_unchanged_token_marks_needs_reauth_once(world: World) -> None:
    cid = world.connect(ExactLike)
    world.server.mode = "invalid_grant"
    world.clock.now = T0 + timedelta(seconds=590)
    stream = io.StringIO()
    configure_logging("INFO", json=True, stream=stream)
    try:
        with pytest.raises(ReauthRequired):
            world.manager().access_token(cid)
        with pytest.raises(ReauthRequired):  # stopped: no second token call
            world.manager().access_token(cid)
    finally:
        unconfigure_logging()
    assert len(world.server.calls) == 1  # Exact has no grace: no retry
    token, connection = world.row(cid)
    assert (token.status, connection.status) == ("needs_reauth", "needs_reauth")
    assert stream.getvalue().count("oauth.needs_reauth") == 1


def test_xero_grace_retries_invalid_grant_once_then_gives_up(world: World) -> None:
    cid = world.connect(XeroLike)
    world.server.mode = "invalid_grant"
    world.clock.now = T0 + timedelta(seconds=590)
    with pytest.raises(ReauthRequired):
        world.manager().access_token(cid)
    assert len(world.server.calls) == 2
    assert world.row(cid)[0].status == "needs_reauth"


def test_invalid_grant_after_a_sibling_rotated_uses_the_siblings_token(world: World) -> None:
    if world.engine.dialect.name == "sqlite":
        pytest.skip("SQLite's write lock excludes any foreign writer during the refresh; covered on PostgreSQL")
    cid = world.connect(XeroLike)
    world.server.mode = "invalid_grant"

    def sibling_rotates() -> None:  # another deployment refreshed the same grant and stored its result
        with session_factory(world.engine)() as session, session.begin():
            session.execute(
                update(OAuthToken)
                .where(OAuthToken.connection_id == cid)
                .values(
                    ciphertext=CIPHER.encrypt_tokens(
                        cid,
                        TokenSet(access_token="at-sibling", refresh_token="rt-sib", expires_at=T0 + timedelta(hours=1)),
                    ),
                    version=OAuthToken.version + 1,
                )
            )

    world.server.before_answer = sibling_rotates
    world.clock.now = T0 + timedelta(seconds=590)
    assert world.manager().access_token(cid) == "at-sibling"
    assert world.row(cid)[0].status == "active"
    assert len(world.server.calls) == 1


def test_force_refresh_returns_the_stored_token_when_a_sibling_already_replaced_it(world: World) -> None:
    cid = world.connect(TokenAdapter, expires_at=T0 + timedelta(hours=1))
    manager = world.manager()
    assert manager.force_refresh(cid, "at-stale") == "at-0"
    assert world.server.calls == []
    assert manager.force_refresh(cid, "at-0") == "at-1"
    assert len(world.server.calls) == 1


def test_refresh_without_refresh_token_keeps_the_old_one(world: World) -> None:
    cid = world.connect(TokenAdapter, expires_at=T0)
    world.server.mode = "no_refresh"
    world.server.current_refresh = "rt-0"
    manager = world.manager()
    assert manager.access_token(cid) == "at-1"
    assert world.stored(cid).refresh_token == "rt-0"
    world.clock.now = T0 + timedelta(hours=2)
    assert manager.access_token(cid) == "at-2"
    assert [call["refresh_token"] for call in world.server.calls] == ["rt-0", "rt-0"]


def test_token_without_expiry_is_never_refreshed(world: World) -> None:
    cid = world.connect(MoneybirdLike, expires_at=None)
    world.clock.now = T0 + timedelta(days=400)
    assert world.manager().access_token(cid) == "at-0"
    assert world.server.calls == []


def test_transport_failure_is_transient_and_leaves_the_connection_active(world: World) -> None:
    cid = world.connect(TokenAdapter, expires_at=T0)
    world.server.mode = "server_error"
    with pytest.raises(TransientError):
        world.manager().access_token(cid)
    assert len(world.server.calls) == 2  # docs/architecture.md#token-refresh step 7: once more with the same token
    assert world.row(cid)[0].status == "active"
    assert world.stored(cid).refresh_token == "rt-0"


def test_new_token_is_committed_before_it_is_used_and_logs_hold_no_secret(world: World) -> None:
    cid = world.connect(TokenAdapter, expires_at=T0)
    observer = make_engine(world.url)
    seen: list[tuple[str, str]] = []
    api = Flask("api")

    def answer() -> object:
        # the provider sees the bearer; at that moment another process must already find it stored
        with session_factory(observer)() as session:
            row = session.get(OAuthToken, cid)
            assert row is not None
            seen.append((request.headers["Authorization"], CIPHER.decrypt_tokens(cid, row.ciphertext).access_token))
        return jsonify({"ok": True})

    api.add_url_rule("/api/things", "things", answer)
    stream = io.StringIO()
    configure_logging("DEBUG", json=True, stream=stream)
    manager = world.manager()
    try:
        with serve_in_thread(api) as running:
            session = ConnectionSession(
                TokenAdapter,
                access_token=lambda: manager.access_token(cid),
                on_unauthorized=lambda rejected: manager.force_refresh(cid, rejected),
                clock=world.clock,
            )
            session.request("GET", f"{running.url}/api/things", tenant="t")
    finally:
        unconfigure_logging()
        observer.dispose()
    assert seen == [("Bearer at-1", "at-1")]
    output = stream.getvalue()
    assert "oauth.refreshed" in output
    for secret in ("at-0", "at-1", "rt-0", "rt-1", "client-secret-value"):
        assert secret not in output


def test_store_initial_reactivates_and_db_dump_holds_no_token(world: World) -> None:
    cid = world.connect(ExactLike)
    world.server.mode = "invalid_grant"
    world.clock.now = T0 + timedelta(seconds=590)
    with pytest.raises(ReauthRequired):
        world.manager().access_token(cid)
    token, connection = world.row(cid)
    world.manager().store_initial(
        cid,
        connection.org_id,
        TokenSet(access_token="at-new", refresh_token="rt-new", expires_at=T0 + timedelta(hours=1)),
    )
    token, connection = world.row(cid)
    assert (token.status, connection.status) == ("active", "active")
    assert world.manager().access_token(cid) == "at-new"
    with world.engine.connect() as conn:
        dump = repr(conn.execute(text("SELECT * FROM oauth_tokens")).all())
    assert "rt-new" not in dump and "at-new" not in dump and "refresh_token" not in dump


def test_keepalive_lists_idle_connections_and_refreshes_them(world: World) -> None:
    idle = world.connect(XeroLike, expires_at=T0 + timedelta(minutes=30))
    world.clock.now = T0 + timedelta(days=10)
    recent = world.connect(XeroLike, expires_at=T0 + timedelta(days=10, minutes=30))
    never_expires = world.connect(MoneybirdLike, expires_at=None)
    manager = world.manager()
    now = T0 + timedelta(days=21)
    assert manager.keepalive_due(now) == [idle]
    world.clock.now = now
    assert manager.keepalive(idle) == "at-1"
    assert manager.keepalive_due(now) == []
    assert never_expires not in manager.keepalive_due(T0 + timedelta(days=365))
    assert recent in manager.keepalive_due(T0 + timedelta(days=31))


def test_unknown_connection_needs_connecting(world: World) -> None:
    with pytest.raises(ReauthRequired):
        world.manager().access_token(987654)


def test_connection_config_routes_the_refresh_to_the_connections_site(world: World) -> None:
    cid = world.connect(ExactLike, expires_at=T0)
    with session_factory(world.engine)() as session, session.begin():
        session.execute(update(Connection).where(Connection.id == cid).values(site_url=world.running.url))
    manager = TokenManager(
        world.engine,
        CIPHER,
        world.clock,
        adapters=ADAPTERS,
        provider_config=lambda _provider: config_for("http://127.0.0.1:9"),  # nothing listens
        connection_config=lambda connection: config_for(connection.site_url or ""),
    )
    assert manager.access_token(cid) == "at-1"
    assert len(world.server.calls) == 1


def test_rotate_keys_reencrypts_every_row_so_the_old_key_can_go(world: World) -> None:
    first, second = world.connect(TokenAdapter), world.connect(XeroLike)
    new_key = Fernet.generate_key().decode()
    both = TokenCipher([new_key, CIPHER_KEY])
    manager = TokenManager(
        world.engine,
        both,
        world.clock,
        adapters=ADAPTERS,
        provider_config=lambda _provider: config_for(world.running.url),
    )
    assert manager.rotate_keys(batch_size=1) == 2
    only_new = TokenManager(
        world.engine,
        TokenCipher([new_key]),
        world.clock,
        adapters=ADAPTERS,
        provider_config=lambda _provider: config_for(world.running.url),
    )
    assert only_new.access_token(first) == "at-0" and only_new.access_token(second) == "at-0"
    with pytest.raises(TokenDecryptError):
        world.manager().access_token(first)  # the old key alone no longer reads the rows
