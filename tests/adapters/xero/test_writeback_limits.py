"""Xero write-back (History notes, credit-stop group, online invoice) and failure handling: limits, revocation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from adapters.xero.provider import XeroAdapter
from connector.errors import NotSupported, RateLimited, ReauthRequired
from connector.model import ReminderWrite, WriteAction
from sandboxes.runner import RunningServer
from sandboxes.xero.state import XeroSandbox
from tests.adapters.xero.conftest import SettableClock, connect, make_config, no_known


def reminder(
    action: WriteAction, debtor: str, invoices: list[str], key: str = "conn-1:inv:2:2026-03-10", text: str = ""
) -> ReminderWrite:
    return ReminderWrite(
        action=action,
        debtor_ref=debtor,
        invoice_refs=invoices,
        level=2,
        level_name="second",
        text=text,
        idempotency_key=key,
    )


def test_history_note_once_per_key(adapter: XeroAdapter, sandbox: XeroSandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    invoice = sandbox.open_invoice_ids(tenant)[0]
    debtor = sandbox.org(tenant).invoices[invoice]["ContactID"]
    write = reminder(WriteAction.NOTE, debtor, [invoice], text="Reminder 2 sent 2026-03-10 (stage: second)")
    first = adapter.write_reminder_status(tenant, write)
    assert first.ok
    assert not first.already_done
    assert first.api_calls == 2  # read History, then PUT
    again = adapter.write_reminder_status(tenant, write)
    assert again.already_done
    assert again.api_calls == 1
    notes = [w for w in sandbox.writes(tenant) if w["kind"] == "history"]
    assert len(notes) == 1
    assert notes[0]["invoice_ids"] == [invoice]
    assert notes[0]["text"].startswith("Reminder 2 sent")
    assert len(notes[0]["text"]) <= 250
    other = adapter.write_reminder_status(tenant, reminder(WriteAction.NOTE, debtor, [invoice], key="other"))
    assert not other.already_done
    assert len(sandbox.writes(tenant)) == 2


def test_long_text_is_cut_to_250(adapter: XeroAdapter, sandbox: XeroSandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    invoice = sandbox.open_invoice_ids(tenant)[0]
    adapter.write_reminder_status(tenant, reminder(WriteAction.NOTE, "x", [invoice], text="x" * 3000))
    assert len(sandbox.writes(tenant)[-1]["text"]) == 250


def test_credit_stop_group(adapter: XeroAdapter, sandbox: XeroSandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    debtor = next(iter(sandbox.org(tenant).contacts))
    hold = adapter.write_reminder_status(tenant, reminder(WriteAction.CREDIT_HOLD, debtor, []))
    assert hold.ok
    assert not hold.already_done
    group = next(g for g in sandbox.org(tenant).groups.values() if g["Name"] == "Credit stop")
    assert group["contact_ids"] == [debtor]
    assert adapter.write_reminder_status(tenant, reminder(WriteAction.CREDIT_HOLD, debtor, [])).already_done
    [synced] = adapter.fetch_debtors(tenant, [debtor])
    assert synced.blocked
    release = adapter.write_reminder_status(tenant, reminder(WriteAction.CREDIT_RELEASE, debtor, []))
    assert release.ok
    assert not release.already_done
    assert group["contact_ids"] == []
    assert adapter.write_reminder_status(tenant, reminder(WriteAction.CREDIT_RELEASE, debtor, [])).already_done
    kinds = [(w["kind"], w["action"]) for w in sandbox.writes(tenant)]
    assert kinds == [("contact_group", "create"), ("contact_group", "add"), ("contact_group", "remove")]


def test_unsupported_actions(adapter: XeroAdapter, sandbox: XeroSandbox) -> None:
    with pytest.raises(NotSupported):
        adapter.write_reminder_status(sandbox.tenant_ids()[0], reminder(WriteAction.SEND_REMINDER, "x", []))
    with pytest.raises(NotSupported):
        adapter.register_webhook(sandbox.tenant_ids()[0], "https://example.invalid/")


def test_online_invoice_url(adapter: XeroAdapter, sandbox: XeroSandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    url = adapter.online_invoice_url(tenant, sandbox.open_invoice_ids(tenant)[0])
    assert url is not None
    assert url.startswith("https://in.xero.com/")


@pytest.mark.parametrize(
    ("headers", "seconds", "scope"),
    [
        ({"Retry-After": "3", "X-Rate-Limit-Problem": "minute"}, 3, "minute"),
        ({"retry-after": "66975", "x-rate-limit-problem": "day"}, 66975, "day"),
        ({"Retry-After": "1", "X-Rate-Limit-Problem": "concurrent"}, 1, "concurrent"),
        ({"Retry-After": "20", "X-Rate-Limit-Problem": "AppMinute"}, 20, "app"),
        ({}, 60, "minute"),
    ],
)
def test_retry_at(headers: dict[str, str], seconds: int, scope: str) -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    until, got_scope = XeroAdapter.retry_at(429, headers, now)
    assert until is not None
    assert (until - now).total_seconds() == seconds
    assert got_scope == scope


def _limited(
    serve: Callable[..., RunningServer], clock: SettableClock, sleeps: list[float], **limits: int
) -> tuple[XeroAdapter, XeroSandbox]:
    server = serve(tenants=2, **limits)
    sandbox: XeroSandbox = server.app.extensions["sandbox"]
    config = make_config(server.url)
    tokens = connect(config, clock)
    from connector.http.session import ConnectionSession

    session = ConnectionSession(
        XeroAdapter,
        access_token=lambda: tokens.access_token,
        session=requests.Session(),
        clock=clock,
        sleep=sleeps.append,
        max_retry_wait=60,
    )
    return XeroAdapter(session, config, clock=clock), sandbox


def test_minute_limit_waits_retry_after(serve: Callable[..., RunningServer], clock: SettableClock) -> None:
    sleeps: list[float] = []
    adapter, sandbox = _limited(serve, clock, sleeps, minute_limit=2)
    tenant = sandbox.tenant_ids()[0]
    adapter.reminder_settings(tenant)
    adapter.reminder_settings(tenant)
    clock.advance(seconds=45)
    with pytest.raises(RateLimited):  # the sandbox clock does not move while we "sleep": retries exhaust
        adapter.reminder_settings(tenant)
    assert sleeps
    assert all(0 < s <= 15 for s in sleeps)  # Retry-After = the rest of the minute window
    assert ("GET", "/api.xro/2.0/InvoiceReminders/Settings", 429) in sandbox.request_log
    clock.advance(seconds=16)
    assert adapter.reminder_settings(tenant).active is False


def test_daily_limit_raises_day_scope_without_sleeping(
    serve: Callable[..., RunningServer], clock: SettableClock
) -> None:
    sleeps: list[float] = []
    adapter, sandbox = _limited(serve, clock, sleeps, day_limit=3)
    first, second = sandbox.tenant_ids()[:2]
    for _ in range(3):
        adapter.reminder_settings(first)
    with pytest.raises(RateLimited) as caught:
        adapter.reminder_settings(first)
    assert caught.value.scope == "day"
    assert sleeps == []
    assert caught.value.until == datetime(2026, 3, 11, tzinfo=UTC)  # noon + Retry-After 43200 s
    assert adapter.reminder_settings(second).active is True  # only that tenant is out of calls


def test_rate_headers_and_concurrency(server: RunningServer, sandbox: XeroSandbox, tokens: object) -> None:
    headers = {
        "Authorization": f"Bearer {tokens.access_token}",  # type: ignore[attr-defined]
        "xero-tenant-id": sandbox.tenant_ids()[0],
    }
    response = requests.get(f"{server.url}/api.xro/2.0/Organisation", headers=headers, timeout=5)
    assert response.headers["X-MinLimit-Remaining"] == "59"
    assert response.headers["X-DayLimit-Remaining"] == "4999"
    assert response.headers["X-AppMinLimit-Remaining"] == "9999"
    limiter = sandbox.limiter
    for _ in range(5):
        assert limiter.acquire("t").allowed
    refused = limiter.acquire("t")
    assert not refused.allowed
    assert refused.headers["X-Rate-Limit-Problem"] == "concurrent"
    limiter.release("t")
    assert limiter.acquire("t").allowed


def test_revoked_connection_needs_reauth(
    adapter: XeroAdapter, sandbox: XeroSandbox, tokens: object, server: RunningServer
) -> None:
    tenant = sandbox.tenant_ids()[0]
    connection = next(c for c in sandbox.connections.values() if c["tenantId"] == tenant)
    response = requests.delete(
        f"{server.url}/connections/{connection['id']}",
        timeout=5,
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    )  # type: ignore[attr-defined]
    assert response.status_code == 204
    with pytest.raises(ReauthRequired):
        list(adapter.iter_invoice_pages(tenant, None, no_known))
    assert [t.provider_tenant_id for t in adapter.list_tenants()] == sandbox.tenant_ids()[1:]


def test_part_payment_register_rules(sandbox: XeroSandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    invoice = sandbox.create_invoice(tenant, total=Decimal("100.00"))
    sandbox.register_payment(tenant, invoice, Decimal("40.00"))
    with pytest.raises(Exception, match="exceeds"):
        sandbox.register_payment(tenant, invoice, Decimal("60.01"))
    sandbox.register_payment(tenant, invoice, Decimal("60.00"))
    assert sandbox.org(tenant).invoices[invoice]["Status"] == "PAID"
    assert invoice not in sandbox.open_invoice_ids(tenant)


def test_the_budget_learns_from_xeros_headers(server: RunningServer, sandbox: XeroSandbox, tokens: object) -> None:
    """docs/providers/xero.md#rate-limits: X-MinLimit-Remaining: 0 parks the tenant for the minute; the other tenant is
    unaffected."""
    from connector.http.budget import RateBudget

    seen = XeroAdapter.rate_observation(
        {"X-MinLimit-Remaining": "0", "X-DayLimit-Remaining": "4000", "X-AppMinLimit-Remaining": "9000"},
        datetime(2027, 1, 31, 23, 59, 30, tzinfo=UTC),
    )
    assert [(o.scope, o.remaining) for o in seen] == [("minute", 0), ("day", 4000), ("app", 9000)]
    budget = RateBudget("memory://", max_wait=0)
    budget.observe(XeroAdapter, "t1", {"X-MinLimit-Remaining": "0"})
    assert budget.parked_until(("xero", "t1")) is not None
    assert budget.parked_until(("xero", "t2")) is None
    with pytest.raises(RateLimited):
        budget.acquire(XeroAdapter, "t1")
    budget.observe(XeroAdapter, "t2", {"X-MinLimit-Remaining": "12", "X-DayLimit-Remaining": "0"})
    assert budget.parked_until(("xero", "t2")) is None  # day reset unknown here: the 429's Retry-After parks it


def test_at_most_five_requests_in_flight_per_tenant() -> None:
    """The sandbox answers 429 'concurrent' beyond 5; our session never lets a 6th request start."""
    import threading
    import time

    from connector.http.session import in_flight_slot

    active, peak, lock = [0], [0], threading.Lock()

    def call() -> None:
        with in_flight_slot(XeroAdapter, "tenant-a"):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.05)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=call) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert XeroAdapter.max_in_flight == 5
    assert 2 <= peak[0] <= 5  # never a 6th; not serialised to 1
