"""authorize_url / exchange_code / refresh_tokens against a token endpoint served on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, Response, jsonify

from connector.auth.oauth import (
    RefreshTooEarly,
    authorize_url,
    exchange_code,
    new_pkce_pair,
    new_state,
    refresh_tokens,
)
from connector.errors import GarbageResponse, PermanentError, ReauthRequired, TransientError
from sandboxes.runner import RunningServer, serve_in_thread
from tests.auth.fakes import ExactLike, TokenAdapter, TokenServer, XeroLike, config_for

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def tokens() -> Iterator[tuple[TokenServer, RunningServer]]:
    server = TokenServer(expires_in="600")
    running = serve_in_thread(server.app)
    yield server, running
    running.shutdown()


def test_pkce_pair_is_s256() -> None:
    verifier, challenge = new_pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == expected
    assert new_pkce_pair()[0] != verifier


def test_state_is_unguessable() -> None:
    states = {new_state() for _ in range(50)}
    assert len(states) == 50 and all(len(s) >= 32 for s in states)


def test_authorize_url_carries_client_state_scopes_and_pkce() -> None:
    verifier, challenge = new_pkce_pair()
    url = authorize_url(XeroLike, config_for("http://127.0.0.1:9"), "http://127.0.0.1:8000/cb", "st-1", verifier)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://127.0.0.1:9/identity/connect/authorize"
    assert query == {
        "response_type": "code",
        "client_id": "client-id-1",
        "redirect_uri": "http://127.0.0.1:8000/cb",
        "state": "st-1",
        "scope": "offline_access",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    assert verifier not in url


def test_exchange_code_posts_the_verifier_and_secret_and_parses_string_expires_in(tokens) -> None:
    server, running = tokens
    got = exchange_code(TokenAdapter, config_for(running.url), "code-1", "http://cb", "verifier-1", now=NOW)
    assert got.access_token == "at-1" and got.refresh_token == "rt-1"
    assert got.expires_at == NOW + timedelta(seconds=600)  # "600" is a string, as Exact sends it
    sent = server.calls[0]
    assert sent == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": "http://cb",
        "code_verifier": "verifier-1",
        "client_id": "client-id-1",
        "client_secret": "client-secret-value",
    }


def test_client_secret_basic_sends_credentials_in_the_header(tokens) -> None:
    server, running = tokens
    refresh_tokens(XeroLike, config_for(running.url), "rt-0", now=NOW)
    assert server.auth_headers[0] == "Basic " + base64.b64encode(b"client-id-1:client-secret-value").decode()
    assert "client_secret" not in server.calls[0]


def test_refresh_rotates(tokens) -> None:
    server, running = tokens
    first = refresh_tokens(TokenAdapter, config_for(running.url), "rt-0", now=NOW)
    second = refresh_tokens(TokenAdapter, config_for(running.url), first.refresh_token or "", now=NOW)
    assert (first.refresh_token, second.refresh_token) == ("rt-1", "rt-2")
    with pytest.raises(ReauthRequired):  # the old refresh token died at rotation
        refresh_tokens(TokenAdapter, config_for(running.url), "rt-0", now=NOW)


def test_invalid_grant_is_reauth_and_too_early_is_transient(tokens) -> None:
    server, running = tokens
    server.mode = "invalid_grant"
    with pytest.raises(ReauthRequired):
        refresh_tokens(TokenAdapter, config_for(running.url), "rt-0")
    server.mode = "too_early"
    with pytest.raises(RefreshTooEarly) as caught:
        refresh_tokens(ExactLike, config_for(running.url), "rt-0")
    assert isinstance(caught.value, TransientError) and not isinstance(caught.value, ReauthRequired)
    server.mode = "server_error"
    with pytest.raises(TransientError):
        refresh_tokens(TokenAdapter, config_for(running.url), "rt-0")


def _answer(status: int, body: object) -> RunningServer:
    app = Flask("fixed")
    app.add_url_rule("/oauth/token", "t", lambda: (jsonify(body), status), methods=["POST"])
    return serve_in_thread(app)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"error": "unauthorized_client", "error_description": "Old refresh token used."}, ReauthRequired),
        (400, {"error": "invalid_request", "error_description": "The refresh token expired at x"}, ReauthRequired),
        (401, {"error": "invalid_client"}, PermanentError),
        (400, {"error": "invalid_scope"}, PermanentError),
        (429, {"error": "slow down"}, TransientError),
        (200, {"token_type": "bearer"}, GarbageResponse),
    ],
)
def test_token_errors_map_to_the_taxonomy(status: int, body: object, error: type[Exception]) -> None:
    with _answer(status, body) as running:
        with pytest.raises(error) as caught:
            refresh_tokens(ExactLike, config_for(running.url), "rt-secret-value")
    assert "rt-secret-value" not in str(caught.value)
    assert "client-secret-value" not in str(caught.value)


def test_unreachable_token_endpoint_is_transient() -> None:
    running = serve_in_thread(Flask("gone"))
    url = running.url
    running.shutdown()
    with pytest.raises(TransientError):
        refresh_tokens(TokenAdapter, config_for(url), "rt-0")


def test_plain_text_error_body_is_handled() -> None:
    app = Flask("html")
    app.add_url_rule("/oauth/token", "t", lambda: Response("<html>502</html>", status=502), methods=["POST"])
    with serve_in_thread(app) as running, pytest.raises(TransientError):
        refresh_tokens(TokenAdapter, config_for(running.url), "rt-0")
