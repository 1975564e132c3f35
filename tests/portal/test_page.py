"""The debtor's page (docs/portal.md#the-page): a live link shows this debtor's open invoices at this creditor and
how to pay them; every broken link gets the same neutral page; guessing and hammering get 429."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from connector import model
from connector import portal as debtor_page
from connector.auth import portal
from connector.storage import repos
from connector.storage.db import transaction
from dashboard import create_app
from tests.portal.conftest import World


@dataclass
class Page:
    world: World
    client: Callable[[str], FlaskClient]  # a browser from one address

    def issue(self, debtor_ref: str = "D1", *, with_code: bool = False) -> portal.IssuedLink:
        with transaction(self.world.rt.sessions) as s:
            adm = repos.get_administration(s, self.world.org_id, self.world.adm_id)
            return portal.issue_link(
                s,
                adm,
                debtor_ref,
                keys=self.world.rt.settings.fernet_keys(),
                base_url=self.world.rt.settings.base_url,
                now=self.world.clock(),
                with_code=with_code,
            )


def _debtor(world: World, ref: str, language: str | None) -> None:
    debtor = model.Debtor(
        provider_ref=ref,
        name=f"Jan {ref}",
        company_name=f"Debtor {ref} BV",
        segment=model.Segment.B2B,
        email=f"{ref.lower()}@debtor.example",
        language=language,
        address=model.Address(line1="Geheimstraat 7", postcode="1012 LG", city="Amsterdam"),
    )
    with transaction(world.rt.sessions) as s:
        repos.upsert_debtors(s, world.org_id, world.adm_id, [debtor], world.clock())


def _invoice(
    world: World, ref: str, debtor_ref: str, amount: str, *, status: str = "open", url: str | None = None
) -> None:
    due = world.clock().date() - timedelta(days=20)
    inv = model.Invoice(
        provider_ref=ref,
        number=f"F-{ref}",
        debtor_ref=debtor_ref,
        invoice_date=due - timedelta(days=30),
        due_date=due,
        currency="EUR",
        total=Decimal(amount),
        open_amount=Decimal(amount if status == "open" else "0"),
        status=model.InvoiceStatus(status),
        provider_state=status,
        payment_url=url,
        reference=f"RF{ref}",
    )
    with transaction(world.rt.sessions) as s:
        repos.upsert_invoices(s, world.org_id, world.adm_id, [inv], world.clock())


@pytest.fixture
def page(any_world: World) -> Iterator[Page]:
    world = any_world
    app = create_app(world.rt.settings, runtime=world.rt, org_id=world.org_id)
    app.config["WTF_CSRF_ENABLED"] = False
    _debtor(world, "D1", "en")
    _debtor(world, "D2", "nl")
    _invoice(world, "I1", "D1", "121.00", url="https://pay.example/inv/1")
    _invoice(world, "I2", "D1", "50.00")
    _invoice(world, "I3", "D1", "70.00", status="paid")
    _invoice(world, "I9", "D2", "999.00")

    def client(address: str = "198.51.100.7") -> FlaskClient:
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = address
        return c

    yield Page(world, client)


def test_a_live_link_shows_this_debtors_open_invoices_and_how_to_pay(page: Page) -> None:
    link = page.issue()
    answer = page.client("198.51.100.7").get(f"/p/{link.token}")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200, body[:500]
    assert "Acme BV" in body, "the creditor's name is missing"
    assert "F-I1" in body and "F-I2" in body, "an open invoice is missing"
    assert "F-I3" not in body, "a paid invoice is shown"
    assert "F-I9" not in body and "999" not in body, "another debtor's invoice is shown"
    assert 'href="https://pay.example/inv/1"' in body, "the package's payment link is missing"
    assert "RFI2" in body, "the payment reference of an invoice without a payment link is missing"
    assert "Your invoices at Acme BV" in body, "not in the debtor's language (English)"
    for private in ("Geheimstraat", "d1@debtor.example", "Jan D1"):
        assert private not in body, f"personal data the page does not need is shown: {private}"
    assert "<script" not in body and "style=" not in body and "onclick" not in body, "inline script or style"
    assert answer.headers["Cache-Control"] == "no-store", "the page may be cached"
    with page.world.rt.sessions() as s:
        [row] = repos.portal_links(s, page.world.org_id, page.world.adm_id, "D1")
    assert row.last_used_at is not None, "the view was not recorded on the link"


def test_the_language_is_the_debtors_and_can_be_switched(page: Page) -> None:
    link = page.issue("D2")
    browser = page.client("198.51.100.8")
    dutch = browser.get(f"/p/{link.token}").get_data(as_text=True)
    assert "Uw facturen bij Acme BV" in dutch, "a Dutch debtor does not get Dutch"
    english = browser.get(f"/p/{link.token}?lang=en").get_data(as_text=True)
    assert "Your invoices at Acme BV" in english, "switching to English did not work"
    assert "Your invoices at Acme BV" in browser.get(f"/p/{link.token}").get_data(as_text=True), "choice not kept"


def test_the_fourteen_day_letters_dates_are_shown(page: Page) -> None:
    link = page.issue()
    sent = page.world.clock().date() - timedelta(days=3)
    with transaction(page.world.rt.sessions) as s:
        repos.record_letter_evidence(
            s,
            page.world.org_id,
            page.world.adm_id,
            debtor_ref="D1",
            invoice_refs=["I2"],
            kind="fourteen_day_letter",
            sent_on=sent,
            channel="email",
            stated_costs_minor=4000,
            currency="EUR",
            sha256="0" * 64,
            printed_term_ends=sent + timedelta(days=16),
        )
    body = page.client("198.51.100.7").get(f"/p/{link.token}?lang=en").get_data(as_text=True)
    end = (sent + timedelta(days=16)).strftime("%-d %b %Y")
    assert "Our letter of" in body and end in body, f"the letter's term end {end} is missing"


def _broken(page: Page, case: str) -> str:
    link = page.issue()
    world = page.world
    if case == "tampered":
        return link.token[:-2] + ("AA" if not link.token.endswith("AA") else "BB")
    if case == "expired":
        world.clock.now += timedelta(days=portal.LINK_DAYS)
        return link.token
    if case == "revoked":
        with transaction(world.rt.sessions) as s:
            repos.revoke_portal_links(s, world.org_id, world.adm_id, "D1")
        return link.token
    if case == "other organisation":
        with transaction(world.rt.sessions) as s:
            other = repos.create_organisation(s, "Other")
        random_part, mac = link.token.split(".")[1:]
        return f"{other}.{random_part}.{mac}"  # our link under another organisation's number
    if case == "unknown":
        token, _ = portal.sign_token(world.rt.settings.fernet_keys(), world.org_id)
        return token  # well signed, never issued
    raise AssertionError(case)


CASES = ["tampered", "expired", "revoked", "other organisation", "unknown", "garbage"]


def test_every_broken_link_gets_the_same_neutral_page_in_both_languages(page: Page) -> None:
    bodies = {}
    for case in CASES:
        token = "not-a-token" if case == "garbage" else _broken(page, case)
        answer = page.client(f"203.0.113.{len(bodies) + 1}").get(f"/p/{token}")
        assert answer.status_code == 404, f"{case}: answered {answer.status_code}"
        body = answer.get_data(as_text=True)
        assert "Acme BV" not in body and "F-I1" not in body, f"{case}: the refusal shows the creditor or invoices"
        assert "This link does not work" in body and "Deze link werkt niet" in body, f"{case}: not in both languages"
        bodies[case] = re.sub(r'name="csrf" value="[^"]*"', "", body)
    assert len(set(bodies.values())) == 1, f"the refusals differ, so they hint which: {sorted(bodies)}"


def test_guessing_from_one_address_gets_429_and_others_are_not_locked_out(page: Page) -> None:
    link = page.issue()
    guesser = page.client("192.0.2.66")
    for attempt in range(debtor_page.MAX_FAILURES_PER_ADDRESS):
        token, _ = portal.sign_token(page.world.rt.settings.fernet_keys(), page.world.org_id)
        assert guesser.get(f"/p/{token}").status_code == 404, f"guess {attempt} was not refused"
    blocked = guesser.get(f"/p/{link.token}")
    assert blocked.status_code == 429, (
        f"after {debtor_page.MAX_FAILURES_PER_ADDRESS} wrong links: {blocked.status_code}"
    )
    assert "Too many tries" in blocked.get_data(as_text=True) and blocked.headers.get("Retry-After")
    assert page.client("192.0.2.67").get(f"/p/{link.token}").status_code == 200, "another address was locked out"
    page.world.clock.now += debtor_page.WINDOW + timedelta(seconds=1)
    assert guesser.get(f"/p/{link.token}").status_code == 200, "the block outlived its window"


def test_one_token_opened_too_often_gets_429(page: Page) -> None:
    link = page.issue()
    for attempt in range(debtor_page.MAX_TRIES_PER_TOKEN):
        answer = page.client(f"10.1.{attempt // 200}.{attempt % 200}").get(f"/p/{link.token}")
        assert answer.status_code == 200, f"open {attempt}: {answer.status_code}"
    assert page.client("10.9.9.9").get(f"/p/{link.token}").status_code == 429, "a token opened without limit"


def test_a_letters_short_code_leads_to_the_page(page: Page) -> None:
    link = page.issue(with_code=True)
    assert link.code is not None
    browser = page.client("198.51.100.9")
    assert browser.get("/p").status_code == 200, "the code form does not open"
    answer = browser.post("/p", data={"code": link.code.lower()})
    assert answer.status_code == 303, f"a good code answered {answer.status_code}"
    target = answer.headers["Location"]
    assert target.startswith("/p/") and target != f"/p/{link.token}", target
    assert "F-I1" in browser.get(target).get_data(as_text=True), "the code's page does not show the invoices"
    wrong = browser.post("/p", data={"code": "ABCDE-FGHJK"})
    assert wrong.status_code == 404 and 'id="error"' in wrong.get_data(as_text=True), "a wrong code was not refused"
