"""The wait policy of ``ConnectionSession``: Retry-After parsing, capped exponential backoff, tenacity wiring.

Sits between an adapter's ``classify``/``retry_at`` verdict and the next attempt. ``Retry-After`` arrives in
three forms (docs/architecture.md#retries-and-retry-after): delta seconds (Xero), an HTTP date, and Moneybird's absolute
UTC epoch (docs/providers/moneybird.md#rate-limits); values of at least ``1e9`` are read as an absolute epoch.
``build_retrying`` builds a fresh ``tenacity.Retrying`` per call from the session's settings (never a decorator frozen
at import), and jitter lives in ``add_jitter`` alone so tests can pin it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import NoReturn

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from connector.errors import TransientError

log = structlog.get_logger(__name__)

# a Retry-After this large is a UTC epoch, not a delay (docs/providers/moneybird.md#rate-limits)
ABSOLUTE_EPOCH_THRESHOLD = 1e9
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 5.0

_random = random.SystemRandom()


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """The instant a ``Retry-After`` header points at (UTC), or ``None`` when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if math.isfinite(number):
        if number >= ABSOLUTE_EPOCH_THRESHOLD:
            return datetime.fromtimestamp(number, UTC)
        return now + timedelta(seconds=max(0.0, number))
    try:
        instant = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def seconds_until(instant: datetime, now: datetime) -> float:
    return max(0.0, (instant - now).total_seconds())


def add_jitter(seconds: float) -> float:
    """Spread retries of many workers: a random point in the upper half of the computed wait."""
    return seconds * _random.uniform(0.5, 1.0)


def backoff_seconds(attempt: int) -> float:
    """Capped exponential backoff for attempt ``attempt`` (1-based): 0.5, 1, 2, 4, 5, 5, ... seconds, jittered."""
    raw = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** max(0, attempt - 1)))
    return add_jitter(raw)


class RetrySignal(Exception):
    """Raised inside an attempt to ask for another one; ``delay`` overrides the backoff (Retry-After)."""

    def __init__(self, error: TransientError, delay: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay


def _wait(retry_state: RetryCallState) -> float:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    if isinstance(error, RetrySignal) and error.delay is not None:
        return max(0.0, error.delay)
    return backoff_seconds(retry_state.attempt_number)


def _raise_final_error(retry_state: RetryCallState) -> NoReturn:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    if isinstance(error, RetrySignal):
        raise error.error from error.error.__cause__
    if error is not None:
        raise error
    raise TransientError("retries exhausted")  # pragma: no cover - tenacity always has an outcome here


def _log_retry(retry_state: RetryCallState) -> None:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    wait = retry_state.next_action.sleep if retry_state.next_action is not None else None
    log.info("http.retry", attempt=retry_state.attempt_number, wait_seconds=wait, reason=str(error))


def build_retrying(max_attempts: int, sleep: Callable[[float], None]) -> Retrying:
    """A fresh retry controller: retries only ``RetrySignal``, then re-raises the underlying error."""
    return Retrying(
        stop=stop_after_attempt(max(1, max_attempts)),
        retry=retry_if_exception_type(RetrySignal),
        wait=_wait,
        sleep=sleep,
        before_sleep=_log_retry,
        retry_error_callback=_raise_final_error,
        reraise=False,
    )
