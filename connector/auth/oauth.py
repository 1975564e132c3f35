"""The OAuth 2.0 authorization-code flow as three typed functions: authorize URL, code exchange, refresh.

Sits under the dashboard's connect/callback routes and under ``TokenManager``. URLs are
``getattr(config, spec.*_url_setting) + spec.*_path`` so a sandbox on 127.0.0.1 stands in for any provider.
Token responses go through ``adapter_cls.parse_token_response`` (each provider's quirks, e.g. Exact's string
``expires_in``). Errors: a dead grant (``invalid_grant``; Exact's "old refresh token used" / "refresh token
expired") raises ``ReauthRequired``; Exact's ``TooEarlyToRefreshTokens`` raises ``RefreshTooEarly``;
5xx, 429 and transport failures raise ``TransientError``. No token value is ever logged or put in a message.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import requests
import structlog
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from connector.clock import utcnow
from connector.errors import GarbageResponse, PermanentError, ReauthRequired, TransientError
from connector.http.factory import make_session
from connector.logging import scrub_text
from connector.model import TokenSet
from connector.ports import AccountingAdapter

log = structlog.get_logger(__name__)

TOKEN_CALL_TIMEOUT_SECONDS = 15.0


class RefreshTooEarly(TransientError):
    """docs/providers/exact.md#tokens: a refresh before the token's last 30 s is refused (and counts toward the error
    cap)."""


def new_state() -> str:
    """An unguessable ``state`` value (bind it to the user's org and store it before redirecting)."""
    return secrets.token_urlsafe(32)


def new_pkce_pair() -> tuple[str, str]:
    """``(code_verifier, code_challenge)`` for PKCE S256; the verifier is 86 chars of ``A-Z a-z 0-9 - _``."""
    verifier = secrets.token_urlsafe(64)
    return verifier, create_s256_code_challenge(verifier)


def _setting_url(config: Any, setting: str, path: str) -> str:
    base = getattr(config, setting)
    return f"{str(base).rstrip('/')}{path}"


def _secret(config: Any) -> str:
    value = getattr(config, "client_secret", "")
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if getter is not None else value or "")


def scopes_for(adapter_cls: type[AccountingAdapter], config: Any) -> str:
    """The space-separated scopes the adapter asks for with this config (Xero: granular or broad)."""
    return " ".join(adapter_cls.scopes_for(config))


def authorize_url(
    adapter_cls: type[AccountingAdapter],
    config: Any,
    redirect_uri: str,
    state: str,
    code_verifier: str | None = None,
) -> str:
    spec = adapter_cls.oauth
    params: dict[str, str] = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    scope = scopes_for(adapter_cls, config)
    if scope:
        params["scope"] = scope
    if code_verifier is not None:
        params["code_challenge"] = create_s256_code_challenge(code_verifier)
        params["code_challenge_method"] = "S256"
    params.update(spec.extra_authorize_params)
    base = _setting_url(config, spec.authorize_url_setting, spec.authorize_path)
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode(params, quote_via=quote)}"


def exchange_code(
    adapter_cls: type[AccountingAdapter],
    config: Any,
    code: str,
    redirect_uri: str,
    code_verifier: str | None = None,
    *,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> TokenSet:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier is not None:
        form["code_verifier"] = code_verifier
    return _token_call(adapter_cls, config, form, session=session, now=now)


def refresh_tokens(
    adapter_cls: type[AccountingAdapter],
    config: Any,
    refresh_token: str,
    *,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> TokenSet:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_call(adapter_cls, config, form, session=session, now=now)


def _token_call(
    adapter_cls: type[AccountingAdapter],
    config: Any,
    form: dict[str, str],
    *,
    session: requests.Session | None,
    now: datetime | None,
) -> TokenSet:
    spec = adapter_cls.oauth
    url = _setting_url(config, spec.token_url_setting, spec.token_path)
    client_secret = _secret(config)
    auth: tuple[str, str] | None = None
    if spec.client_auth == "client_secret_basic" and client_secret:
        # RFC 6749 §2.3.1: form-encode id and secret before Basic encoding
        auth = (quote(config.client_id, safe=""), quote(client_secret, safe=""))
    # client_secret_post, or a public PKCE client (docs/providers/xero.md#endpoints: client_id in the body, no secret)
    else:
        form = {**form, "client_id": config.client_id}
        if client_secret:
            form["client_secret"] = client_secret
    started = now if now is not None else utcnow()  # expires_at counts from the request (docs/architecture.md#tokens)
    http = session if session is not None else make_session(TOKEN_CALL_TIMEOUT_SECONDS)
    grant = form["grant_type"]
    try:
        response = http.post(
            url, data=form, auth=auth, headers={"Accept": "application/json"}, timeout=TOKEN_CALL_TIMEOUT_SECONDS
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        # docs/providers/exact.md#tokens: after a timeout the refresh token may already be spent; the caller decides
        raise TransientError(
            f"{adapter_cls.id} token endpoint: {type(exc).__name__} ({grant})", provider=adapter_cls.id
        ) from None
    finally:
        if session is None:
            http.close()
    log.info("oauth.token_call", provider=adapter_cls.id, grant_type=grant, status=response.status_code)
    body = _json_or_none(response)
    if 200 <= response.status_code < 300:
        if not isinstance(body, Mapping) or not body.get("access_token"):
            raise GarbageResponse(
                f"{adapter_cls.id} token endpoint answered {response.status_code} without a token",
                status=response.status_code,
                provider=adapter_cls.id,
            )
        return adapter_cls.parse_token_response(body, started)
    raise _token_error(adapter_cls.id, grant, response, body)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _token_error(provider: str, grant: str, response: requests.Response, body: Any) -> Exception:
    status = response.status_code
    error = str(body.get("error", "")) if isinstance(body, Mapping) else ""
    description = str(body.get("error_description", "")) if isinstance(body, Mapping) else ""
    reason = response.headers.get("Reason", "")
    summary = f"{provider} token endpoint ({grant}) -> {status} {error}: {scrub_text(description, limit=200)}"
    if "TooEarlyToRefreshTokens" in reason or "TooEarlyToRefreshTokens" in response.text:
        return RefreshTooEarly(summary, status=status, provider=provider)  # docs/providers/exact.md#tokens
    if status in (400, 401) and _dead_grant(error, description):
        return ReauthRequired(summary, status=status, provider=provider)
    if status == 429 or status >= 500:
        return TransientError(summary, status=status, provider=provider)
    return PermanentError(summary, status=status, provider=provider)


def _dead_grant(error: str, description: str) -> bool:
    if error == "invalid_grant":
        return True
    lowered = description.lower()
    # docs/providers/exact.md#tokens: "Old refresh token used." (401 unauthorized_client); "The refresh token expired
    # ..." (400)
    return error in ("unauthorized_client", "invalid_request") and "refresh token" in lowered
