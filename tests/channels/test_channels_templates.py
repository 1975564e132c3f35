"""Template texts: both languages render every kind, and the legal checks keep wrong texts from being made
(docs/law.md#the-14-day-letter)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.channels.context import LETTER_KINDS, Contact, InstallmentInfo, MessageKind, language_for
from connector.channels.email import render_email
from connector.channels.letters import render_letter
from connector.channels.templating import TEMPLATE_DIR, LegalCheckFailed, check_context, money
from tests.channels.factories import (
    BUSINESS,
    CONSUMER,
    CONTACT,
    INVOICE_A,
    INVOICE_B,
    ORG,
    context,
    fourteen_day_context,
)

EMAIL_KINDS = [k for k in MessageKind if k is not MessageKind.PHONE_SCRIPT]
AMOUNT = re.compile(r"€\s?\d{1,3}(?:[.,]\d{3})*[.,]\d{2}")


def _plain(text: str) -> str:
    return text.replace("\u00a0", " ")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (None, "nl"),
        ("", "nl"),
        ("nl", "nl"),
        ("NL", "nl"),
        ("nl_BE", "nl"),
        ("en", "en"),
        ("en-GB", "en"),
        ("de", "en"),
        ("fr", "en"),
    ],
)
def test_language_for(code: str | None, expected: str) -> None:
    assert language_for(code) == expected


@pytest.mark.parametrize(
    ("amount", "language", "expected"),
    [
        ("1234.56", "nl", "€ 1.234,56"),
        ("1234.56", "en", "€1,234.56"),
        ("40", "nl", "€ 40,00"),
        ("1000000", "nl", "€ 1.000.000,00"),
    ],
)
def test_money_format(amount: str, language: str, expected: str) -> None:
    assert _plain(money(Decimal(amount), "EUR", language)) == expected


INSTALLMENT = InstallmentInfo(number=2, of=3, due_date=date(2026, 4, 1), amount=Decimal("250.00"))


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", EMAIL_KINDS)
def test_every_kind_renders_in_both_languages(kind: MessageKind, language: str) -> None:
    ctx = (
        fourteen_day_context(language)
        if kind is MessageKind.FOURTEEN_DAY_LETTER
        else context(
            BUSINESS,
            language=language,
            invoices=(INVOICE_A, INVOICE_B),
            agency="Incasso Noord B.V.",
            installment=INSTALLMENT if kind is MessageKind.INSTALLMENT_REMINDER else None,
        )
    )
    rendered = render_email(kind, ctx)
    assert rendered.subject and "\n" not in rendered.subject
    assert "F2026-001" in rendered.text and "F2026-001" in rendered.html
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert "\n\n\n" not in rendered.text
    greeting = "Beste" if language == "nl" else "Dear"
    assert rendered.text.startswith(greeting)
    if kind is MessageKind.INSTALLMENT_REMINDER:
        assert ("termijn 2 van 3" if language == "nl" else "instalment 2 of 3") in rendered.subject.lower()
        assert _plain(money(Decimal("250.00"), "EUR", language)) in _plain(rendered.text)


def test_an_installment_reminder_without_its_installment_or_with_costs_is_refused() -> None:
    with pytest.raises(LegalCheckFailed):
        render_email(MessageKind.INSTALLMENT_REMINDER, context(BUSINESS))
    with pytest.raises(LegalCheckFailed):
        render_email(
            MessageKind.INSTALLMENT_REMINDER,
            context(BUSINESS, installment=INSTALLMENT, collection_costs=Decimal("40.00")),
        )


@pytest.mark.parametrize(
    "kind",
    [
        MessageKind.FRIENDLY_REMINDER,
        MessageKind.REMINDER,
        MessageKind.DEMAND_LETTER,
        MessageKind.CREDIT_STOP_NOTICE,
        MessageKind.PHONE_SCRIPT,
    ],
)
@pytest.mark.parametrize(
    "charge", [{"collection_costs": Decimal("40.00")}, {"interest": Decimal("3.21")}, {"vat_on_costs": Decimal("8.40")}]
)
def test_consumer_messages_before_the_fourteen_day_letter_refuse_costs(
    kind: MessageKind, charge: dict[str, Decimal]
) -> None:
    with pytest.raises(LegalCheckFailed):
        check_context(kind, context(CONSUMER, **charge))  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", [MessageKind.FRIENDLY_REMINDER, MessageKind.REMINDER, MessageKind.DEMAND_LETTER])
def test_consumer_reminder_mentions_no_cost_amount(kind: MessageKind, language: str) -> None:
    ctx = context(CONSUMER, language=language, invoices=(INVOICE_A, INVOICE_B))
    rendered = render_email(kind, ctx)
    texts = [rendered.text, rendered.html] + ([render_letter(kind, ctx).text] if kind in LETTER_KINDS else [])
    # the only amounts allowed: invoice totals, open amounts and the total open (1,234.56 + 250.00 = 1,484.56)
    allowed = {
        money(a, "EUR", language)
        for a in (Decimal("1234.56"), Decimal("500.00"), Decimal("250.00"), Decimal("1484.56"))
    }
    for text in texts:
        found = set(AMOUNT.findall(text))
        assert found and found <= {_plain(a) for a in allowed} | allowed, found
        lowered = text.lower()
        assert "incassokosten" not in lowered and "collection costs" not in lowered
        assert "rente" not in lowered and "interest" not in lowered


def test_business_reminder_may_state_costs() -> None:
    # business costs (the EUR 40) need no 14-day letter
    ctx = context(
        BUSINESS, collection_costs=Decimal("40.00"), interest=Decimal("12.34"), interest_until=date(2026, 3, 2)
    )
    text = _plain(render_email(MessageKind.REMINDER, ctx).text)
    assert "Incassokosten: € 40,00" in text
    assert "Rente tot en met 2 maart 2026: € 12,34" in text
    assert "Totaal te betalen: € 1.286,90" in text  # 1,234.56 + 40.00 + 12.34


def test_friendly_reminder_never_charges_even_a_business() -> None:
    with pytest.raises(LegalCheckFailed, match="friendly"):
        check_context(MessageKind.FRIENDLY_REMINDER, context(BUSINESS, collection_costs=Decimal("40.00")))


@pytest.mark.parametrize("language", ["nl", "en"])
def test_fourteen_day_letter_states_costs_term_and_deadline(language: str) -> None:
    ctx = fourteen_day_context(language)
    letter = render_letter(MessageKind.FOURTEEN_DAY_LETTER, ctx)
    text = _plain(letter.text)
    if language == "nl":
        assert "Deze incassokosten bedragen € 185,18" in text
        assert "binnen 14 dagen, te rekenen vanaf de dag na ontvangst van deze brief" in text
        assert "op 5 maart 2026 ontvangt" in text and "tot en met 19 maart 2026" in text
        assert "bedraagt € 1.419,74" in text  # 1,234.56 + 185.18
        forbidden = ("vandaag", "dagtekening", "na de datum van deze brief")
    else:
        assert "These collection costs amount to €185.18" in text
        assert "within 14 days, counted from the day after you receive this letter" in text
        assert "receive this letter on 5 March 2026" in text and "up to and including 19 March 2026" in text
        assert "is €1,419.74" in text
        forbidden = ("of today", "date of this letter", "from today")
    assert not any(phrase in text.lower() for phrase in forbidden)
    assert letter.pdf.startswith(b"%PDF") and letter.pages >= 1


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("nl", "een incassobureau dat btw over zijn werk rekent en kunnen die btw niet verrekenen"),
        ("en", "a collection agency that charges VAT on its work, and we cannot deduct that VAT"),
    ],
)
def test_fourteen_day_letter_with_vat_states_both_conditions(language: str, says: str) -> None:
    # VAT only when a VAT-charging collector collects and the creditor cannot deduct it, and the letter says so:
    # 185.18 x 21 % = 38.8878 -> 38.89
    ctx = fourteen_day_context(language, vat_on_costs=Decimal("38.89"))
    text = _plain(render_letter(MessageKind.FOURTEEN_DAY_LETTER, ctx).text)
    assert says in text
    if language == "nl":
        assert "vermeerderd met € 38,89 btw, samen € 224,07" in text  # 185.18 + 38.89
        assert "bedraagt € 1.458,63" in text  # 1,234.56 + 224.07


def test_the_letter_says_since_when_the_debtor_is_in_default() -> None:
    ctx = fourteen_day_context(default_since=date(2026, 2, 11))
    assert "Sinds 11 februari 2026 bent u in verzuim." in _plain(
        render_letter(MessageKind.FOURTEEN_DAY_LETTER, ctx).text
    )
    english = fourteen_day_context("en", default_since=date(2026, 2, 11))
    text = _plain(render_letter(MessageKind.FOURTEEN_DAY_LETTER, english).text)
    assert "You have been in default since 11 February 2026." in text


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"collection_costs": None}, "amount of the collection costs"),
        ({"collection_costs": Decimal("0")}, "amount of the collection costs"),
        ({"receipt_date": None}, "receipt date"),
        ({"deadline": date(2026, 3, 18)}, "fewer than 14 days"),  # receipt + 13
        ({"deadline": date(2026, 3, 17)}, "fewer than 14 days"),  # "14 days from the letter date" (3 Mar + 14)
        ({"receipt_date": date(2026, 3, 2), "deadline": date(2026, 3, 16)}, "before it is issued"),
        ({"receipt_date": date(2026, 3, 7), "deadline": date(2026, 3, 21)}, "weekend or a public holiday"),
    ],
)
def test_fourteen_day_letter_refuses_a_noncompliant_context(changes: dict[str, object], match: str) -> None:
    with pytest.raises(LegalCheckFailed, match=match):
        render_letter(MessageKind.FOURTEEN_DAY_LETTER, fourteen_day_context(**changes))


def test_receipt_dates_from_the_rules_fit_the_letter() -> None:
    # posted Fri 6 Mar 2026 -> delivered Tue 10 Mar -> term to Tue 24 Mar, costs from 25 Mar
    from connector.rules.letter import letter_dates
    from connector.rules.snapshot import LetterChannel

    dates = letter_dates(date(2026, 3, 6), LetterChannel.POST)
    assert dates.received == date(2026, 3, 10)
    ctx = fourteen_day_context(issued_on=dates.sent, receipt_date=dates.received, deadline=dates.term_ends)
    assert "tot en met 24 maart 2026" in render_letter(MessageKind.FOURTEEN_DAY_LETTER, ctx).text


EDITED_WORDING = [
    # (template part, sentence replaced, replacement): a template edited into a wording that voids the costs
    ("_fourteen_days.txt", "te rekenen vanaf de dag na ontvangst van deze brief", "te rekenen vanaf vandaag"),
    ("_fourteen_days.txt", "te rekenen vanaf de dag na ontvangst van deze brief", "na dagtekening van deze brief"),
    ("_fourteen_days.html", "te rekenen vanaf de dag na ontvangst van deze brief", "na de datum van deze brief"),
    (
        "_fourteen_days.txt",
        "Deze incassokosten bedragen {{ ctx.collection_costs|money(ctx.currency) }}",
        "Wij rekenen kosten",
    ),
]


@pytest.mark.parametrize(("part", "old", "new"), EDITED_WORDING)
def test_a_template_edited_into_a_defective_wording_is_refused(
    part: str, old: str, new: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text as rendered is checked, at render and when the rules load: no flag can say "compliant"."""
    import shutil

    from connector.channels import templating

    edited = tmp_path / "templates"
    shutil.copytree(TEMPLATE_DIR, edited)
    target = edited / "nl" / part
    original = target.read_text(encoding="utf-8")
    assert old in original, f"{part} no longer says {old!r}: update this test"
    target.write_text(original.replace(old, new), encoding="utf-8")
    monkeypatch.setattr(templating, "TEMPLATE_DIR", edited)
    templating.environment.cache_clear()
    try:
        render = render_email if part.endswith(".html") else render_letter
        with pytest.raises(LegalCheckFailed, match="14-day letter template nl/fourteen_day_letter/.* is refused"):
            render(MessageKind.FOURTEEN_DAY_LETTER, fourteen_day_context())
        with pytest.raises(LegalCheckFailed, match="is refused"):
            templating.check_fourteen_day_templates()
    finally:
        templating.environment.cache_clear()


