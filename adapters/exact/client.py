"""OData v3 over Exact Online's REST API for one connection: URLs, ``$select``/``$filter``/``$top``, ``__next``.

Sits between ``provider.py``/``writeback.py`` and the ``ApiSession`` (which adds the token, spends the
per-division budget and maps statuses to ``connector.errors``). Every read names its fields (``$select`` is
mandatory on bulk/sync endpoints and several CRUD ones, docs/providers/exact.md#requests), follows ``__next`` verbatim
with a loop guard and a same-host check, and passes through the per-endpoint ``ErrorCapBreaker`` that stops before
Exact's 10-errors-per-hour block. Division codes are plain path segments (docs/providers/exact.md#tenants).

The breaker: Exact blocks an app key for at least an hour after more than 10 error responses (400/401/403/404)
per app/user/division/endpoint within an hour (docs/providers/exact.md#error-cap), and the block escalates. We count
those errors per ``(site, division, endpoint)`` in a sliding hour and refuse further calls for an hour once
``threshold`` (default 5) is reached, raising ``RateLimited`` with scope ``error-cap`` so the core parks the job
instead of burning the key. Its state is a small serialisable object so the core may persist it; by default
one in-memory state is shared by the whole process.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import structlog

from connector.clock import Clock, utcnow
from connector.errors import GarbageResponse, ProviderError, RateLimited
from connector.ports import ApiSession, HttpResponse

JSON_HEADERS = {"Accept": "application/json"}  # docs/providers/exact.md#requests: the default is Atom/XML
WRITE_HEADERS = {**JSON_HEADERS, "Content-Type": "application/json", "Prefer": "return=representation"}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DIVISION = re.compile(r"^\d{1,12}$")
MAX_PAGES = 100_000  # a second loop guard besides the repeated-link check


def guid(value: str) -> str:
    """An OData guid literal; refuses anything that is not a GUID (no filter injection)."""
    if not _GUID.match(value):
        raise ValueError(f"not a GUID: {value!r}")
    return f"guid'{value.lower()}'"


def any_of(field: str, guids: Sequence[str]) -> str:
    return " or ".join(f"{field} eq {guid(g)}" for g in guids)


def datetime_literal(moment: datetime) -> str:
    return f"datetime'{moment.strftime('%Y-%m-%dT%H:%M:%S')}'"  # docs/providers/exact.md#requests: include a time part


def endpoint_key(endpoint: str) -> str:
    """``crm/Accounts(guid'…')`` → ``crm/Accounts`` (the error cap counts per endpoint)."""
    return endpoint.split("(", 1)[0]


def unwrap(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Rows and next link from the three envelopes Exact uses: d.results(+__next), d as list, d as one entity."""
    if not isinstance(body, Mapping) or "d" not in body:
        raise GarbageResponse("Exact response without the OData 'd' envelope")
    inner = body["d"]
    if isinstance(inner, list):
        return [r for r in inner if isinstance(r, dict)], None
    if isinstance(inner, Mapping) and isinstance(inner.get("results"), list):
        nxt = inner.get("__next")
        return [r for r in inner["results"] if isinstance(r, dict)], str(nxt) if nxt else None
    if isinstance(inner, Mapping):
        return [dict(inner)], None
    raise GarbageResponse("Exact 'd' envelope has an unexpected shape")


# --- the error-cap circuit breaker ------------------------------------------------------------------------------
log = structlog.get_logger(__name__)

# docs/providers/exact.md#error-cap: these count toward the hourly error cap
CAP_STATUSES = frozenset({400, 401, 403, 404})
EXACT_ERROR_CAP = 10  # docs/providers/exact.md#error-cap: more than 10 per hour blocks the key
WINDOW = timedelta(hours=1)


@dataclass
class BreakerState:
    """Errors seen per endpoint key (UTC instants) and when an open breaker closes again."""

    errors: dict[str, list[datetime]] = field(default_factory=dict)
    open_until: dict[str, datetime] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "errors": {k: [t.isoformat() for t in v] for k, v in self.errors.items()},
            "open_until": {k: t.isoformat() for k, t in self.open_until.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, dict[str, object]]) -> BreakerState:
        errors = {
            k: [datetime.fromisoformat(str(t)) for t in v]
            for k, v in data.get("errors", {}).items()
            if isinstance(v, list)
        }
        opened = {k: datetime.fromisoformat(str(v)) for k, v in data.get("open_until", {}).items()}
        return cls(errors=errors, open_until=opened)


