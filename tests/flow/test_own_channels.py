"""Providers that cannot send reminders (Xero, Exact): our e-mail channel sends over real SMTP, exactly once,
and the step is written back to the package; a rerun sends nothing new."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from connector import demo, outbox
from connector.ports import RateLimit
from connector.registry import ADAPTERS
from connector.settings import Settings
from connector.storage import repos, tables

SIZES = {
    "xero": {"tenants": 1, "invoices_per_tenant": 30, "contacts_per_tenant": 8, "rate_limits": False},
    "exact": {"divisions": 1, "items_per_division": 30, "accounts_per_division": 8, "rate_limits": False},
}


@pytest.fixture(params=sorted(SIZES))
def own_stack(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installation_db: str
) -> Iterator[tuple[str, demo.DemoRun]]:
    provider = request.param
    # what is under test is the channel, not the 60-calls-a-minute budget (tested in tests/http)
    monkeypatch.setattr(ADAPTERS[provider], "limits", (RateLimit(100_000, 60),))
    settings = Settings(var_dir=tmp_path / "var", database_url=installation_db)
    run = demo.start(settings, providers=[provider], options={provider: SIZES[provider]})
    yield provider, run
    run.shutdown()


def test_own_email_channel_sends_once_and_writes_back(own_stack: tuple[str, demo.DemoRun], today: date) -> None:
    provider, run = own_stack
    tomorrow = today + timedelta(days=1)
    first = demo.run_provider(run, provider, today)  # overdue invoices: the lapsed pre-due notice is recorded
    assert first["decisions"] > 0
    demo.run_provider(run, provider, tomorrow)  # the first overdue reminders go out
    with run.runtime.sessions() as s:
        items = repos.outbox_items(s, run.org_id)
    delivered = [i for i in items if i.payload.delivered and i.payload.delivered.channel == "email"]
    assert delivered, (
        f"no item went out through our e-mail channel: {[(i.action, i.status, i.last_error) for i in items]}"
    )
    messages = run.mailbox.messages()
    ids = [m["Message-ID"] for m in messages]
    assert len(ids) == len(set(ids)), "a message was e-mailed twice"
    assert {i.payload.delivered.message_id for i in delivered} <= set(ids)
    sent_subjects = {m["Subject"] for m in messages}
    assert all(subject for subject in sent_subjects)
    done = [i for i in delivered if i.status == "done"]
    assert done, "no e-mailed step was written back"
    sandbox = run.sandboxes[provider].app.extensions["sandbox"]
    written = [w for t in sandbox.tenant_ids() for w in sandbox.writes(t)]
    assert written, "the package received no note/history for the steps we sent"
    with run.runtime.sessions() as s:
        moments = s.query(tables.ContactMoment).filter_by(org_id=run.org_id).count()
    assert moments >= len(delivered)
    before = len(messages)
    outbox.drain(run.runtime, run.org_id)
    again = demo.run_provider(run, provider, tomorrow)
    assert again["decisions"] == 0
    assert len(run.mailbox.messages()) == before, "a rerun e-mailed again"
