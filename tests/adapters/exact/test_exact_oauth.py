"""Exact's token rules on the wire (sandbox) and in the adapter's declarations (docs/providers/exact.md#tokens)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from openapi_core import OpenAPI

from adapters.exact.provider import ExactAdapter
from connector.errors import GarbageResponse, ReauthRequired
from tests.adapters.exact.conftest import REDIRECT, T0, Clock, Exact, start


def test_code_exchange_returns_expires_in_as_the_string_600(exact: Exact) -> None:
    tokens = exact.connect()
    assert tokens["expires_in"] == "600"
    assert isinstance(tokens["expires_in"], str)
    assert tokens["token_type"] == "bearer"
    parsed = ExactAdapter.parse_token_response(tokens, T0)
    assert parsed.expires_at == T0 + timedelta(seconds=600)
    assert parsed.refresh_token == tokens["refresh_token"]


def test_code_is_single_use(exact: Exact) -> None:
    code = exact.authorize()
    assert exact.token_call(grant_type="authorization_code", code=code, redirect_uri=REDIRECT).status_code == 200
    again = exact.token_call(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("age", "status"), [(540, 400), (569, 400), (570, 200), (575, 200)])
def test_refresh_only_in_the_last_30_seconds(exact: Exact, age: int, status: int) -> None:
    tokens = exact.connect()
    exact.clock.advance(age)
    response = exact.token_call(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert response.status_code == status
    if status == 400:
        assert response.headers["Reason"] == "TooEarlyToRefreshTokens"
        assert response.json() == {
            "error": "access_denied",
            "error_description": "Rate limit exceeded: access_token not expired",
        }
    else:
        assert response.json()["expires_in"] == "600"


def test_rotation_kills_the_old_refresh_token_at_once(exact: Exact) -> None:
    first = exact.connect()
    exact.clock.advance(580)
    second = exact.token_call(grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    exact.clock.advance(580)
    old = exact.token_call(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert old.status_code == 401
    assert old.json() == {"error": "unauthorized_client", "error_description": "Old refresh token used."}
    assert exact.token_call(grant_type="refresh_token", refresh_token=second["refresh_token"]).status_code == 200


def test_refresh_token_dies_after_30_days(exact: Exact) -> None:
    tokens = exact.connect()
    exact.clock.advance(30 * 86400)
    response = exact.token_call(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "expired" in response.json()["error_description"]


def test_daily_token_call_cap(openapi: OpenAPI, clock: Clock) -> None:
    world = start(openapi, clock, token_calls_per_day=3)
    try:
        world.connect()
        for _ in range(2):
            world.clock.advance(580)
            world.connect()  # a new authorisation also counts
        world.clock.advance(580)
        assert (
            world.token_call(grant_type="refresh_token", refresh_token=world.tokens["refresh_token"]).status_code == 429
        )
    finally:
        world.running.shutdown()


def test_access_token_expires_after_600_seconds(exact: Exact) -> None:
    adapter = exact.adapter()
    assert adapter.list_tenants()
    exact.clock.advance(601)
    with pytest.raises(ReauthRequired):
        adapter.list_tenants()


def test_oauth_spec_declares_the_refresh_window() -> None:
    spec = ExactAdapter.oauth
    assert spec.authorize_path == "/api/oauth2/auth"
    assert spec.token_path == "/api/oauth2/token"
    assert spec.refresh_leeway_seconds <= 25 < spec.refresh_window_seconds == 30  # type: ignore[operator]
    assert spec.default_expires_in == 600
    assert spec.refresh_token_lifetime_days == 30


@pytest.mark.parametrize("body", [{"access_token": "a", "expires_in": "soon"}, {"expires_in": "600"}])
def test_bad_token_bodies_are_garbage(body: dict[str, str]) -> None:
    with pytest.raises(GarbageResponse):
        ExactAdapter.parse_token_response(body, T0)


def test_missing_expires_in_gets_600_not_forever() -> None:
    parsed = ExactAdapter.parse_token_response({"access_token": "a", "refresh_token": "r"}, T0)
    assert parsed.expires_at == T0 + timedelta(seconds=600)
