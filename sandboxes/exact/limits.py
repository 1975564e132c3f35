"""Rate limits and the error cap of the Exact sandbox (docs/providers/exact.md#rate-limits,
docs/providers/exact.md#error-cap).

Part of the emulator only. Per division: ``minute_limit`` calls per fixed whole minute and ``day_limit`` per UTC
day, reported in ``X-RateLimit-Minutely-{Limit,Remaining,Reset}`` and ``X-RateLimit-{Limit,Remaining,Reset}``
with resets in epoch milliseconds; a minutely 429 carries only the minutely headers, a daily one only the daily
headers. More than ``error_cap`` (10) answers of 400/401/403/404 per division and endpoint within an hour block
that endpoint for an hour (the sandbox answers 403 with ``Reason: ErrorCapExceeded``, our assumption).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response

from sandboxes.exact.render import error_response
from sandboxes.exact.state import ExactState

CAP_STATUSES = frozenset({400, 401, 403, 404})


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _headers(state: ExactState, division: str, *, minute: bool, day: bool) -> dict[str, str]:
    now = state.now()
    minute_no = int(now.timestamp() // 60)
    headers: dict[str, str] = {}
    if minute:
        limit = int(state.options.get("minute_limit", 60))
        used = state.minute_counts.get((division, minute_no), 0)
        headers |= {
            "X-RateLimit-Minutely-Limit": str(limit),
            "X-RateLimit-Minutely-Remaining": str(max(0, limit - used)),
            "X-RateLimit-Minutely-Reset": str((minute_no + 1) * 60_000),
        }
    if day:
        limit = int(state.options.get("day_limit", 5000))
        used = state.day_counts.get((division, now.date().isoformat()), 0)
        midnight = datetime(now.year, now.month, now.day, tzinfo=now.tzinfo) + timedelta(days=1)
        headers |= {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - used)),
            "X-RateLimit-Reset": _ms(midnight),
        }
    return headers


def _cap_key(division: str, endpoint: str) -> str:
    return f"{division}/{endpoint}"


def check_limits(state: ExactState, division: str, endpoint: str) -> Response | None:
    """A 429/403 response when the call is refused, else ``None`` (and the call is counted)."""
    now = state.now()
    blocked = state.blocked_until.get(_cap_key(division, endpoint))
    if blocked is not None and blocked > now:
        return error_response(
            403, "Too many errors: this API key is blocked for this endpoint.", {"Reason": "ErrorCapExceeded"}
        )
    if division == "current" or not state.options.get("rate_limits", True):
        return None
    minute_key = (division, int(now.timestamp() // 60))
    day_key = (division, now.date().isoformat())
    if state.minute_counts.get(minute_key, 0) >= int(state.options.get("minute_limit", 60)):
        return error_response(
            429, "Too many requests: minutely limit exceeded.", _headers(state, division, minute=True, day=False)
        )
    if state.day_counts.get(day_key, 0) >= int(state.options.get("day_limit", 5000)):
        return error_response(
            429, "Too many requests: daily limit exceeded.", _headers(state, division, minute=False, day=True)
        )
    state.minute_counts[minute_key] = state.minute_counts.get(minute_key, 0) + 1
    state.day_counts[day_key] = state.day_counts.get(day_key, 0) + 1
    return None


def record_status(state: ExactState, division: str, endpoint: str, response: Response) -> None:
    """Add the rate headers to a counted answer and count cap-relevant errors."""
    if response.status_code != 429 and division != "current" and state.options.get("rate_limits", True):
        response.headers.update(_headers(state, division, minute=True, day=True))
    if response.status_code not in CAP_STATUSES or response.headers.get("Reason") == "ErrorCapExceeded":
        return
    now = state.now()
    key = _cap_key(division, endpoint)
    recent = [t for t in state.errors.get(key, []) if now - t < timedelta(hours=1)] + [now]
    state.errors[key] = recent
    if len(recent) > int(state.options.get("error_cap", 10)):
        state.blocked_until[key] = now + timedelta(hours=1)
