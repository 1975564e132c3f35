"""``TokenManager``: the single owner of every connection's OAuth tokens (docs/architecture.md#tokens,
docs/architecture.md#token-refresh).

Sits between ``ConnectionSession`` (which asks for a bearer token per request, and for a forced refresh after a
401) and the ``oauth_tokens`` table. A fresh token is decrypted and returned without locking. Otherwise the
per-connection database lock is taken (``connector.storage.repos.tokens``), the row is re-read, the Exact refresh window
is honoured, the token endpoint is called while the lock is held, the result is written with a
compare-and-swap on ``version`` and COMMITTED before the token is handed out. ``invalid_grant`` re-reads first
(a sibling may have rotated the token), retries once inside a provider's grace period (Xero), and only then
marks the connection ``needs_reauth``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
import structlog

from connector.auth.crypto import TokenCipher
from connector.auth.oauth import RefreshTooEarly, refresh_tokens
from connector.clock import Clock, utcnow
from connector.errors import ConfigurationError, ReauthRequired, TransientError
from connector.model import TokenSet
from connector.ports import AccountingAdapter, OAuthSpec
from connector.storage import repos
from connector.storage.db import Engine, Session, Sessions, session_factory, transaction
from connector.storage.repos.tokens import DEFAULT_LOCK_TIMEOUT_SECONDS, USABLE
from connector.storage.tables import Connection

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _Stored:
    connection_id: int
    org_id: int
    provider: str
    version: int
    status: str
    access_expires_at: datetime | None
    tokens: TokenSet

    def __repr__(self) -> str:  # TokenSet's repr masks the secrets
        return f"_Stored(connection_id={self.connection_id}, version={self.version}, status={self.status!r})"


class TokenManager:
    """Hands out valid access tokens; refreshes under a per-connection lock; persists before use."""

    def __init__(
        self,
        engine_or_sessionmaker: Engine | Sessions,
        crypto: TokenCipher,
        clock: Clock = utcnow,
        *,
        adapters: Mapping[str, type[AccountingAdapter]],
        provider_config: Callable[[str], Any] | None = None,
        connection_config: Callable[[Connection], Any] | None = None,
        http_session: requests.Session | None = None,
        lock_timeout_seconds: int = DEFAULT_LOCK_TIMEOUT_SECONDS,
    ) -> None:
        if isinstance(engine_or_sessionmaker, Engine):
            self._sessions: Sessions = session_factory(engine_or_sessionmaker)
        else:
            self._sessions = engine_or_sessionmaker
        self._crypto = crypto
        self._now: Clock = clock
        self._adapters = adapters
        if provider_config is None and connection_config is None:
            raise ConfigurationError("TokenManager needs provider_config or connection_config")
        self._provider_config = provider_config
        # per connection, e.g. Exact's country site (docs/providers/exact.md#endpoints)
        self._connection_config = connection_config
        self._http = http_session
        self._lock_timeout = lock_timeout_seconds

    def __repr__(self) -> str:
        return f"TokenManager(providers={sorted(self._adapters)})"

    # --- public API -----------------------------------------------------------------------------------------
    def access_token(self, connection_id: int) -> str:
        """A usable access token; refreshes (once, for all workers) when it is about to expire."""
        with self._sessions() as session:
            stored = self._load(session, connection_id)
        spec = self._adapter(stored.provider).oauth
        if self._fresh(stored, spec, self._now()):
            return stored.tokens.access_token
        return self._under_lock(connection_id, rejected=None, force=False)

    def force_refresh(self, connection_id: int, rejected: str) -> str:
        """After a 401 with ``rejected``: the stored token if a sibling already replaced it, else a refresh."""
        return self._under_lock(connection_id, rejected=rejected, force=False)

    def keepalive(self, connection_id: int) -> str:
        """Exercise the refresh token of an idle connection (respecting the provider's refresh window)."""
        return self._under_lock(connection_id, rejected=None, force=True)

    def store_initial(self, connection_id: int, org_id: int, tokens: TokenSet) -> None:
        """Persist the tokens of a completed authorisation (or re-authorisation) and reactivate the connection."""
        now = self._now()
        with transaction(self._sessions) as session:
            connection = repos.token_connection(session, connection_id)
            if connection is None or connection.org_id != org_id:
                raise ConfigurationError(f"connection {connection_id} does not belong to organisation {org_id}")
            spec = self._adapter(connection.provider).oauth
            repos.lock_connection(session, connection_id, self._lock_timeout)
            values: dict[str, Any] = {
                "ciphertext": self._crypto.encrypt_tokens(connection_id, tokens),
                "access_expires_at": self._expires_at(tokens, spec, now),
                "refresh_expires_hint": _refresh_hint(spec, now),
                "updated_at": now,
                "last_refresh_at": now,
                "status": "active",
            }
            repos.store_tokens(session, org_id, connection_id, values)
            connection.status = "active"
        log.info("oauth.tokens_stored", connection_id=connection_id, provider=connection.provider)

    def keepalive_due(self, now: datetime, idle_days: int = 20) -> list[int]:
        """Connections whose refresh token has not been used for ``idle_days`` and can die of disuse."""
        return [cid for cid, idle, lifetime in self._idle(now) if idle >= timedelta(days=idle_days) and idle < lifetime]

    def expire_idle(self, now: datetime) -> list[int]:
        """Mark connections idle past their refresh-token lifetime (Exact 30 days, Xero 60) as ``needs_reauth``:
        their refresh token is dead, and only the user can connect again (docs/architecture.md#tokens: keep-alive)."""
        expired = [cid for cid, idle, lifetime in self._idle(now) if idle >= lifetime]
        for connection_id in expired:
            with transaction(self._sessions) as session:
                stored = self._load(session, connection_id)
                self._mark_needs_reauth(session, stored, "refresh token unused beyond its lifetime")
        return expired

    def _idle(self, now: datetime) -> list[tuple[int, timedelta, timedelta]]:
        """(connection id, time since the refresh token was last used, its lifetime) for expiring providers."""
        with self._sessions() as session:
            rows = repos.idle_tokens(session)
        idle: list[tuple[int, timedelta, timedelta]] = []
        for connection_id, provider, last_refresh_at, updated_at in rows:
            adapter = self._adapters.get(provider)
            if adapter is None or adapter.oauth.refresh_token_lifetime_days is None:
                continue  # no lifetime to protect (e.g. Moneybird tokens do not expire)
            lifetime = timedelta(days=adapter.oauth.refresh_token_lifetime_days)
            idle.append((connection_id, now - (last_refresh_at or updated_at), lifetime))
        return idle

    def rotate_keys(self, batch_size: int = 200) -> int:
        """Re-encrypt every token row under the newest key (``dunning rotate-keys``); returns rows rotated.

        Each row is rotated in its own transaction under the connection's token lock, the lock a refresh holds
        from reading the row to committing the new tokens: a refresh in flight finishes first and its tokens are
        the ones re-encrypted, and a refresh that starts meanwhile waits (docs/operations.md#rotate-keys). The
        ``version`` check stays as a second guard.
        """
        rotated = 0
        last_id = 0
        while True:
            with transaction(self._sessions) as session:
                ids = [connection_id for connection_id, _, _ in repos.token_batch(session, last_id, batch_size)]
            for connection_id in ids:
                with transaction(self._sessions) as session:
                    repos.lock_connection(session, connection_id, self._lock_timeout)
                    row = repos.load_token(session, connection_id)
                    if row is None:
                        continue  # the connection went away meanwhile
                    token = row[0]
                    ciphertext = self._crypto.rotate(token.ciphertext)
                    rotated += int(repos.swap_token(session, connection_id, token.version, ciphertext=ciphertext))
            if len(ids) < batch_size:
                break
            last_id = ids[-1]
        log.info("oauth.keys_rotated", rows=rotated)
        return rotated

    # --- the locked refresh (docs/architecture.md#token-refresh) ------------------------------------------------------
    def _under_lock(self, connection_id: int, *, rejected: str | None, force: bool) -> str:
        with transaction(self._sessions) as session:
            repos.lock_connection(session, connection_id, self._lock_timeout)
            token, failure = self._refresh_locked(session, connection_id, rejected=rejected, force=force)
        # committed: a new token is stored before anyone uses it; a needs_reauth mark is stored too
        if failure is not None:
            raise failure
        assert token is not None  # noqa: S101 - _refresh_locked returns a token or a failure
        return token

    def _refresh_locked(
        self, session: Session, connection_id: int, *, rejected: str | None, force: bool
    ) -> tuple[str | None, Exception | None]:
        stored = self._load(session, connection_id)
        adapter = self._adapter(stored.provider)
        spec = adapter.oauth
        now = self._now()
        current = stored.tokens
        if rejected is not None and current.access_token != rejected:
            return current.access_token, None  # a sibling refreshed while our request was in flight
        if rejected is None and not force and self._fresh(stored, spec, now):
            return current.access_token, None  # double-check: a sibling refreshed while we waited for the lock
        if rejected is None and _before_refresh_window(stored, spec, now):
            return current.access_token, None  # docs/providers/exact.md#tokens: never refresh before the last 30 s
        if not current.refresh_token:
            return None, self._mark_needs_reauth(session, stored, "no refresh token stored")
        config = self._config(session, stored)
        sent = current.refresh_token
        for attempt in (1, 2):
            try:
                fresh = refresh_tokens(adapter, config, sent, session=self._http, now=self._now())
            except RefreshTooEarly:
                if stored.access_expires_at is None or stored.access_expires_at > self._now():
                    log.info("oauth.refresh_too_early", connection_id=connection_id, provider=stored.provider)
                    return current.access_token, None  # still valid: keep using it, no reauth
                raise
            except ReauthRequired as exc:
                latest = self._load(session, connection_id, must_be_usable=False)
                if latest.tokens.refresh_token != sent and latest.status in USABLE:
                    log.info("oauth.sibling_rotated", connection_id=connection_id, provider=stored.provider)
                    return latest.tokens.access_token, None
                if attempt == 1 and spec.refresh_token_grace_seconds > 0:
                    continue  # docs/providers/xero.md#tokens: the previous refresh token stays valid for a grace period
                return None, self._mark_needs_reauth(session, stored, str(exc))
            except TransientError:
                if attempt == 1:
                    continue  # docs/architecture.md#token-refresh step 7: once more with the same refresh token
                raise
            return self._save(session, stored, spec, fresh, now=self._now()), None
        raise TransientError(f"refresh of connection {connection_id} did not complete")  # pragma: no cover

    def _save(self, session: Session, stored: _Stored, spec: OAuthSpec, fresh: TokenSet, *, now: datetime) -> str:
        merged = TokenSet(
            access_token=fresh.access_token,
            refresh_token=fresh.refresh_token or stored.tokens.refresh_token,  # none returned: keep the old one
            expires_at=fresh.expires_at,
            scope=fresh.scope or stored.tokens.scope,
            extra={**stored.tokens.extra, **fresh.extra},
        )
        swapped = repos.swap_token(
            session,
            stored.connection_id,
            stored.version,
            ciphertext=self._crypto.encrypt_tokens(stored.connection_id, merged),
            access_expires_at=self._expires_at(merged, spec, now),
            refresh_expires_hint=_refresh_hint(spec, now),  # using a refresh token restarts its idle clock
            version=stored.version + 1,
            updated_at=now,
            last_refresh_at=now,
            status="active",
        )
        if not swapped:
            raise TransientError(f"token row of connection {stored.connection_id} changed during the refresh")
        log.info(
            "oauth.refreshed",
            connection_id=stored.connection_id,
            provider=stored.provider,
            version=stored.version + 1,
            rotated=bool(fresh.refresh_token),
        )
        return merged.access_token

    def _mark_needs_reauth(self, session: Session, stored: _Stored, reason: str) -> ReauthRequired:
        repos.mark_token_needs_reauth(session, stored.connection_id, self._now())
        log.error(
            "oauth.needs_reauth",
            connection_id=stored.connection_id,
            org_id=stored.org_id,
            provider=stored.provider,
            reason=reason,
        )
        return ReauthRequired(
            f"connection {stored.connection_id} ({stored.provider}) must be re-authorised", provider=stored.provider
        )

    # --- helpers --------------------------------------------------------------------------------------------
    def _load(self, session: Session, connection_id: int, *, must_be_usable: bool = True) -> _Stored:
        row = repos.load_token(session, connection_id)
        if row is None:
            raise ReauthRequired(f"connection {connection_id} has no stored tokens; connect it first")
        token, provider = row
        if must_be_usable and token.status not in USABLE:
            raise ReauthRequired(f"connection {connection_id} ({provider}) must be re-authorised", provider=provider)
        return _Stored(
            connection_id=token.connection_id,
            org_id=token.org_id,
            provider=provider,
            version=token.version,
            status=token.status,
            access_expires_at=token.access_expires_at,
            tokens=self._crypto.decrypt_tokens(connection_id, token.ciphertext),
        )

    def _config(self, session: Session, stored: _Stored) -> Any:
        if self._connection_config is not None:
            connection = repos.token_connection(session, stored.connection_id)
            if connection is not None:
                return self._connection_config(connection)
        if self._provider_config is None:
            raise ConfigurationError(f"no provider configuration for connection {stored.connection_id}")
        return self._provider_config(stored.provider)

    def _adapter(self, provider: str) -> type[AccountingAdapter]:
        try:
            return self._adapters[provider]
        except KeyError:
            raise ConfigurationError(f"no adapter registered for provider {provider!r}") from None

    @staticmethod
    def _fresh(stored: _Stored, spec: OAuthSpec, now: datetime) -> bool:
        if stored.access_expires_at is None:
            return True  # docs/providers/moneybird.md#tokens: no expires_in, the token does not expire
        return stored.access_expires_at - timedelta(seconds=spec.refresh_leeway_seconds) > now

    @staticmethod
    def _expires_at(tokens: TokenSet, spec: OAuthSpec, now: datetime) -> datetime | None:
        if tokens.expires_at is not None:
            return tokens.expires_at
        if spec.default_expires_in is not None:
            return now + timedelta(seconds=spec.default_expires_in)
        return None


def _before_refresh_window(stored: _Stored, spec: OAuthSpec, now: datetime) -> bool:
    if spec.refresh_window_seconds is None or stored.access_expires_at is None:
        return False
    return (stored.access_expires_at - now).total_seconds() > spec.refresh_window_seconds


def _refresh_hint(spec: OAuthSpec, now: datetime) -> datetime | None:
    days = spec.refresh_token_lifetime_days
    return now + timedelta(days=days) if days is not None else None
