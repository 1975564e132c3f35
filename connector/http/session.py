"""``ConnectionSession``: the authenticated, budgeted, retrying HTTP an adapter instance talks through.

Sits between an adapter (``self.http.request(...)``) and the provider. Per call it injects the bearer token
(from ``TokenManager.access_token``), spends the rate budget for ``(provider, tenant)``, sends with a timeout
and lets the adapter's ``classify`` decide: OK returns, RETRY backs off (tenacity, capped exponential),
a 2xx whose body should be JSON but is not (an HTML page, garbage) is a ``MalformedResponse`` and retried too,
RATE_LIMITED waits for the adapter's ``retry_at`` instant when it is within ``max_retry_wait`` and otherwise
parks the tenant and raises ``RateLimited``, REAUTH asks ``on_unauthorized`` for a fresh token once and
resends, and the rest become ``NotFound`` / ``PermanentError`` with a short, scrubbed body excerpt.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog

from connector.clock import utcnow
from connector.errors import (
    MalformedResponse,
    NotFound,
    PermanentError,
    RateLimited,
    ReauthRequired,
    TransientError,
)
from connector.http.budget import RateBudget
from connector.http.factory import make_session
from connector.http.retry import RetrySignal, build_retrying, parse_retry_after, seconds_until
from connector.logging import scrub_text
from connector.ports import AccountingAdapter, ResponseAction

log = structlog.get_logger(__name__)

BODY_EXCERPT_CHARS = 300
_SLOTS: dict[tuple[str, str], threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def in_flight_slot(adapter: type[AccountingAdapter], tenant: str | None) -> AbstractContextManager[Any]:
    """At most ``adapter.max_in_flight`` requests at once per provider tenant in this process (Xero: 5).

    Across processes the per-connection lease already gives one worker per connection.
    """
    if not adapter.max_in_flight or tenant is None:
        return nullcontext()
    key = (adapter.id, tenant)
    with _SLOTS_LOCK:
        slot = _SLOTS.setdefault(key, threading.BoundedSemaphore(adapter.max_in_flight))
    return slot


@dataclass
class _CallState:
    token: str | None = None
    reauthorised: bool = False


class ConnectionSession:
    """Implements ``connector.ports.ApiSession`` for one connection."""

    def __init__(
        self,
        adapter: type[AccountingAdapter],
        *,
        access_token: Callable[[], str],
        on_unauthorized: Callable[[str], str] | None = None,
        budget: RateBudget | None = None,
        connection_key: str = "",
        timeout: float = 30.0,
        max_retry_wait: float = 60.0,
        max_attempts: int = 4,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.adapter = adapter
        self._access_token = access_token
        self._on_unauthorized = on_unauthorized
        self.budget = budget
        self.connection_key = connection_key
        self.timeout = timeout
        self.max_retry_wait = max_retry_wait
        self.max_attempts = max_attempts
        self.session = session if session is not None else make_session(timeout)
        self._sleep = sleep
        self._clock = clock
        self._calls_lock = threading.Lock()
        self.calls = 0

    def __repr__(self) -> str:  # never show the token
        return (
            f"ConnectionSession(provider={self.adapter.id!r}, connection_key={self.connection_key!r}, "
            f"calls={self.calls})"
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        tenant: str | None = None,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        files: Any = None,
    ) -> requests.Response:
        state = _CallState()
        retrying = build_retrying(self.max_attempts, self._sleep)
        kwargs: dict[str, Any] = {"params": params, "json": json, "data": data, "files": files}
        response: requests.Response = retrying(self._attempt, state, method, url, tenant, headers or {}, kwargs)
        return response

    # --- one attempt ----------------------------------------------------------------------------------------
    def _attempt(
        self,
        state: _CallState,
        method: str,
        url: str,
        tenant: str | None,
        headers: Mapping[str, str],
        kwargs: dict[str, Any],
    ) -> requests.Response:
        token = state.token if state.token is not None else self._access_token()
        response = self._send(method, url, tenant, headers, kwargs, token)
        action = self.adapter.classify(response.status_code, response.headers, response.content)
        if action is ResponseAction.REAUTH and self._on_unauthorized is not None and not state.reauthorised:
            state.reauthorised = True
            log.info("http.unauthorized_refreshing", provider=self.adapter.id, status=response.status_code)
            state.token = self._on_unauthorized(token)
            response = self._send(method, url, tenant, headers, kwargs, state.token)
            action = self.adapter.classify(response.status_code, response.headers, response.content)
        return self._resolve(action, method, url, tenant, response)

    def _send(
        self,
        method: str,
        url: str,
        tenant: str | None,
        headers: Mapping[str, str],
        kwargs: dict[str, Any],
        token: str,
    ) -> requests.Response:
        if self.budget is not None:
            self.budget.acquire(self.adapter, tenant, self.connection_key)
        merged = {**headers, "Authorization": f"Bearer {token}"}
        with self._calls_lock:
            self.calls += 1
        try:
            with in_flight_slot(self.adapter, tenant):
                response = self.session.request(method, url, headers=merged, timeout=self.timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            error = TransientError(
                f"{self.adapter.id} {method} {_path(url)}: {type(exc).__name__}", provider=self.adapter.id
            )
            error.__cause__ = None
            raise RetrySignal(error) from None
        log.debug(
            "http.response", provider=self.adapter.id, method=method, path=_path(url), status=response.status_code
        )
        if self.budget is not None:
            self.budget.observe(self.adapter, tenant, response.headers, self.connection_key)
        return response

    def _resolve(
        self, action: ResponseAction, method: str, url: str, tenant: str | None, response: requests.Response
    ) -> requests.Response:
        status = response.status_code
        where = f"{self.adapter.id} {method} {_path(url)} -> {status}"
        if action is ResponseAction.OK:
            if not _json_or_not_meant_to_be(response):  # docs/architecture.md#retries-and-retry-after
                raise RetrySignal(
                    MalformedResponse(
                        f"{where}: the body is not JSON ({_content_type(response) or 'no content type'}): "
                        f"{excerpt(response.content, 80)}",
                        status=status,
                        provider=self.adapter.id,
                    )
                )
            return response
        if action is ResponseAction.RETRY:
            raise RetrySignal(TransientError(where, status=status, provider=self.adapter.id))
        if action is ResponseAction.RATE_LIMITED:
            self._rate_limited(where, tenant, response)
        if action is ResponseAction.REAUTH:
            raise ReauthRequired(f"{where}: the provider rejected the token", status=status, provider=self.adapter.id)
        if action is ResponseAction.NOT_FOUND:
            raise NotFound(f"{where}: {excerpt(response.content)}", status=status, provider=self.adapter.id)
        raise PermanentError(f"{where}: {excerpt(response.content)}", status=status, provider=self.adapter.id)

    def _rate_limited(self, where: str, tenant: str | None, response: requests.Response) -> None:
        now = self._clock()
        until, scope = self.adapter.retry_at(response.status_code, response.headers, now)
        if until is None:
            until = parse_retry_after(response.headers.get("Retry-After"), now)
        error = RateLimited(
            f"{where}: rate limited ({scope})",
            until=until,
            scope=scope,
            status=response.status_code,
            provider=self.adapter.id,
        )
        if until is None:
            raise RetrySignal(error)  # no hint: ordinary backoff
        wait = seconds_until(until, now)
        if wait <= self.max_retry_wait:
            raise RetrySignal(error, delay=wait)
        if self.budget is not None:  # docs/providers/xero.md#rate-limits: on the daily cap park that tenant only
            self.budget.park(RateBudget.park_key(self.adapter, tenant, self.connection_key), until, scope)
        log.warning("http.rate_limited", provider=self.adapter.id, scope=scope, until=until.isoformat())
        raise error


# a 2xx with one of these content types is a document (a PDF, an attachment), not an API answer to parse
_DOCUMENT_TYPES = ("application/pdf", "application/octet-stream", "image/", "application/atom+xml", "application/xml")


def _content_type(response: requests.Response) -> str:
    return str(response.headers.get("Content-Type", "")).split(";")[0].strip().lower()


def _json_or_not_meant_to_be(response: requests.Response) -> bool:
    """False for a 2xx that should carry JSON but does not: an HTML page (a proxy's error or login page answering
    in the provider's name) or a body that does not parse. An empty body (204, an acknowledged write) is fine."""
    kind = _content_type(response)
    if kind.startswith(_DOCUMENT_TYPES) or not response.content.strip():
        return True
    if kind == "text/html":
        return False
    try:
        json.loads(response.content)
    except ValueError:  # also UnicodeDecodeError
        return False
    except RecursionError:
        return False
    return True


def _path(url: str) -> str:
    return urlsplit(url).path


def excerpt(body: bytes | str, limit: int = BODY_EXCERPT_CHARS) -> str:
    """A short, secret-free excerpt of a response body for error messages."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return scrub_text(" ".join(text.split()), limit=limit)
