"""Xero's API limits as the sandbox enforces them: per tenant 60/min, 5 in flight and a daily cap; 10,000/min per app.

Every API response carries ``X-DayLimit-Remaining``, ``X-MinLimit-Remaining`` and ``X-AppMinLimit-Remaining``;
a call over a limit gets 429 with ``Retry-After`` (delta seconds) and ``X-Rate-Limit-Problem``
(docs/providers/xero.md#rate-limits). Limits are configurable so tests can hit them with a handful of calls; the clock
is the sandbox's clock.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class Verdict:
    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


class RateLimiter:
    def __init__(
        self,
        now: Callable[[], datetime],
        *,
        enabled: bool = True,
        minute: int = 60,
        day: int = 5000,
        app_minute: int = 10000,
        concurrent: int = 5,
    ) -> None:
        self.now = now
        self.enabled = enabled
        self.minute, self.day, self.app_minute, self.concurrent = minute, day, app_minute, concurrent
        self._lock = threading.Lock()
        self._minute_calls: dict[str, deque[datetime]] = {}
        self._app_calls: deque[datetime] = deque()
        self._day_calls: dict[tuple[str, str], int] = {}
        self._in_flight: dict[str, int] = {}
        self.max_in_flight_seen = 0

    def acquire(self, tenant: str) -> Verdict:
        """Count one call for ``tenant`` (unless refused); the caller must ``release`` an allowed call."""
        with self._lock:
            now = self.now()
            window = self._minute_calls.setdefault(tenant, deque())
            _expire(window, now)
            _expire(self._app_calls, now)
            day_key = (tenant, now.date().isoformat())
            used_today = self._day_calls.get(day_key, 0)
            problem, retry_after = self._problem(tenant, now, window, used_today)
            if problem is None:
                window.append(now)
                self._app_calls.append(now)
                self._day_calls[day_key] = used_today = used_today + 1
                self._in_flight[tenant] = self._in_flight.get(tenant, 0) + 1
                self.max_in_flight_seen = max(self.max_in_flight_seen, self._in_flight[tenant])
            counted = self.enabled  # limits switched off (tests, benchmarks): the full allowance is always left
            headers = {
                "X-DayLimit-Remaining": str(max(self.day - (used_today if counted else 0), 0)),
                "X-MinLimit-Remaining": str(max(self.minute - (len(window) if counted else 0), 0)),
                "X-AppMinLimit-Remaining": str(max(self.app_minute - (len(self._app_calls) if counted else 0), 0)),
            }
            if problem is not None:
                headers["Retry-After"] = str(retry_after)
                headers["X-Rate-Limit-Problem"] = problem
            return Verdict(problem is None, headers, problem)

    def release(self, tenant: str) -> None:
        with self._lock:
            self._in_flight[tenant] = max(self._in_flight.get(tenant, 0) - 1, 0)

    def _problem(self, tenant: str, now: datetime, window: deque[datetime], used_today: int) -> tuple[str | None, int]:
        if not self.enabled:
            return None, 0
        if used_today >= self.day:
            midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
            return "day", max(math.ceil((midnight - now).total_seconds()), 1)
        if self._in_flight.get(tenant, 0) >= self.concurrent:
            return "concurrent", 1
        if len(window) >= self.minute:
            return "minute", _seconds_until_free(window, now)
        if len(self._app_calls) >= self.app_minute:
            return "appminute", _seconds_until_free(self._app_calls, now)
        return None, 0


def _expire(window: deque[datetime], now: datetime) -> None:
    while window and now - window[0] >= timedelta(seconds=60):
        window.popleft()


def _seconds_until_free(window: deque[datetime], now: datetime) -> int:
    return max(math.ceil(60 - (now - window[0]).total_seconds()), 1)
