"""Retry-After parsing (three forms) and the capped, jittered backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.http import retry
from connector.http.retry import backoff_seconds, parse_retry_after

NOW = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", NOW + timedelta(seconds=3)),
        ("0", NOW),
        ("-5", NOW),
        ("1.5", NOW + timedelta(seconds=1.5)),
        ("66975", NOW + timedelta(seconds=66975)),
        ("Mon, 02 Mar 2026 09:00:30 GMT", NOW + timedelta(seconds=30)),
        # docs/providers/moneybird.md#rate-limits: absolute epoch
        ("1772442000", datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)),
        ("1609459200", datetime(2021, 1, 1, tzinfo=UTC)),  # the spec's example value
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(header: str | None, expected: datetime | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def test_epoch_threshold_separates_delay_from_instant() -> None:
    assert parse_retry_after("999999999", NOW) == NOW + timedelta(seconds=999_999_999)
    assert parse_retry_after("1000000000", NOW) == datetime.fromtimestamp(1_000_000_000, UTC)


@given(st.integers(min_value=1, max_value=50))
def test_backoff_is_positive_and_capped(attempt: int) -> None:
    wait = backoff_seconds(attempt)
    assert 0 < wait <= retry.BACKOFF_CAP_SECONDS


def test_backoff_grows_exponentially_without_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "add_jitter", lambda seconds: seconds)
    assert [backoff_seconds(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
