"""The debtor's page end to end against each package's sandbox, over real HTTP (no browser): the personal link from
the real message (our e-mail in the demo's mailbox; Moneybird's own reminder e-mail, which carries our text), then
a dispute of one invoice, an arrangement for two and 'paid' for a third; the sandbox carries the hold note where the
package takes notes (docs/providers/), the worklist shows the tasks ('paid' waiting for its check day), and a rerun
of the day sends nothing for those invoices (docs/portal.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from connector import demo
from connector.auth import portal
from connector.ports import RateLimit
from connector.registry import ADAPTERS
from connector.settings import Settings
from connector.storage import repos

SIZES: dict[str, dict[str, Any]] = {
    "moneybird": {"administrations": 1, "invoices_per_administration": 40, "contacts_per_administration": 6},
    "xero": {"tenants": 1, "invoices_per_tenant": 40, "contacts_per_tenant": 6},
    "exact": {"divisions": 1, "items_per_division": 40, "accounts_per_division": 6},
}
LADDER = {"friendly_reminder", "reminder", "demand_letter", "fourteen_day_letter", "final_notice", "phone_task"}
NOTE_KINDS = {"note", "history"}  # Moneybird and Exact notes, Xero history (docs/providers/*.md#write-back)


@pytest.fixture(params=sorted(SIZES))
def stack(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installation_db: str
) -> Iterator[tuple[str, demo.DemoRun]]:
    provider = request.param
    monkeypatch.setattr(ADAPTERS[provider], "limits", (RateLimit(100_000, 60),))
    settings = Settings(var_dir=tmp_path / "var", database_url=installation_db)
    run = demo.start(settings, providers=[provider], options={provider: {**SIZES[provider], "rate_limits": False}})
    yield provider, run
    run.shutdown()


def _text(message: Any) -> str:
    return "".join(
        part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/plain"
    )


def _links(run: demo.DemoRun) -> dict[str, str]:
    """debtor ref -> the path of the personal link in the newest message to it in the mailbox."""
    base = run.runtime.settings.base_url.rstrip("/")
    keys, now = run.runtime.settings.fernet_keys(), run.runtime.clock()
    found: dict[str, str] = {}
    for message in run.mailbox.messages():
        for token in re.findall(re.escape(base) + r"/p/([\w.-]+)", _text(message)):
            with run.runtime.sessions() as s:
                checked = portal.check_token(s, keys, token, now)
            if checked.link is not None:
                found[checked.link.debtor_ref] = f"/p/{token}"
    return found


def _sandbox_writes(provider: str, run: demo.DemoRun) -> list[dict[str, Any]]:
    sandbox = run.sandboxes[provider].app.extensions["sandbox"]
    return [w for t in sandbox.tenant_ids() for w in sandbox.writes(t)]


def _post(http: requests.Session, url: str, kind: str, invoices: list[str], **fields: str) -> requests.Response:
    form = http.get(url, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    data = {"kind": kind, "invoice": invoices, "csrf": csrf.group(1) if csrf else "", **fields}
    return http.post(url, data=data, timeout=30, allow_redirects=False)


def test_answers_from_the_real_message_reach_the_package_and_stop_the_ladder(
    stack: tuple[str, demo.DemoRun], today: date
) -> None:
    provider, run = stack
    for day in range(0, 15, 7):  # a few days of the ladder: reminders to several debtors
        demo.run_provider(run, provider, today + timedelta(days=day))
    last_run = today + timedelta(days=14)
    links = _links(run)
    assert links, f"{provider}: no message with a personal link in the mailbox"
    with run.runtime.sessions() as s:
        rows = [
            row
            for adm in repos.list_administrations(s, run.org_id)
            for row in repos.get_invoices(s, run.org_id, adm.id, open_only=True)
        ]
    counts = {ref: sum(1 for r in rows if r.debtor_ref == ref and r.open_minor > 0) for ref in links}
    debtor = max(links, key=lambda ref: counts[ref])
    assert counts[debtor] >= 4, f"{provider}: the busiest reminded debtor has {counts[debtor]} open invoices"

    http, url = requests.Session(), f"{run.web.url}{links[debtor]}"
    page = http.get(url, timeout=30)
    assert page.status_code == 200, f"{provider}: the link from the message answers {page.status_code}"
    refs = re.findall(r'name="invoice" value="([^"]+)"', page.text)[:4]
    assert len(refs) == 4, f"{provider}: the page lists {refs}"
    yesterday = (today - timedelta(days=1)).isoformat()  # the page takes answers on the clock's day
    answers = [
        _post(http, url, "dispute", [refs[0]], reason="amount_wrong", message_dispute="Het bedrag klopt niet"),
        _post(http, url, "arrangement", [refs[1], refs[2]], terms="2"),
        _post(http, url, "paid", [refs[3]], paid_on=yesterday, amount="100,00"),
    ]
    assert [a.status_code for a in answers] == [303, 303, 303], f"{provider}: {[a.status_code for a in answers]}"

    from connector import outbox

    outbox.drain(run.runtime, run.org_id)  # what the worker does next: the hold note goes to the package
    notes = [w for w in _sandbox_writes(provider, run) if w["kind"] in NOTE_KINDS and refs[0] in w["invoice_ids"]]
    assert any("dispute" in str(w.get("text", "")).lower() for w in notes), f"{provider}: no hold note: {notes}"

    owner = demo.login(run)
    today_list = owner.get(f"{run.web.url}/worklist?lang=nl", timeout=30).text
    waiting = owner.get(f"{run.web.url}/worklist?tab=snoozed&lang=nl", timeout=30).text
    assert "betwist factuur (portaal)" in today_list, f"{provider}: the dispute is not on today's worklist"
    assert "Betalingsregeling via portaal" in today_list or "betalingsregeling (portaal)" in today_list, provider
    assert "Debiteur meldt betaald op" not in today_list, f"{provider}: 'paid' is on today's list before its check day"
    assert "Debiteur meldt betaald op" in waiting, f"{provider}: 'paid' does not wait on the snoozed tab"

    mails, writes = len(run.mailbox.messages()), len(_sandbox_writes(provider, run))
    with run.runtime.sessions() as s:
        before = {i.id for i in repos.outbox_items(s, run.org_id)}
    demo.run_provider(run, provider, last_run)  # a rerun of the day: sync, checks, rules, outbox
    with run.runtime.sessions() as s:
        new = [i for i in repos.outbox_items(s, run.org_id) if i.id not in before]
    concerned = set(refs)
    sent = [i for i in new if i.action.value in LADDER and concerned & set(i.invoice_refs)]
    assert not sent, f"{provider}: reminders for answered invoices: {[(i.action, i.invoice_refs) for i in sent]}"
    touched = [w for w in _sandbox_writes(provider, run)[writes:] if concerned & set(w.get("invoice_ids", []))]
    assert not touched, f"{provider}: the rerun wrote to the package about answered invoices: {touched}"
    numbers = {r.number for r in rows if r.provider_ref in concerned and r.number}
    mailed = [m["Subject"] for m in run.mailbox.messages()[mails:] if any(n in _text(m) for n in numbers)]
    assert not mailed, f"{provider}: the rerun mailed about answered invoices: {mailed}"