def test_the_shipped_templates_pass_the_wording_check() -> None:
    from connector.channels.templating import check_fourteen_day_templates

    check_fourteen_day_templates()


def test_message_without_invoices_is_refused() -> None:
    with pytest.raises(LegalCheckFailed, match="at least one invoice"):
        render_email(MessageKind.REMINDER, context(invoices=()))


def test_html_escapes_debtor_data() -> None:
    ctx = context(replace(BUSINESS, name="<script>x</script> & Co", contact_name=None))
    rendered = render_email(MessageKind.REMINDER, ctx)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<script>x</script> & Co" in rendered.text  # plain text is not HTML-escaped


def test_templates_keep_misconceptions_out() -> None:
    # no "creditor" talk about the debtor, no "statutory term is at most 30 days"
    words = ("crediteur", "creditor", "maximaal 30 dagen", "at most 30 days", "wettelijke betaaltermijn")
    for path in TEMPLATE_DIR.rglob("*.*"):
        content = path.read_text(encoding="utf-8").lower()
        assert not any(w in content for w in words), path


def _email_context(kind: MessageKind, language: str, **changes: object) -> Any:
    if kind is MessageKind.FOURTEEN_DAY_LETTER:
        return fourteen_day_context(language, **changes)
    installment = INSTALLMENT if kind is MessageKind.INSTALLMENT_REMINDER else None
    return context(BUSINESS, language=language, agency="Incasso Noord B.V.", installment=installment, **changes)


