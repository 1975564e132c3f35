"""ConnectionSession against a real HTTP server on 127.0.0.1: retries, Retry-After forms, reauth, error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connector.errors import NotFound, PermanentError, RateLimited, ReauthRequired, TransientError
from connector.http.budget import RateBudget
from connector.http.session import ConnectionSession
from sandboxes.runner import RunningServer, serve_in_thread
from tests.http.fakes import FakeAdapter, ScriptedApi

NOW = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def api() -> Iterator[tuple[ScriptedApi, RunningServer]]:
    scripted = ScriptedApi()
    server = serve_in_thread(scripted.app)
    yield scripted, server
    server.shutdown()


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make(token: str = "tok-1", **kwargs: object) -> tuple[ConnectionSession, Sleeps]:  # noqa: S107
    sleeps = Sleeps()
    session = ConnectionSession(
        FakeAdapter,
        access_token=lambda: token,
        sleep=sleeps,
        clock=lambda: NOW,
        **kwargs,  # type: ignore[arg-type]
    )
    return session, sleeps


@pytest.mark.parametrize(
    ("retry_after", "expected_wait"),
    [
        ("3", 3.0),
        (format_datetime(NOW + timedelta(seconds=10), usegmt=True), 10.0),
        # docs/providers/moneybird.md#rate-limits: absolute UTC epoch
        (str(int((NOW + timedelta(seconds=20)).timestamp())), 20.0),
    ],
    ids=["delta-seconds", "http-date", "absolute-epoch"],
)
def test_429_waits_for_retry_after_then_succeeds(api, retry_after: str, expected_wait: float) -> None:
    scripted, server = api
    scripted.push(429, '"Retry later"', Retry_After=retry_after)
    scripted.push(200, '{"ok": true}')
    session, sleeps = make()
    response = session.request("GET", f"{server.url}/api/things")
    assert response.json() == {"ok": True}
    assert sleeps.calls == [pytest.approx(expected_wait)]
    assert session.calls == 2


def test_retry_after_beyond_cap_raises_rate_limited_without_sleeping_and_parks(api, tmp_path) -> None:
    scripted, server = api
    # docs/providers/xero.md#rate-limits: daily cap
    scripted.push(429, "{}", Retry_After="66975", X_Rate_Limit_Problem="day")
    budget = RateBudget(f"sqlite:///{tmp_path / 'rl.db'}", clock=lambda: NOW)
    session, sleeps = make(budget=budget)
    with pytest.raises(RateLimited) as caught:
        session.request("GET", f"{server.url}/api/things", tenant="t-1")
    assert caught.value.until == NOW + timedelta(seconds=66975)
    assert caught.value.scope == "day"
    assert sleeps.calls == []
    assert session.calls == 1
    assert budget.parked_until(("fake", "t-1")) == NOW + timedelta(seconds=66975)
    # the parked tenant is refused before any request is sent; another tenant is not
    with pytest.raises(RateLimited):
        session.request("GET", f"{server.url}/api/things", tenant="t-1")
    assert session.calls == 1
    session.request("GET", f"{server.url}/api/things", tenant="t-2")
    assert session.calls == 2


def test_5xx_three_times_then_200_succeeds_with_capped_backoff(api) -> None:
    scripted, server = api
    for status in (500, 503, 502):
        scripted.push(status, "oops")
    scripted.push(200, '{"n": 1}')
    session, sleeps = make()
    assert session.request("GET", f"{server.url}/api/x").json() == {"n": 1}
    assert session.calls == 4
    assert len(sleeps.calls) == 3
    assert all(0 < s <= 5.0 for s in sleeps.calls)


def test_5xx_beyond_max_attempts_surfaces_transient_error(api) -> None:
    scripted, server = api
    for _ in range(5):
        scripted.push(503, "maintenance")
    session, sleeps = make(max_attempts=4)
    with pytest.raises(TransientError) as caught:
        session.request("GET", f"{server.url}/api/x")
    assert caught.value.status == 503
    assert session.calls == 4
    assert len(sleeps.calls) == 3


@pytest.mark.parametrize(
    ("status", "error"), [(400, PermanentError), (403, PermanentError), (404, NotFound), (422, PermanentError)]
)
def test_4xx_is_never_retried(api, status: int, error: type[Exception]) -> None:
    scripted, server = api
    scripted.push(status, '{"error": "nope", "access_token": "leaked-secret-value"}')
    session, sleeps = make()
    with pytest.raises(error) as caught:
        session.request("POST", f"{server.url}/api/x", json={"a": 1})
    assert session.calls == 1
    assert sleeps.calls == []
    message = str(caught.value)
    assert str(status) in message and "nope" in message
    assert "leaked-secret-value" not in message


def test_401_calls_on_unauthorized_once_and_resends_with_the_fresh_token(api) -> None:
    scripted, server = api
    scripted.push(401, '{"Detail": "TokenExpired"}')
    scripted.push(200, "{}")
    rejected: list[str] = []

    def refresh(old: str) -> str:
        rejected.append(old)
        return "tok-2"

    session, _ = make(on_unauthorized=refresh)
    session.request("GET", f"{server.url}/api/x")
    assert rejected == ["tok-1"]
    assert [seen["authorization"] for seen in scripted.seen] == ["Bearer tok-1", "Bearer tok-2"]


def test_second_401_raises_reauth_required_without_looping(api) -> None:
    scripted, server = api
    scripted.push(401, "{}")
    scripted.push(401, "{}")
    scripted.push(200, "{}")
    calls: list[str] = []
    session, _ = make(on_unauthorized=lambda old: calls.append(old) or "tok-2")
    with pytest.raises(ReauthRequired):
        session.request("GET", f"{server.url}/api/x")
    assert calls == ["tok-1"]
    assert session.calls == 2


def test_401_without_refresher_is_reauth_required(api) -> None:
    scripted, server = api
    scripted.push(401, "{}")
    session, _ = make()
    with pytest.raises(ReauthRequired):
        session.request("GET", f"{server.url}/api/x")


def test_connection_refused_becomes_transient_after_retries() -> None:
    server = serve_in_thread(ScriptedApi().app)
    url = server.url
    server.shutdown()
    session, sleeps = make(max_attempts=3)
    with pytest.raises(TransientError):
        session.request("GET", f"{url}/api/x")
    assert session.calls == 3
    assert len(sleeps.calls) == 2


def test_repr_never_shows_the_token() -> None:
    session, _ = make(token="super-secret-token")
    assert "super-secret-token" not in repr(session)
