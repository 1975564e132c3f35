"""A per-endpoint circuit breaker that stops calling well before Exact's error cap blocks the app.

Sits inside ``client.py`` around every API call. Exact blocks an app key for at least an hour after more than
10 error responses (400/401/403/404) per app/user/division/endpoint within an hour (exact.md, Key numbers and
§7), and the block escalates. We count those errors per ``(site, division, endpoint)`` in a sliding hour and
refuse further calls for an hour once ``threshold`` (default 5) is reached, raising ``RateLimited`` with
scope ``error-cap`` so the core parks the job instead of burning the key. The state is a small serialisable
object so the core may persist it; by default one in-memory state is shared by the whole process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

from connector.errors import RateLimited

log = structlog.get_logger(__name__)

CAP_STATUSES = frozenset({400, 401, 403, 404})  # exact.md §7: these count toward the hourly error cap
EXACT_ERROR_CAP = 10  # exact.md Key numbers: more than 10 per hour blocks the key
WINDOW = timedelta(hours=1)


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
        clock: Callable[[], datetime] = _utcnow,
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
