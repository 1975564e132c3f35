"""A reminder Moneybird sends itself (``send_reminders``) carries the debtor's personal link in the text we give it,
in the debtor's language, and a retry after a crash between our note and the send sends it once, with the same link
(docs/portal.md#links)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from adapters.moneybird.client import MoneybirdClient
from connector import decide, demo, outbox, sync
from connector.auth import portal
from connector.errors import TransientError
from connector.storage import repos
from connector.storage.db import transaction

SENTENCE = {
    "nl": "kan op uw persoonlijke pagina",
    "en": "on your personal page",
}


def _reminders(run: demo.DemoRun) -> list[dict[str, Any]]:
    sandbox = run.sandboxes["moneybird"].app.extensions["sandbox"]
    return [w for t in sandbox.tenant_ids() for w in sandbox.writes(t) if w["kind"] == "reminder"]


def _tokens(run: demo.DemoRun, text: str) -> list[str]:
    return re.findall(re.escape(run.runtime.settings.base_url.rstrip("/")) + r"/p/([\w.-]+)", text)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_crash_before_send_reminders_sends_once_with_the_same_link(
    stack: demo.DemoRun, today: date, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    rt = stack.runtime
    sync.sync_connection(rt, stack.org_id, demo.connect(stack, "moneybird"))
    with transaction(rt.sessions) as s:
        for adm in repos.list_administrations(s, stack.org_id):
            adm.safe_mode = False
            for debtor in repos.get_debtors(s, stack.org_id, adm.id).values():
                debtor.language = language
    decide.run_dunning(rt, stack.org_id, today)
    original, crashed = MoneybirdClient.post, {"n": 0}

    def crash_once(self: MoneybirdClient, tenant: str, path: str, body: Any, expect: type = dict) -> Any:
        if path.startswith("sales_invoices/send_reminders") and not crashed["n"]:
            crashed["n"] += 1  # our marker note is on the invoices; the reminder never reached Moneybird
            raise TransientError("connection reset before send_reminders answered")
        return original(self, tenant, path, body, expect)

    monkeypatch.setattr(MoneybirdClient, "post", crash_once)
    first = outbox.drain(rt, stack.org_id)
    assert crashed["n"] == 1 and first.retry_later == 1, first
    assert len(_reminders(stack)) == first.done, "the crashed item sent nothing"
    links_before = _links_of_messages(stack)
    outbox.drain(rt, stack.org_id, now=rt.clock() + timedelta(hours=1))  # its back-off is over
    with rt.sessions() as s:
        items = {i.idempotency_key: i for i in repos.outbox_items(s, stack.org_id)}
    reminders = _reminders(stack)
    reminded = [i for w in reminders for i in w["invoice_ids"]]
    assert len(reminded) == len(set(reminded)), "an invoice was reminded twice"
    assert reminders and all(w["text"] for w in reminders), "a reminder went out with Moneybird's own text"
    for w in reminders:
        assert SENTENCE[language] in w["text"], f"not in {language}: {w['text']}"
        assert len(_tokens(stack, w["text"])) == 1, f"no personal link: {w['text']}"
    links = _links_of_messages(stack)
    assert all(len(found) == 1 for found in links.values()), f"a message issued several links: {links}"
    assert {k: v for k, v in links.items() if k in links_before} == links_before, "the retry changed a link"
    keys = rt.settings.fernet_keys()
    with rt.sessions() as s:
        for w in reminders:
            checked = portal.check_token(s, keys, _tokens(stack, w["text"])[0], rt.clock())
            assert checked.state is portal.LinkState.OK and checked.link is not None
            assert items[checked.link.outbox_key or ""].status.value == "done"


def _links_of_messages(run: demo.DemoRun) -> dict[str, list[int]]:
    """The portal links issued per message (outbox idempotency key)."""
    rt = run.runtime
    found: dict[str, list[int]] = {}
    with rt.sessions() as s:
        for adm in repos.list_administrations(s, run.org_id):
            for debtor in repos.get_debtors(s, run.org_id, adm.id).values():
                for link in repos.portal_links(s, run.org_id, adm.id, debtor.provider_ref):
                    found.setdefault(link.outbox_key or "", []).append(link.id)
    return found