class ErrorCapBreaker:
    """Counts cap-relevant errors per endpoint key; ``check`` raises ``RateLimited`` while the breaker is open."""

    def __init__(
        self,
        state: BreakerState | None = None,
        *,
        threshold: int = 5,
        cooldown: timedelta = WINDOW,
        clock: Clock = utcnow,
    ) -> None:
        if not 0 < threshold < EXACT_ERROR_CAP:
            raise ValueError(f"threshold must stay below Exact's cap of {EXACT_ERROR_CAP}")
        self.state = state if state is not None else BreakerState()
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> list[datetime]:
        recent = [t for t in self.state.errors.get(key, []) if now - t < WINDOW]
        self.state.errors[key] = recent
        return recent

    def check(self, key: str) -> None:
        now = self._clock()
        with self._lock:
            until = self.state.open_until.get(key)
            if until is None:
                return
            if until <= now:
                del self.state.open_until[key]
                return
        raise RateLimited(
            f"exact: circuit open for {key} (error cap guard)",
            until=until,
            scope="error-cap",
            status=None,
            provider="exact",
        )

    def record_error(self, key: str, status: int) -> None:
        if status not in CAP_STATUSES:
            return
        now = self._clock()
        with self._lock:
            recent = self._recent(key, now)
            recent.append(now)
            if len(recent) >= self.threshold and key not in self.state.open_until:
                self.state.open_until[key] = now + self.cooldown
                log.warning("exact.breaker_open", endpoint=key, errors=len(recent))

    def errors_in_window(self, key: str) -> int:
        with self._lock:
            return len(self._recent(key, self._clock()))


SHARED_STATE = BreakerState()  # process-wide default; the core may pass a persisted state instead


# --- OData over one connection ---------------------------------------------------------------------------------
class ExactClient:
    """Thin OData client bound to one connection's site (``base_url``) and session."""

    def __init__(self, http: ApiSession, base_url: str, breaker: ErrorCapBreaker) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker
        self._host = urlsplit(self.base_url).netloc

    def url(self, division: str | None, endpoint: str) -> str:
        if division is None:
            return f"{self.base_url}/api/v1/current/{endpoint}"
        if not _DIVISION.match(division):
            raise ValueError(f"not an Exact division code: {division!r}")
        return f"{self.base_url}/api/v1/{division}/{endpoint}"

    def _call(self, method: str, url: str, division: str | None, endpoint: str, **kwargs: Any) -> HttpResponse:
        key = f"{self._host}/{division or 'current'}/{endpoint_key(endpoint)}"
        self.breaker.check(key)
        try:
            return self.http.request(method, url, tenant=division, **kwargs)
        except ProviderError as exc:
            if exc.status is not None:
                self.breaker.record_error(key, exc.status)
            raise

    @staticmethod
    def _json(response: HttpResponse) -> Any:
        try:
            return response.json(parse_float=Decimal)
        except ValueError as exc:
            raise GarbageResponse(f"Exact answered non-JSON ({response.status_code})") from exc

    def iter_pages(
        self,
        division: str | None,
        endpoint: str,
        *,
        select: Sequence[str],
        filter: str | None = None,  # noqa: A002 - the OData name
        top: int | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield each page's rows, following ``__next`` until it is absent."""
        params: dict[str, str] = {"$select": ",".join(select), **(extra or {})}
        if filter:
            params["$filter"] = filter
        if top is not None:
            params["$top"] = str(top)
        url = self.url(division, endpoint)
        request_params: dict[str, str] | None = params
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            response = self._call("GET", url, division, endpoint, params=request_params, headers=JSON_HEADERS)
            rows, nxt = unwrap(self._json(response))
            yield rows
            if not nxt:
                return
            if nxt in seen:
                raise GarbageResponse(f"Exact repeated the same __next link for {endpoint} (paging loop)")
            if urlsplit(nxt).netloc != self._host:
                raise GarbageResponse(f"Exact __next for {endpoint} points to another host")
            seen.add(nxt)
            url, request_params = nxt, None  # docs/providers/exact.md#requests: follow __next verbatim
        raise GarbageResponse(f"Exact paging for {endpoint} exceeded {MAX_PAGES} pages")

    def get_all(self, division: str | None, endpoint: str, **kwargs: Any) -> list[dict[str, Any]]:
        return [row for page in self.iter_pages(division, endpoint, **kwargs) for row in page]

    def post(self, division: str, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = self._call(
            "POST", self.url(division, endpoint), division, endpoint, json=dict(body), headers=WRITE_HEADERS
        )
        if not response.content:
            return {}
        rows, _ = unwrap(self._json(response))
        return rows[0] if rows else {}

    def put(self, division: str, endpoint: str, body: Mapping[str, Any]) -> None:
        self._call("PUT", self.url(division, endpoint), division, endpoint, json=dict(body), headers=WRITE_HEADERS)