QUESTIONS = {"nl": "Heeft u vragen over", "en": "If you have any questions about"}


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", EMAIL_KINDS)
def test_the_html_says_what_the_text_says_about_questions(kind: MessageKind, language: str) -> None:
    rendered = render_email(kind, _email_context(kind, language))
    in_text = QUESTIONS[language] in rendered.text
    in_html = QUESTIONS[language] in rendered.html
    assert in_html == in_text, f"{kind.value}/{language}: text {in_text}, html {in_html}"


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize(
    ("contact", "names"),
    [
        (None, [ORG.name]),
        (Contact(name=ORG.name), [ORG.name]),  # a contact who is the organisation itself is named once
        (CONTACT, [CONTACT.name, ORG.name]),
    ],
)
def test_the_signature_names_each_one_once(language: str, contact: Contact | None, names: list[str]) -> None:
    rendered = render_email(MessageKind.REMINDER, _email_context(MessageKind.REMINDER, language, contact=contact))
    signature = rendered.text.rsplit("Met vriendelijke groet," if language == "nl" else "Kind regards,", 1)[1]
    assert [line for line in signature.splitlines() if line.strip() in names] == names, signature
    html_signature = rendered.html.rsplit("<p>", 1)[1]
    assert html_signature.count(ORG.name) == 1, html_signature
