"""Exact's rate headers and 429s, and the error-cap circuit breaker (docs/providers/exact.md#rate-limits,
docs/providers/exact.md#error-cap); classification is in the conformance suite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from openapi_core import OpenAPI

from adapters.exact.client import EXACT_ERROR_CAP, BreakerState, ErrorCapBreaker
from adapters.exact.provider import ExactAdapter
from connector.errors import NotFound, PermanentError, RateLimited
from tests.adapters.exact.conftest import Clock, Exact, start

NOW = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "until", "scope"),
    [
        (
            {
                "X-RateLimit-Minutely-Limit": "60",
                "X-RateLimit-Minutely-Remaining": "0",
                "X-RateLimit-Minutely-Reset": "1772442060000",
            },
            datetime(2026, 3, 2, 9, 1, tzinfo=UTC),
            "minute",
        ),
        (
            {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1772496000000"},
            datetime(2026, 3, 3, tzinfo=UTC),
            "day",
        ),
        (
            {
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "1772496000000",
                "X-RateLimit-Minutely-Remaining": "12",
                "X-RateLimit-Minutely-Reset": "1772442060000",
            },
            datetime(2026, 3, 3, tzinfo=UTC),
            "day",
        ),
        ({}, None, "day"),
    ],
)
def test_retry_at_reads_epoch_milliseconds(headers: dict[str, str], until: datetime | None, scope: str) -> None:
    assert ExactAdapter.retry_at(429, headers, NOW) == (until, scope)


def test_rate_observation_per_scope() -> None:
    seen = ExactAdapter.rate_observation(
        {
            "X-RateLimit-Minutely-Remaining": "0",
            "X-RateLimit-Minutely-Reset": "1772442060000",
            "X-RateLimit-Remaining": "4321",
            "X-RateLimit-Reset": "1772496000000",
        },
        NOW,
    )
    assert [(s.scope, s.remaining) for s in seen] == [("minute", 0), ("day", 4321)]
    assert seen[0].reset_at == datetime(2026, 3, 2, 9, 1, tzinfo=UTC)


def test_sandbox_minute_limit_gives_429_with_minutely_headers_only(openapi: OpenAPI, clock: Clock) -> None:
    world = start(openapi, clock, minute_limit=3)
    try:
        adapter = world.adapter()
        tenant = world.state.tenant_ids()[0]
        for _ in range(3):
            adapter.fetch_debtors(tenant, ["00000000-0000-4000-8000-000000000001"])
        with pytest.raises(RateLimited) as caught:  # the session waits up to 60 s; our clock never moves
            adapter.http.max_retry_wait = 0  # type: ignore[attr-defined]
            adapter.fetch_debtors(tenant, ["00000000-0000-4000-8000-000000000001"])
        assert caught.value.scope == "minute"
        assert caught.value.until == datetime(2026, 3, 2, 9, 1, tzinfo=UTC)
        assert ("GET", f"/api/v1/{tenant}/crm/Accounts", 429) in world.state.request_log
        other = world.state.tenant_ids()[1]  # limits are per division
        assert adapter.fetch_debtors(other, ["00000000-0000-4000-8000-000000000001"]) == []
    finally:
        world.running.shutdown()


def test_breaker_opens_well_before_the_cap_and_closes_after_an_hour() -> None:
    clock = Clock(NOW)
    breaker = ErrorCapBreaker(clock=clock)
    for _ in range(4):
        breaker.record_error("d/crm/Accounts", 404)
        breaker.check("d/crm/Accounts")
    breaker.record_error("d/crm/Accounts", 429)  # not a cap status
    breaker.record_error("d/crm/Accounts", 500)
    breaker.check("d/crm/Accounts")
    breaker.record_error("d/crm/Accounts", 400)  # the 5th: open
    with pytest.raises(RateLimited) as caught:
        breaker.check("d/crm/Accounts")
    assert caught.value.scope == "error-cap"
    assert caught.value.until == NOW + timedelta(hours=1)
    breaker.check("d/sync/Cashflow/PaymentTerms")  # per endpoint
    clock.advance(3600)
    breaker.check("d/crm/Accounts")
    assert breaker.errors_in_window("d/crm/Accounts") == 0
    restored = BreakerState.from_json(breaker.state.to_json())
    assert restored == breaker.state
    with pytest.raises(ValueError):
        ErrorCapBreaker(threshold=EXACT_ERROR_CAP)


def test_breaker_stops_the_adapter_before_the_sandbox_blocks(exact: Exact) -> None:
    adapter = exact.adapter()
    tenant = exact.state.tenant_ids()[0]
    errors = 0
    with pytest.raises(RateLimited):
        for _ in range(20):
            try:  # a filter Exact refuses: 400 every time
                adapter.client.get_all(tenant, "sync/Cashflow/PaymentTerms", select=("ID",), filter="Status eq 20")
            except PermanentError:
                errors += 1
    sent = [s for m, p, s in exact.state.request_log if p.endswith("sync/Cashflow/PaymentTerms")]
    assert errors == len(sent) == 5 < EXACT_ERROR_CAP  # the breaker refused the 6th without a request
    assert not exact.state.blocked_until


def test_the_sandbox_blocks_after_ten_errors(exact: Exact) -> None:
    adapter = exact.adapter(breaker=ErrorCapBreaker(threshold=9, clock=exact.clock))
    tenant = exact.state.tenant_ids()[0]
    statuses = []
    for _ in range(11):
        try:
            adapter.client.get_all(tenant, "crm/Accounts", select=("ID",))  # no $filter: 400
        except (PermanentError, RateLimited) as exc:
            statuses.append(getattr(exc, "status", None))
    assert statuses.count(400) == 9  # our breaker (threshold 9) opened before Exact's 11th error
    exact.state.options["error_cap"] = 2  # now let the sandbox block first
    adapter2 = exact.adapter(breaker=ErrorCapBreaker(threshold=9, clock=exact.clock))
    with pytest.raises(PermanentError) as caught:
        adapter2.client.get_all(tenant, "cashflow/Receivables", select=("Nope",))
    for _ in range(2):  # the 3rd error is "more than 2": the endpoint is blocked for an hour
        with pytest.raises(PermanentError):
            adapter2.client.get_all(tenant, "cashflow/Receivables", select=("Nope",))
    with pytest.raises(PermanentError) as blocked:
        adapter2.client.get_all(tenant, "cashflow/Receivables", select=("ID",))
    assert caught.value.status == 400
    assert blocked.value.status == 403
    with pytest.raises(NotFound):
        adapter2.client.get_all(tenant, "nothing/Here", select=("ID",))
    assert "PathNotFound" in exact.violations.pop()  # the OpenAPI check works: this path is not in the spec
