"""Moneybird sandbox: OAuth codes and tokens and the scope check of every API call (docs/providers/moneybird.md#oauth).

Used by the routes of ``app.py``: ``/oauth/authorize`` and ``/oauth/token`` go through ``OAuthStore`` (its records
live in the persisted state so tokens survive a restart), and the gate checks every ``/api/v2`` call's bearer
token and scopes here before the rate limiter of ``limits.py`` counts it.
"""

from __future__ import annotations

import secrets
from typing import Any

from sandboxes.moneybird.render import SCOPES

OAuthResult = tuple[int, dict[str, Any]]


class OAuthStore:
    """Authorization codes, access and refresh tokens (docs/providers/moneybird.md#endpoints,
    docs/providers/moneybird.md#tokens: no ``expires_in``)."""

    def __init__(self, records: dict[str, Any], client_id: str, client_secret: str) -> None:
        self.records = records
        self.client_id = client_id
        self.client_secret = client_secret

    @staticmethod
    def normalise_scope(scope: str | None) -> str | None:
        """Space-separated scopes; none requested → ``sales_invoices`` (docs/providers/moneybird.md#endpoints); unknown
        scope → None."""
        names = (scope or "").replace("+", " ").split()
        if not names:
            return "sales_invoices"
        if any(name not in SCOPES for name in names):
            return None
        return " ".join(dict.fromkeys(names))

    def issue_code(self, client_id: str, redirect_uri: str, scope: str, now: int) -> str:
        code = secrets.token_urlsafe(24)
        self.records["codes"][code] = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "used": False,
            "created_at": now,
        }
        return code

    def issue_tokens(self, scope: str, now: int) -> dict[str, Any]:
        access, refresh = secrets.token_hex(32), secrets.token_hex(32)
        self.records["access_tokens"][access] = {"scope": scope, "refresh_token": refresh, "created_at": now}
        self.records["refresh_tokens"][refresh] = access
        return {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "scope": scope,
            "created_at": now,
        }

    def token_endpoint(self, form: dict[str, str], now: int) -> OAuthResult:
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {
                "error": "invalid_client",
                "error_description": "Client authentication failed due to unknown client.",
            }
        grant = form.get("grant_type")
        if grant == "authorization_code":
            record = self.records["codes"].get(form.get("code", ""))
            if (
                record is None
                or record["used"]
                or record["client_id"] != self.client_id
                or record["redirect_uri"] != form.get("redirect_uri")
            ):
                return 400, _invalid_grant()
            record["used"] = True
            return 200, self.issue_tokens(record["scope"], now)
        if grant == "refresh_token":
            old_access = self.records["refresh_tokens"].pop(form.get("refresh_token", ""), None)
            if old_access is None:
                return 400, _invalid_grant()
            old = self.records["access_tokens"].pop(old_access, None)
            return 200, self.issue_tokens(old["scope"] if old else "sales_invoices", now)  # rotates both tokens
        return 400, {
            "error": "unsupported_grant_type",
            "error_description": "The authorization grant type is not supported.",
        }

    def scopes_of(self, authorization: str | None) -> tuple[str, set[str]] | None:
        """(token, scopes) for a valid ``Authorization: Bearer`` header, else None."""
        scheme, _, token = (authorization or "").partition(" ")
        record = self.records["access_tokens"].get(token.strip()) if scheme.lower() == "bearer" else None
        if record is None:
            return None
        return token.strip(), set(record["scope"].split())


def _invalid_grant() -> dict[str, Any]:
    return {
        "error": "invalid_grant",
        "error_description": "The provided authorization grant is invalid, expired, "
        "revoked, does not match the redirection URI used in the authorization request, or was issued to "
        "another client.",
    }
