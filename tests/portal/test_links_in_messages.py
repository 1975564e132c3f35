"""Every e-mail and letter carries the debtor's personal link (docs/portal.md#links): e-mails the link, letters
also the short code, the page to type it on and a QR code; a message without a link shows none of it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from connector import demo
from connector.auth import portal
from connector.channels.context import MessageKind
from connector.channels.email import render_email
from connector.channels.letters import render_letter
from connector.ports import RateLimit
from connector.registry import ADAPTERS
from connector.settings import Settings
from tests.channels.factories import fourteen_day_context

URL = "https://pay.example.nl/p/1.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuv"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_letter_prints_the_link_the_code_and_a_qr_code(language: str) -> None:
    ctx = fourteen_day_context(
        language, portal_url=URL, portal_code="ABCDE-FGHJK", portal_entry="https://pay.example.nl/p"
    )
    letter = render_letter(MessageKind.FOURTEEN_DAY_LETTER, ctx)
    assert URL in letter.text and "ABCDE-FGHJK" in letter.text and "https://pay.example.nl/p " in letter.text
    assert f"[qr] {URL}" in letter.text, "the QR markup is in the letter's text"
    plain = render_letter(MessageKind.FOURTEEN_DAY_LETTER, fourteen_day_context(language))
    assert len(letter.pdf) > len(plain.pdf) + 500, "the QR code is drawn into the PDF"
    assert "[qr]" not in plain.text and "/p/" not in plain.text, "no link: nothing about the page"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_an_email_carries_the_link_and_never_the_letters_markup(language: str) -> None:
    ctx = fourteen_day_context(language, portal_url=URL)
    rendered = render_email(MessageKind.FOURTEEN_DAY_LETTER, ctx)
    assert URL in rendered.text and f'href="{URL}"' in rendered.html
    assert "[qr]" not in rendered.text


SIZES = {
    "moneybird": {"administrations": 1, "invoices_per_administration": 20, "contacts_per_administration": 6},
    "xero": {"tenants": 1, "invoices_per_tenant": 20, "contacts_per_tenant": 6, "rate_limits": False},
    "exact": {"divisions": 1, "items_per_division": 20, "accounts_per_division": 6, "rate_limits": False},
}
SIZES["moneybird"]["rate_limits"] = False


@pytest.fixture(params=sorted(SIZES))
def own_stack(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installation_db: str
) -> Iterator[tuple[str, demo.DemoRun]]:
    provider = request.param
    monkeypatch.setattr(ADAPTERS[provider], "limits", (RateLimit(100_000, 60),))
    settings = Settings(var_dir=tmp_path / "var", database_url=installation_db)
    run = demo.start(settings, providers=[provider], options={provider: SIZES[provider]})
    yield provider, run
    run.shutdown()


def test_every_reminder_email_in_the_mailbox_carries_a_working_link(
    own_stack: tuple[str, demo.DemoRun], today: date
) -> None:
    provider, run = own_stack
    demo.run_provider(run, provider, today)
    demo.run_provider(run, provider, today + timedelta(days=1))
    base = run.runtime.settings.base_url.rstrip("/")  # the demo's dashboard
    messages = run.mailbox.messages()
    assert messages, f"{provider}: no e-mail went out"
    tokens = []
    for message in messages:
        text = next(
            part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/plain"
        )
        found = re.findall(re.escape(base) + r"/p/([\w.-]+)", text)
        assert found, f"{provider}: {message['Subject']!r} carries no personal link: {text}"
        tokens.append(found[0])
    keys, now = run.runtime.settings.fernet_keys(), run.runtime.clock()
    with run.runtime.sessions() as s:
        checked = {t: portal.check_token(s, keys, t, now) for t in set(tokens)}
        states = {c.state for c in checked.values()}
        messages_of = {c.link.outbox_key for c in checked.values() if c.link is not None}
    assert states == {portal.LinkState.OK}, states
    # each reminder brings its own link (Moneybird mails one reminder per workflow of the debtor's invoices)
    assert len(messages_of) == len(checked), f"{provider}: {len(checked)} links for {len(messages_of)} messages"
