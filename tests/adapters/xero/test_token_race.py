"""Two workers race for an expired Xero token (docs/architecture.md#token-refresh, docs/providers/xero.md#tokens): one
refresh against the sandbox, both get the new access token, the rotated refresh token is stored; reusing the old one
after the grace fails."""

from __future__ import annotations

import threading

import requests
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session, sessionmaker

from adapters.xero.provider import XeroAdapter
from connector.auth.crypto import TokenCipher
from connector.auth.tokens import TokenManager
from connector.settings import XeroConfig
from connector.storage import repos, tables
from connector.storage.db import make_engine, session_factory
from sandboxes.runner import RunningServer
from sandboxes.xero.state import XeroSandbox
from tests.adapters.xero.conftest import SettableClock, connect


def test_two_workers_one_refresh(
    sqlite_url: str, server: RunningServer, sandbox: XeroSandbox, config: XeroConfig, clock: SettableClock
) -> None:
    engine = make_engine(sqlite_url)
    sessions: sessionmaker[Session] = session_factory(engine)
    cipher = TokenCipher([Fernet.generate_key().decode()])
    first = connect(config, clock)
    with sessions.begin() as s:
        org_id = repos.create_organisation(s, "org")
        connection_id = repos.create_connection(s, org_id, "xero").id
    workers = [
        TokenManager(sessions, cipher, clock, adapters={"xero": XeroAdapter}, provider_config=lambda _p: config)
        for _ in range(2)
    ]
    workers[0].store_initial(connection_id, org_id, first)
    clock.advance(minutes=31)  # the 30-minute access token has expired
    before = len(sandbox.request_log)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def work(manager: TokenManager) -> None:
        barrier.wait()
        results.append(manager.access_token(connection_id))

    threads = [threading.Thread(target=work, args=(m,)) for m in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refreshes = [r for r in sandbox.request_log[before:] if r[1].endswith("/connect/token")]
    assert len(refreshes) == 1, refreshes
    assert len(set(results)) == 1
    assert results[0] != first.access_token
    stored = cipher.decrypt_tokens(connection_id, _ciphertext(sessions, connection_id))
    assert stored.refresh_token
    assert stored.refresh_token != first.refresh_token
    ok = requests.get(f"{server.url}/connections", headers={"Authorization": f"Bearer {results[0]}"}, timeout=5)
    assert ok.status_code == 200
    clock.advance(minutes=31)  # beyond the 30-minute grace the old refresh token is dead
    reuse = requests.post(
        f"{server.url}/connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first.refresh_token,
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        },
        timeout=5,
    )
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    engine.dispose()


def _ciphertext(sessions: sessionmaker[Session], connection_id: int) -> str:
    with sessions() as s:
        row = s.get(tables.OAuthToken, connection_id)
        assert row is not None
        return row.ciphertext
