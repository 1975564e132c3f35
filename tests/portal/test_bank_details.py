"""Paying by transfer (docs/portal.md#paying): where an invoice has no payment link, the debtor's page shows the
creditor's account (holder, IBAN in groups of four, BIC) beside the payment reference, the very account the
letters and e-mails name; without an account it says "the account on the invoice". The owner sets the account per
administration, with the IBAN checked by mod 97 and a clear error next to the field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connector import accounts
from connector.channels.context import MessageKind
from connector.channels.email import render_email
from connector.model import bank
from connector.model.bank import BankDetails, BankProblem, InvalidBankDetails
from connector.model.outbox import OutboxAction, OutboxChannel, OutboxItem, OutboxStatus
from connector.outbox.deliver import message_context
from connector.storage import repos
from connector.storage.db import transaction
from dashboard import create_app
from tests.portal.conftest import World
from tests.portal.test_page import Page, _debtor, _invoice

ACCOUNT = BankDetails(holder="Acme Incasso BV", iban="NL91ABNA0417164300", bic="ABNANL2A")

IBANS = [  # (typed, problem or None)
    ("NL91ABNA0417164300", None),
    ("nl91 abna 0417 1643 00", None),  # lower case, spaces: compacted
    ("NL91-ABNA-0417-1643-00", None),
    ("GB82 WEST 1234 5698 7654 32", None),
    ("DE89 3704 0044 0532 0130 00", None),
    ("BE68 5390 0754 7034", None),
    ("NL92ABNA0417164300", BankProblem.IBAN_CHECK),  # one check digit off
    ("NL91ABNA0417164301", BankProblem.IBAN_CHECK),  # one account digit off
    ("NL91ABNA041716430", BankProblem.IBAN_CHECK),  # a digit missing
    ("", BankProblem.IBAN_SHAPE),
    ("0417164300", BankProblem.IBAN_SHAPE),  # a bare account number
    ("NLXXABNA0417164300", BankProblem.IBAN_SHAPE),
    ("NL91 ABNA 0417 1643 00 1234 5678 9012 3456 7", BankProblem.IBAN_SHAPE),  # longer than 34
]


@pytest.mark.parametrize(("typed", "problem"), IBANS)
def test_an_iban_is_checked_by_its_shape_and_mod_97(typed: str, problem: BankProblem | None) -> None:
    assert bank.iban_problem(typed) == problem, f"{typed!r}: expected {problem}"


PARSED = [  # (holder, iban, bic) -> problems by field
    (("Acme BV", "NL91ABNA0417164300", ""), {}),
    (("Acme BV", "NL91ABNA0417164300", "abnanl2a"), {}),
    (("Acme BV", "NL91ABNA0417164300", "ABNANL2AXXX"), {}),
    (("  ", "NL91ABNA0417164300", ""), {"holder": BankProblem.HOLDER}),
    (("Acme BV", "NL92ABNA0417164300", "ABN"), {"iban": BankProblem.IBAN_CHECK, "bic": BankProblem.BIC}),
    (("x" * 201, "NL91ABNA0417164300", ""), {"holder": BankProblem.HOLDER}),
]


@pytest.mark.parametrize(("fields", "problems"), PARSED)
def test_the_form_names_every_bad_field(fields: tuple[str, str, str], problems: dict[str, BankProblem]) -> None:
    if not problems:
        details = bank.parse(*fields)
        assert details.iban == "NL91ABNA0417164300" and details.grouped == "NL91 ABNA 0417 1643 00"
        return
    with pytest.raises(InvalidBankDetails) as raised:
        bank.parse(*fields)
    assert raised.value.problems == problems, f"{fields}: {raised.value.problems}"


@pytest.fixture
def pay(any_world: World) -> Iterator[Page]:
    world = any_world
    app = create_app(world.rt.settings, runtime=world.rt, org_id=world.org_id)
    app.config["WTF_CSRF_ENABLED"] = False
    _debtor(world, "D1", "en")
    _invoice(world, "I1", "D1", "121.00", url="https://pay.example/inv/1")
    _invoice(world, "I2", "D1", "50.00")

    def client(address: str = "198.51.100.7") -> FlaskClient:
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = address
        return c

    yield Page(world, client)


def _set(world: World, details: BankDetails | None) -> None:
    with transaction(world.rt.sessions) as s:
        repos.set_bank_details(s, world.org_id, world.adm_id, details)


def _card(body: str, index: int) -> str:
    found = re.search(rf'<li class="card invoice" id="invoice-{index}">(.*?)</li>', body, re.S)
    assert found, f"invoice card {index} is missing"
    return found.group(1)


PAGES = [  # (account set, language, what the card without a payment link says)
    (True, "en", ["Transfer the amount to this account", "In the name of", "Acme Incasso BV", "NL91 ABNA 0417 1643 00",
                  "ABNANL2A", "RFI2"]),
    (True, "nl", ["Maak het bedrag over naar deze rekening", "Ten name van", "Acme Incasso BV",
                  "NL91 ABNA 0417 1643 00", "ABNANL2A", "Betalingskenmerk", "RFI2"]),
    (False, "en", ["Transfer the amount to the account on the invoice, quoting payment reference RFI2."]),
    (False, "nl", ["Maak het bedrag over naar de rekening op de factuur, onder vermelding van betalingskenmerk RFI2."]),
]  # fmt: skip


@pytest.mark.parametrize(("with_account", "language", "expected"), PAGES)
def test_the_page_shows_the_account_only_where_there_is_no_payment_link(
    pay: Page, with_account: bool, language: str, expected: list[str]
) -> None:
    _set(pay.world, ACCOUNT if with_account else None)
    link = pay.issue()
    answer = pay.client().get(f"/p/{link.token}?lang={language}")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200, body[:300]
    by_link, by_transfer = _card(body, 1), _card(body, 2)
    for text in expected:
        assert text in by_transfer, f"{language}, account {with_account}: {text!r} missing in {by_transfer}"
    assert 'href="https://pay.example/inv/1"' in by_link, "the payment link is missing"
    assert "NL91" not in by_link and "IBAN" not in by_link, "bank details beside a payment link"
    assert ("NL91" in body) is with_account, "an account is shown although none is set"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_letters_and_emails_name_the_same_account_as_the_page(pay: Page, language: str) -> None:
    _set(pay.world, ACCOUNT)
    world = pay.world
    with world.rt.sessions() as s:
        adm = repos.get_administration(s, world.org_id, world.adm_id)
        debtor = repos.debtor_row_to_model(repos.get_debtors(s, world.org_id, world.adm_id, ["D1"])["D1"], "D1")
        invoices = [
            repos.invoice_row_to_model(row) for row in repos.get_invoices(s, world.org_id, world.adm_id, ["I2"])
        ]
        item = OutboxItem(
            id=1,
            org_id=world.org_id,
            administration_id=world.adm_id,
            idempotency_key="k",
            action=OutboxAction.REMINDER,
            debtor_ref="D1",
            invoice_refs=("I2",),
            level=1,
            level_name="Reminder",
            channel=OutboxChannel.EMAIL,
            run_date=world.clock().date(),
            status=OutboxStatus.PENDING,
            created_at=datetime(2026, 1, 5, tzinfo=UTC),
        )
        ctx = message_context(
            adm, item, invoices, debtor.model_copy(update={"language": language}), world.clock().date()
        )
    rendered = render_email(MessageKind.REMINDER, ctx)
    for text in ("NL91 ABNA 0417 1643 00", "Acme Incasso BV", "ABNANL2A"):
        assert text in rendered.text and text in rendered.html, f"{language}: the e-mail lacks {text}: {rendered.text}"


@dataclass
class Owner:
    app: Flask
    world: World

    def client(self, role: str = "owner") -> FlaskClient:
        client = self.app.test_client()
        answer = client.post("/login", data={"email": f"{role}@acme.example", "password": PASSWORD})
        assert answer.status_code == 302, f"{role} could not log in"
        return client


PASSWORD = "correct horse battery staple"


@pytest.fixture
def owner(any_world: World) -> Owner:
    app = create_app(any_world.rt.settings, runtime=any_world.rt, org_id=any_world.org_id)
    app.config["WTF_CSRF_ENABLED"] = False
    for role in ("owner", "controller"):
        accounts.add_user(any_world.rt, f"{role}@acme.example", any_world.org_id, role, PASSWORD)
    return Owner(app, any_world)


FORMS = [  # (posted, status, error shown next to which field, stored IBAN afterwards)
    ({"holder": "Acme BV", "iban": "nl91 abna 0417 1643 00", "bic": ""}, 302, None, "NL91ABNA0417164300"),
    ({"holder": "Acme BV", "iban": "NL92ABNA0417164300", "bic": ""}, 400, "iban", None),
    ({"holder": "Acme BV", "iban": "12345", "bic": ""}, 400, "iban", None),
    ({"holder": "", "iban": "NL91ABNA0417164300", "bic": ""}, 400, "holder", None),
    ({"holder": "Acme BV", "iban": "NL91ABNA0417164300", "bic": "AB"}, 400, "bic", None),
    ({"holder": "", "iban": "", "bic": ""}, 302, None, None),  # all empty: cleared
]


@pytest.mark.parametrize(("posted", "status", "field", "stored"), FORMS)
def test_the_owner_sets_the_account_with_a_clear_error_next_to_a_bad_field(
    owner: Owner, posted: dict[str, str], status: int, field: str | None, stored: str | None
) -> None:
    world = owner.world
    answer = owner.client().post(f"/connections/bank/{world.adm_id}", data=posted)
    body = answer.get_data(as_text=True)
    assert answer.status_code == status, f"{posted}: {answer.status_code} {body[:300]}"
    if field is not None:
        error = re.search(rf'<p class="notice bad" id="{field}-{world.adm_id}-error">([^<]+)</p>', body)
        assert error, f"{posted}: no error next to {field}"
        assert f'aria-describedby="{field}-{world.adm_id}-error"' in body, "the field does not point to its error"
        assert f'value="{posted[field]}"' in body, "what was typed is lost"
    with world.rt.sessions() as s:
        found = repos.bank_details(repos.get_administration(s, world.org_id, world.adm_id))
    assert (found.iban if found else None) == stored, f"{posted}: stored {found}"


def test_only_an_owner_sets_the_account_and_the_dutch_error_is_dutch(owner: Owner) -> None:
    world = owner.world
    posted = {"holder": "Acme BV", "iban": "NL91ABNA0417164300", "bic": ""}
    denied = owner.client("controller").post(f"/connections/bank/{world.adm_id}", data=posted)
    assert denied.status_code == 403, f"a controller changed the account: {denied.status_code}"
    dutch = owner.client().post(f"/connections/bank/{world.adm_id}?lang=nl", data={**posted, "iban": "NL92"})
    assert "Dit is geen IBAN" in dutch.get_data(as_text=True), "the error is not in Dutch"
    listed = owner.client().get("/connections/bank?lang=en").get_data(as_text=True)
    assert "Bank account for transfers" in listed and f'id="iban-{world.adm_id}"' in listed
