"""OAuth 2.0 of the Exact sandbox: authorization codes, the token endpoint and bearer-token checks.

Part of the emulator only. Rules from docs/providers/exact.md#tokens, docs/providers/exact.md#at-a-glance: codes live 3
minutes and are single-use; access tokens live 600 s and ``expires_in`` is the string ``"600"``; a new token only 570 s
after the previous token request (earlier: 400 ``access_denied`` with ``Reason: TooEarlyToRefreshTokens``); refresh
tokens rotate and the previous one dies at once (401 "Old refresh token used."); unused refresh tokens expire after 30
days; at most ``token_calls_per_day`` token calls per app per user per day (sandbox answers 429 beyond it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sandboxes.exact.state import (
    CODE_LIFETIME,
    EARLIEST_REFRESH,
    REFRESH_LIFETIME_DAYS,
    TOKEN_LIFETIME,
    ExactState,
)

Reply = tuple[int, dict[str, Any], dict[str, str]]


def issue_code(state: ExactState, redirect_uri: str) -> str:
    # docs/providers/exact.md#endpoints: codes contain '!'
    code = "stampNL001." + state.new_token() + "!" + state.new_token()[:8]
    state.db["codes"][code] = {"redirect_uri": redirect_uri, "issued": state.now()}
    state.save()
    return code


def _error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> Reply:
    return status, {"error": error, "error_description": description}, headers or {}


def _issue(state: ExactState) -> Reply:
    now = state.now()
    user = state.db["user"]["UserID"]
    for token, info in state.db["refresh"].items():  # receiving a refresh token invalidates the previous one
        if info["user"] == user and info["alive"]:
            state.db["refresh"][token]["alive"] = False
    access, refresh = state.new_token(), state.new_token()
    state.db["access"][access] = {"user": user, "expires": now + timedelta(seconds=TOKEN_LIFETIME)}
    state.db["refresh"][refresh] = {"user": user, "issued": now, "alive": True}
    state.db["chains"][user] = {"last_token_at": now}
    return (
        200,
        {"access_token": access, "token_type": "bearer", "expires_in": str(TOKEN_LIFETIME), "refresh_token": refresh},
        {},
    )


def token(state: ExactState, form: Mapping[str, str]) -> Reply:
    with state.lock:
        reply = _token(state, form)
        state.token_log.append((form.get("grant_type", ""), reply[0]))
        state.save()
        return reply


def _token(state: ExactState, form: Mapping[str, str]) -> Reply:
    now = state.now()
    if form.get("client_id") != state.client_id or form.get("client_secret") != state.client_secret:
        return _error(401, "invalid_client", "Invalid client credentials.")
    user = state.db["user"]["UserID"]
    day_key = f"{user}:{now.date().isoformat()}"
    calls = state.db["token_calls"].get(day_key, 0) + 1
    state.db["token_calls"][day_key] = calls
    if calls > int(state.options.get("token_calls_per_day", 200)):
        return _error(429, "access_denied", "Rate limit exceeded: too many token requests today.")
    grant = form.get("grant_type")
    if grant == "authorization_code":
        info = state.db["codes"].pop(form.get("code", ""), None)
        if info is None or now - info["issued"] > timedelta(seconds=CODE_LIFETIME):
            return _error(400, "invalid_grant", "The authorization code is invalid or expired.")
        if info["redirect_uri"] != form.get("redirect_uri"):
            return _error(400, "invalid_grant", "redirect_uri does not match.")
        return _issue(state)
    if grant == "refresh_token":
        info = state.db["refresh"].get(form.get("refresh_token", ""))
        if info is None:
            return _error(400, "invalid_grant", "The refresh token is invalid.")
        if not info["alive"]:
            return _error(401, "unauthorized_client", "Old refresh token used.")
        expires = info["issued"] + timedelta(days=REFRESH_LIFETIME_DAYS)
        if now >= expires:
            return _error(
                400,
                "invalid_request",
                f"The refresh token expired at {expires:%d-%m-%Y %H:%M:%S} and it is now {now:%d-%m-%Y %H:%M:%S}.",
            )
        last = state.db["chains"].get(info["user"], {}).get("last_token_at")
        if last is not None and (now - last).total_seconds() < EARLIEST_REFRESH:
            return _error(
                400,
                "access_denied",
                "Rate limit exceeded: access_token not expired",
                {"Reason": "TooEarlyToRefreshTokens"},
            )
        return _issue(state)
    return _error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.")


def bearer_user(state: ExactState, authorization: str | None) -> str | None:
    """The user of a valid, unexpired access token (docs/providers/exact.md#tokens: expired → 401)."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    info = state.db["access"].get(authorization[7:].strip())
    if info is None or state.now() >= info["expires"]:
        return None
    return str(info["user"])
