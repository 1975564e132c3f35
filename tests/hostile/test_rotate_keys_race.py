"""``dunning rotate-keys`` next to a token refresh, on SQLite and PostgreSQL: the refresh is never lost.

Two threads with their own engines (as two processes would have): one refreshes an expired token against a token
server that rotates refresh tokens (the old one dies at once, as at Exact), the other rotates the keys. Each case
forces one interleaving: the rotation starting while the refresh waits for the token endpoint, and the refresh
committing between the rotation's read of the row and its write. Afterwards the stored tokens are the refreshed
ones, the newest key alone reads them, and the stored refresh token still works (docs/operations.md#rotate-keys).
The command itself goes through ``TokenManager.rotate_keys`` (the last test).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from unittest import mock

import pytest
from cryptography.fernet import Fernet

from connector.auth.crypto import TokenCipher
from connector.auth.tokens import TokenManager
from connector.model import TokenSet
from connector.storage import repos
from connector.storage.db import Engine, make_engine, session_factory
from connector.storage.tables import OAuthToken
from sandboxes.runner import RunningServer, serve_in_thread
from tests.auth.fakes import ADAPTERS, TokenAdapter, TokenServer, config_for
from tests.clirunner import Cli

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()
WAIT = 1.0  # how long a hook lets the other side run before it goes on (a locked side simply waits it out)


@dataclass
class Race:
    url: str
    server: TokenServer
    running: RunningServer
    errors: list[BaseException] = field(default_factory=list)
    results: dict[str, object] = field(default_factory=dict)

    def manager(self, engine: Engine, cipher: TokenCipher) -> TokenManager:
        return TokenManager(
            engine, cipher, lambda: T0, adapters=ADAPTERS, provider_config=lambda _p: config_for(self.running.url)
        )

    def in_thread(self, name: str, work: Callable[[TokenManager], object], cipher: TokenCipher) -> threading.Thread:
        def run() -> None:
            engine = make_engine(self.url)  # its own engine, like another process
            try:
                self.results[name] = work(self.manager(engine, cipher))
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                self.errors.append(exc)
            finally:
                engine.dispose()

        thread = threading.Thread(target=run, name=name)
        thread.start()
        return thread

    def stored(self, connection_id: int, cipher: TokenCipher) -> TokenSet:
        engine = make_engine(self.url)
        try:
            with session_factory(engine)() as session:
                row = session.get(OAuthToken, connection_id)
                assert row is not None, "the token row is gone"
                return cipher.decrypt_tokens(connection_id, row.ciphertext)
        finally:
            engine.dispose()


@pytest.fixture
def race(db_url: str) -> Iterator[tuple[Race, int]]:
    server = TokenServer(expires_in="600")
    running = serve_in_thread(server.app)
    engine = make_engine(db_url)
    with session_factory(engine)() as session, session.begin():
        org_id = repos.create_organisation(session, "Rotating BV")
        connection_id = repos.create_connection(session, org_id, TokenAdapter.id).id
    old_only = TokenCipher([OLD_KEY])
    TokenManager(
        engine, old_only, lambda: T0, adapters=ADAPTERS, provider_config=lambda _p: config_for(running.url)
    ).store_initial(connection_id, org_id, TokenSet(access_token="at-0", refresh_token="rt-0", expires_at=T0))
    engine.dispose()
    yield Race(db_url, server, running), connection_id
    running.shutdown()


class HookedCipher(TokenCipher):
    """Runs ``hook`` once, the first time the rotation has read a row and re-encrypts it (before it writes)."""

    def __init__(self, keys: list[str], hook: Callable[[], None]) -> None:
        super().__init__(keys)
        self._hook: Callable[[], None] | None = hook

    def rotate(self, ciphertext: str) -> str:
        hook, self._hook = self._hook, None
        if hook is not None:
            hook()
        return super().rotate(ciphertext)


def rotation_during_the_token_call(race: Race, cid: int) -> list[threading.Thread]:
    threads: list[threading.Thread] = []

    def start_rotation() -> None:  # the refresh holds its lock and waits for the token endpoint
        threads.append(race.in_thread("rotate", lambda m: m.rotate_keys(), TokenCipher([NEW_KEY, OLD_KEY])))
        threads[-1].join(timeout=WAIT)

    race.server.before_answer = start_rotation
    threads.append(race.in_thread("refresh", lambda m: m.access_token(cid), TokenCipher([NEW_KEY, OLD_KEY])))
    return threads


def refresh_between_read_and_write(race: Race, cid: int) -> list[threading.Thread]:
    threads: list[threading.Thread] = []

    def start_refresh() -> None:  # the rotation has read the row and not written it yet
        threads.append(race.in_thread("refresh", lambda m: m.access_token(cid), TokenCipher([NEW_KEY, OLD_KEY])))
        threads[-1].join(timeout=WAIT)

    threads.append(race.in_thread("rotate", lambda m: m.rotate_keys(), HookedCipher([NEW_KEY, OLD_KEY], start_refresh)))
    return threads


INTERLEAVINGS = {
    "rotation-during-the-token-call": rotation_during_the_token_call,
    "refresh-between-read-and-write": refresh_between_read_and_write,
}


@pytest.mark.parametrize("interleaving", sorted(INTERLEAVINGS))
def test_a_refresh_interleaved_with_rotate_keys_is_never_lost(race: tuple[Race, int], interleaving: str) -> None:
    world, cid = race
    threads = INTERLEAVINGS[interleaving](world, cid)
    for _ in range(2):  # the second thread is appended by the first one's hook
        for thread in list(threads):
            thread.join(timeout=60)
    assert all(not t.is_alive() for t in threads), "a side never finished (deadlock?)"
    assert not world.errors, f"a side failed: {[f'{type(e).__name__}: {e}' for e in world.errors]}"
    assert world.results.get("refresh") == "at-1", f"the refresh returned {world.results.get('refresh')!r}"
    assert len(world.server.calls) == 1, f"{len(world.server.calls)} token calls, not 1"
    newest_only = TokenCipher([NEW_KEY])
    stored = world.stored(cid, newest_only)  # raises when the old key is still needed
    assert stored.refresh_token == world.server.current_refresh, (
        f"the stored refresh token {stored.refresh_token!r} is not the one the provider issued last "
        f"({world.server.current_refresh!r}): the refresh was lost and the connection needs re-authorisation"
    )
    assert stored.access_token == "at-1", f"stored access token {stored.access_token!r}"
    engine = make_engine(world.url)
    try:
        again = world.manager(engine, newest_only)
        assert again.force_refresh(cid, rejected="at-1") == "at-2", "the stored refresh token no longer works"
    finally:
        engine.dispose()


def test_the_command_rotates_through_the_token_manager(cli: Cli) -> None:
    """``dunning rotate-keys`` calls ``TokenManager.rotate_keys`` (locked, version-checked), never its own UPDATE."""
    cli.ok("db", "upgrade")
    with mock.patch.object(TokenManager, "rotate_keys", autospec=True, return_value=3) as rotate:
        outcome = cli.ok("rotate-keys")
    assert rotate.call_count == 1, "rotate-keys did not go through TokenManager.rotate_keys"
    assert "re-encrypted 3 secret(s)" in outcome.stdout + outcome.stderr, outcome.describe()
