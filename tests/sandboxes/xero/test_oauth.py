"""The sandbox's Xero identity: PKCE, rotating refresh tokens with a 30-minute grace, connections
(docs/providers/xero.md#oauth)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pydantic import SecretStr

from adapters.xero.provider import BROAD_SCOPES, GRANULAR_SCOPES, XeroAdapter
from connector.auth.oauth import authorize_url, refresh_tokens
from connector.errors import ReauthRequired
from connector.settings import XeroConfig
from sandboxes.runner import RunningServer
from sandboxes.xero.state import XeroSandbox
from tests.adapters.xero.conftest import REDIRECT, SettableClock, connect, make_config


def _authorize(server: RunningServer, **params: str) -> dict[str, list[str]]:
    base = {
        "response_type": "code",
        "client_id": "sandbox-client",
        "redirect_uri": REDIRECT,
        "state": "s",
        "scope": "offline_access accounting.invoices",
    }
    response = requests.get(
        f"{server.url}/identity/connect/authorize", params={**base, **params}, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)


def _token(server: RunningServer, **form: str) -> requests.Response:
    return requests.post(f"{server.url}/connect/token", data=form, timeout=5, auth=("sandbox-client", "sandbox-secret"))


def test_pkce_code_exchange_and_connections(config: XeroConfig, clock: SettableClock, sandbox: XeroSandbox) -> None:
    tokens = connect(config, clock, public=True)  # PKCE app: client_id in the body, no secret
    assert tokens.refresh_token
    assert tokens.expires_at is not None
    assert (tokens.expires_at - clock()).total_seconds() == 1800
    assert tokens.extra["authentication_event_id"]
    response = requests.get(
        f"{config.api_url}/connections", timeout=5, headers={"Authorization": f"Bearer {tokens.access_token}"}
    )
    connections = response.json()
    assert {c["tenantId"] for c in connections} == set(sandbox.tenant_ids())
    assert len(connections) >= 2
    filtered = requests.get(
        f"{config.api_url}/connections",
        timeout=5,
        params={"authEventId": tokens.extra["authentication_event_id"]},
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    ).json()
    assert len(filtered) == len(connections)


def test_wrong_verifier_and_code_reuse_are_invalid_grant(server: RunningServer) -> None:
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = _authorize(server, code_challenge=challenge, code_challenge_method="S256")["code"][0]
    bad = _token(server, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier="w" * 64)
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant"}
    code = _authorize(server, code_challenge=challenge, code_challenge_method="S256")["code"][0]
    good = _token(server, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier)
    assert good.status_code == 200
    again = _token(server, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier)
    assert again.json() == {"error": "invalid_grant"}


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"scope": "accounting.everything"}, "invalid_scope"),
        ({"code_challenge": "abc", "code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_authorize_errors_redirect(server: RunningServer, params: dict[str, str], error: str) -> None:
    assert _authorize(server, **params)["error"] == [error]


@pytest.mark.parametrize(("granular", "scopes"), [(True, GRANULAR_SCOPES), (False, BROAD_SCOPES)])
def test_scopes_follow_the_setting(server: RunningServer, granular: bool, scopes: tuple[str, ...]) -> None:
    config = make_config(server.url, granular_scopes=granular)
    assert XeroAdapter.scopes_for(config) == scopes
    assert "offline_access" in scopes
    assert XeroAdapter.oauth_for(config).scopes == scopes
    url = authorize_url(XeroAdapter, config, REDIRECT, "s", code_verifier="x" * 50)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert url.startswith(f"{server.url}/identity/connect/authorize")
    assert query["scope"] == [" ".join(scopes)]  # the setting reaches the authorize URL
    granted = _authorize(server, scope=" ".join(scopes))
    assert granted["scope"] == [" ".join(scopes)]


def test_rotation_with_grace(config: XeroConfig, clock: SettableClock) -> None:
    first = connect(config, clock)
    assert first.refresh_token
    second = refresh_tokens(XeroAdapter, config, first.refresh_token, now=clock())
    assert second.refresh_token
    assert second.refresh_token != first.refresh_token
    clock.advance(minutes=29)  # the response was "lost": the old token still works within the grace
    retry = refresh_tokens(XeroAdapter, config, first.refresh_token, now=clock())
    assert retry.refresh_token not in (first.refresh_token, second.refresh_token)
    with pytest.raises(ReauthRequired):  # the replaced successor is dead
        refresh_tokens(XeroAdapter, config, second.refresh_token or "", now=clock())
    third = refresh_tokens(XeroAdapter, config, retry.refresh_token or "", now=clock())
    assert third.access_token
    with pytest.raises(ReauthRequired):  # once the new one is used, the old one is gone even inside the grace
        refresh_tokens(XeroAdapter, config, first.refresh_token, now=clock())


def test_reuse_after_grace_is_invalid_grant(config: XeroConfig, clock: SettableClock) -> None:
    first = connect(config, clock)
    refresh_tokens(XeroAdapter, config, first.refresh_token or "", now=clock())
    clock.advance(minutes=31)
    with pytest.raises(ReauthRequired):
        refresh_tokens(XeroAdapter, config, first.refresh_token or "", now=clock())


def test_unused_refresh_token_dies_after_60_days(config: XeroConfig, clock: SettableClock) -> None:
    first = connect(config, clock)
    clock.advance(days=59, hours=23)
    alive = refresh_tokens(XeroAdapter, config, first.refresh_token or "", now=clock())
    clock.advance(days=60, minutes=1)
    with pytest.raises(ReauthRequired):
        refresh_tokens(XeroAdapter, config, alive.refresh_token or "", now=clock())


def test_wrong_client_secret(config: XeroConfig, clock: SettableClock) -> None:
    first = connect(config, clock)
    wrong = config.model_copy(update={"client_secret": SecretStr("nope")})
    with pytest.raises(Exception, match="invalid_client"):
        refresh_tokens(XeroAdapter, wrong, first.refresh_token or "", now=clock())


def test_access_token_expires_after_30_minutes(
    server: RunningServer, sandbox: XeroSandbox, config: XeroConfig, clock: SettableClock
) -> None:
    tokens = connect(config, clock)
    headers = {
        "Authorization": f"Bearer {tokens.access_token}",
        "xero-tenant-id": sandbox.tenant_ids()[0],
        "Accept": "application/json",
    }
    assert requests.get(f"{server.url}/api.xro/2.0/Organisation", headers=headers, timeout=5).status_code == 200
    clock.advance(minutes=30)
    expired = requests.get(f"{server.url}/api.xro/2.0/Organisation", headers=headers, timeout=5)
    assert expired.status_code == 401
    assert expired.json()["Detail"].startswith("TokenExpired")


def test_tenant_header_required(server: RunningServer, tokens: object, sandbox: XeroSandbox) -> None:
    bearer = {"Authorization": f"Bearer {tokens.access_token}"}  # type: ignore[attr-defined]
    missing = requests.get(f"{server.url}/api.xro/2.0/Invoices", headers=bearer, timeout=5)
    assert missing.status_code == 403
    assert missing.json()["Detail"] == "AuthenticationUnsuccessful"
    unknown = requests.get(
        f"{server.url}/api.xro/2.0/Invoices",
        timeout=5,
        headers={**bearer, "xero-tenant-id": "00000000-0000-0000-0000-000000000000"},
    )
    assert unknown.status_code == 403


def test_revocation_drops_every_connection(config: XeroConfig, clock: SettableClock, sandbox: XeroSandbox) -> None:
    tokens = connect(config, clock)
    assert sandbox.connections
    requests.post(
        f"{config.identity_url}/connect/revocation",
        data={"token": tokens.refresh_token},
        timeout=5,
        auth=("sandbox-client", "sandbox-secret"),
    )
    assert not sandbox.connections
    with pytest.raises(ReauthRequired):
        refresh_tokens(XeroAdapter, config, tokens.refresh_token or "", now=clock())


def test_missing_scope_is_401(server: RunningServer, sandbox: XeroSandbox) -> None:
    code = _authorize(server, scope="offline_access accounting.contacts")["code"][0]
    body = _token(server, grant_type="authorization_code", code=code, redirect_uri=REDIRECT).json()
    response = requests.get(
        f"{server.url}/api.xro/2.0/Invoices",
        timeout=5,
        headers={"Authorization": f"Bearer {body['access_token']}", "xero-tenant-id": sandbox.tenant_ids()[0]},
    )
    assert response.status_code == 401
    assert response.json()["Detail"] == "AuthorizationUnsuccessful"
