"""Moneybird sandbox: the rate limit of 150 requests per 5 minutes per access token
(docs/providers/moneybird.md#rate-limits).

The gate in ``app.py`` asks ``RateLimiter.admit`` before every ``/api/v2`` call; a refused call gets 429 with
Moneybird's ``RateLimit-*`` headers and a ``Retry-After`` that is an absolute epoch time, not a delay.
"""

from __future__ import annotations


class RateLimiter:
    """Fixed window per access token (docs/providers/moneybird.md#rate-limits: 150 requests / 5 minutes)."""

    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.windows: dict[str, tuple[int, int]] = {}

    def admit(self, token: str, now: int) -> dict[str, str] | None:
        """Count one request; return the 429 headers when the window is exhausted, else None."""
        start, count = self.windows.get(token, (now, 0))
        if now >= start + self.window_seconds:
            start, count = now, 0
        if count >= self.limit:
            reset = start + self.window_seconds
            # docs/providers/moneybird.md#rate-limits: Retry-After is the ABSOLUTE reset time in UTC epoch seconds, not
            # delta-seconds
            return {
                "RateLimit-Limit": str(self.limit),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "Retry-After": str(reset),
            }
        self.windows[token] = (start, count + 1)
        return None
