"""The one place a ``requests.Session`` is made: default timeout, User-Agent, and a rate-header debug hook.

Every outbound call (API requests through ``ConnectionSession``, token calls in ``connector.auth.oauth``) uses a
session from ``make_session`` so a call without an explicit timeout cannot hang a worker, and so the providers'
rate headers (Xero ``X-MinLimit-Remaining``, Exact ``X-RateLimit-*``, Moneybird ``RateLimit-*``) show up in the
debug log (docs/architecture.md#http-retries-and-the-rate-budget). Headers are logged by allow-list; nothing else of a
response is logged here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
import structlog

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
USER_AGENT = "dunning-connector/0.1 (+https://github.com/dunning-connector)"

_RATE_HEADER_PREFIXES = ("x-ratelimit", "ratelimit-", "x-minlimit", "x-daylimit", "x-appminlimit", "x-rate-limit")
_RATE_HEADERS_EXACT = ("retry-after",)


def rate_headers(headers: Any) -> dict[str, str]:
    """The rate-limit related headers of a response (names lower-cased)."""
    found: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith(_RATE_HEADER_PREFIXES) or lower in _RATE_HEADERS_EXACT:
            found[lower] = value
    return found


def _log_rate_headers(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    limits = rate_headers(response.headers)
    if limits:
        log.debug("http.rate_headers", host=urlsplit(response.url).netloc, status=response.status_code, **limits)
    return response


class TimeoutSession(requests.Session):
    """A ``requests.Session`` that applies a default timeout to every request without one."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def make_session(timeout: float = DEFAULT_TIMEOUT_SECONDS, user_agent: str = USER_AGENT) -> requests.Session:
    """A configured session; share one per thread or per ``ConnectionSession``."""
    session = TimeoutSession(timeout)
    session.headers["User-Agent"] = user_agent
    session.hooks["response"].append(_log_rate_headers)
    session.trust_env = False  # a ~/.netrc entry would silently replace our Authorization header
    return session


__all__ = ["DEFAULT_TIMEOUT_SECONDS", "USER_AGENT", "TimeoutSession", "make_session", "rate_headers"]
