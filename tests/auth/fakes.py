"""A token endpoint on 127.0.0.1 with real rotation rules, and test adapters with Xero/Exact/Moneybird-like specs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from flask import Flask, Response, jsonify, request
from pydantic import SecretStr

from connector.model import TokenSet
from connector.settings import ExactConfig
from tests.http.fakes import FakeAdapter


def parse_tokens(body: Mapping[str, Any], now: datetime) -> TokenSet:
    expires_in = body.get("expires_in")
    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token"),
        expires_at=now + timedelta(seconds=int(expires_in)) if expires_in is not None else None,  # "600" too
        scope=body.get("scope"),
    )


class TokenAdapter(FakeAdapter):
    id: ClassVar[str] = "tokentest"
    oauth = FakeAdapter.oauth.__class__(
        authorize_path="/oauth/authorize",
        token_path="/oauth/token",
        scopes=("read", "offline_access"),
        refresh_leeway_seconds=60,
        refresh_token_lifetime_days=60,
    )

    @staticmethod
    def parse_token_response(body: Mapping[str, Any], now: datetime) -> TokenSet:
        return parse_tokens(body, now)


class ExactLike(TokenAdapter):
    id: ClassVar[str] = "exactlike"
    oauth = TokenAdapter.oauth.__class__(
        authorize_path="/api/oauth2/auth",
        token_path="/oauth/token",
        scopes=(),
        refresh_leeway_seconds=60,
        refresh_window_seconds=30,
        refresh_token_lifetime_days=30,
    )


class XeroLike(TokenAdapter):
    id: ClassVar[str] = "xerolike"
    oauth = TokenAdapter.oauth.__class__(
        authorize_path="/identity/connect/authorize",
        token_path="/oauth/token",
        scopes=("offline_access",),
        client_auth="client_secret_basic",
        refresh_token_grace_seconds=1800,
        refresh_token_lifetime_days=60,
        pkce=True,
    )


class MoneybirdLike(TokenAdapter):
    id: ClassVar[str] = "moneybirdlike"
    oauth = TokenAdapter.oauth.__class__(authorize_path="/oauth/authorize", token_path="/oauth/token", scopes=())


ADAPTERS = {a.id: a for a in (TokenAdapter, ExactLike, XeroLike, MoneybirdLike)}


class TokenServer:
    """``POST /oauth/token``: rotating refresh tokens (the old one dies at once), scripted failure modes."""

    def __init__(self, *, expires_in: str = "1800", delay: float = 0.0) -> None:
        self.mode = "ok"  # ok | invalid_grant | too_early | no_refresh | server_error
        self.expires_in = expires_in
        self.delay = delay
        self.current_refresh = "rt-0"
        self.issued = 0
        self.calls: list[dict[str, str]] = []
        self.auth_headers: list[str] = []
        self.before_answer: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self.app = Flask("tokens")
        self.app.add_url_rule("/oauth/token", "token", self._token, methods=["POST"])

    def _token(self) -> Response | tuple[Response, int] | tuple[Response, int, dict[str, str]]:
        form = request.form.to_dict()
        with self._lock:
            self.calls.append(form)
            self.auth_headers.append(request.headers.get("Authorization", ""))
        time.sleep(self.delay)  # widen the window in which concurrent refreshers could collide
        if self.before_answer is not None:
            self.before_answer()
        with self._lock:
            if self.mode == "server_error":
                return jsonify({"error": "temporarily_unavailable"}), 503
            if self.mode == "too_early":  # docs/providers/exact.md#tokens
                return (
                    jsonify(
                        {"error": "access_denied", "error_description": "Rate limit exceeded: access_token not expired"}
                    ),
                    400,
                    {"Reason": "TooEarlyToRefreshTokens"},
                )
            if self.mode == "invalid_grant":
                return jsonify({"error": "invalid_grant"}), 400
            if form.get("grant_type") == "refresh_token" and form.get("refresh_token") != self.current_refresh:
                return jsonify({"error": "invalid_grant"}), 400
            self.issued += 1
            body: dict[str, str] = {
                "access_token": f"at-{self.issued}",
                "token_type": "bearer",
                "expires_in": self.expires_in,
            }
            if self.mode != "no_refresh":
                self.current_refresh = f"rt-{self.issued}"
                body["refresh_token"] = self.current_refresh
            return jsonify(body)


def config_for(url: str, *, secret: str = "client-secret-value") -> ExactConfig:  # noqa: S107
    return ExactConfig(base_url=url, client_id="client-id-1", client_secret=SecretStr(secret))
