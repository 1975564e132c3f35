"""PDF letters, phone tasks and the hand-over dossier: valid PDFs, deterministic bytes, the right statements."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connector.channels.context import LETTER_KINDS, InvoiceLine, MessageKind
from connector.channels.dossier import CSV_COLUMNS, Agency, ContactMoment, Dossier, LetterRecord, render_dossier
from connector.channels.letters import render_letter
from connector.channels.pdf import PdfMeta, pdf_safe, render_pdf
from connector.channels.phone import CallOutcome, HistoryLine, LateReason, build_phone_task, complete_task
from tests.channels.factories import BUSINESS, CONSUMER, INVOICE_A, INVOICE_B, ORG, context, fourteen_day_context


def _page_objects(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", sorted(LETTER_KINDS, key=lambda k: k.value))
def test_letters_are_valid_deterministic_pdfs(kind: MessageKind, language: str) -> None:
    if kind is MessageKind.FOURTEEN_DAY_LETTER:
        ctx = fourteen_day_context(language)
    else:
        ctx = context(BUSINESS, language=language, invoices=(INVOICE_A, INVOICE_B), collection_costs=Decimal("185.18"))
    first, second = render_letter(kind, ctx), render_letter(kind, ctx)
    assert first.pdf.startswith(b"%PDF-") and first.pdf.rstrip().endswith(b"%%EOF")
    assert first.pages >= 1 and _page_objects(first.pdf) == first.pages
    assert first.pdf == second.pdf and first.sha256 == second.sha256
    assert first.filename.endswith("-2026-03-03.pdf") and " " not in first.filename
    assert "F2026-001" in first.text and ctx.organisation.name in first.text
    assert b"/CreationDate (D:20260303000000Z" in first.pdf  # from the letter date, not the clock


def test_letter_pdf_changes_with_its_content() -> None:
    a = render_letter(MessageKind.DEMAND_LETTER, context(BUSINESS))
    b = render_letter(MessageKind.DEMAND_LETTER, context(BUSINESS, invoices=(INVOICE_B,)))
    assert a.pdf != b.pdf


def test_long_letter_flows_onto_more_pages() -> None:
    many = tuple(replace(INVOICE_A, number=f"F2026-{n:03d}") for n in range(1, 61))
    letter = render_letter(MessageKind.DEMAND_LETTER, context(BUSINESS, invoices=many))
    assert letter.pages >= 2 and _page_objects(letter.pdf) == letter.pages
    assert "F2026-060" in letter.text


def test_reminder_is_not_a_letter() -> None:
    with pytest.raises(ValueError, match="not a letter"):
        render_letter(MessageKind.REMINDER, context())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("€ 1.234,56 “ok” é", "€ 1.234,56 “ok” é"),
        ("Łódź", "Lódz"),
        ("Dvořák", "Dvorák"),
        ("Żółć", "Zólc"),
        ("日本", "??"),
    ],
)
def test_pdf_safe_transliterates_outside_windows_1252(text: str, expected: str) -> None:
    assert pdf_safe(text) == expected


def test_pdf_markup_table_and_heading() -> None:
    text = "> right\n# Title\n| A | >B |\n| 1 | 2 |\n**bold** line\n"
    pdf, pages = render_pdf(text, PdfMeta(title="t", author="a", subject="s", document_date=date(2026, 1, 1)))
    assert pdf.startswith(b"%PDF") and pages == 1


# --- phone tasks ---------------------------------------------------------------------------------------------


def test_phone_task_carries_number_history_and_outcomes() -> None:
    history = [
        HistoryLine(date(2026, 2, 12), "email", "Herinnering verstuurd"),
        HistoryLine(date(2026, 2, 26), "email", "Tweede herinnering verstuurd"),
    ]
    task = build_phone_task(context(CONSUMER, level_name="Telefoon"), debtor_ref="D-7", history=history)
    assert task.phone == "06-12345678" and task.debtor_ref == "D-7"
    assert [h.on for h in task.history] == [date(2026, 2, 26), date(2026, 2, 12)]  # newest first
    script = task.script.replace("\u00a0", " ")
    assert "Telefoon: 06-12345678" in script and "€ 1.234,56" in script
    assert script.index("Tweede herinnering") < script.index("- 12 februari 2026")
    for outcome in CallOutcome:
        assert f"- {outcome.value}:" in script
    for reason in LateReason:
        assert f"- {reason.value}:" in script
    assert "kosten" not in script.lower()  # a consumer before the 14-day letter


def test_english_phone_script() -> None:
    task = build_phone_task(context(CONSUMER, language="en"), debtor_ref="D-7")
    assert "# Call script: J. Jansen" in task.script and "- none" in task.script


CALLED = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def test_complete_task_with_promise() -> None:
    task = build_phone_task(context(), debtor_ref="D-7")
    result = complete_task(
        task, "promise_to_pay", called_at=CALLED, reason="financial_trouble", promise_date=date(2026, 3, 10)
    )
    assert result.outcome is CallOutcome.PROMISE_TO_PAY and result.reached
    assert result.reason is LateReason.FINANCIAL_TROUBLE and result.promise_date == date(2026, 3, 10)
    assert not complete_task(task, CallOutcome.NO_ANSWER, called_at=CALLED).reached


@pytest.mark.parametrize(
    ("outcome", "kwargs", "match"),
    [
        (CallOutcome.PROMISE_TO_PAY, {}, "needs the promised date"),
        (CallOutcome.PROMISE_TO_PAY, {"promise_date": date(2026, 3, 2)}, "before the call"),
        (CallOutcome.NO_ANSWER, {"promise_date": date(2026, 3, 9)}, "only goes with"),
        (CallOutcome.DISPUTE, {"called_at": datetime(2026, 3, 3, 10, 0)}, "timezone-aware"),
        # 23:30 UTC on 31 December is already New Year's Day in Amsterdam: the 31st lies before the call
        (
            CallOutcome.PROMISE_TO_PAY,
            {"called_at": datetime(2027, 12, 31, 23, 30, tzinfo=UTC), "promise_date": date(2027, 12, 31)},
            "before the call",
        ),
    ],
)
def test_complete_task_validates(outcome: CallOutcome, kwargs: dict[str, object], match: str) -> None:
    task = build_phone_task(context(), debtor_ref="D-7")
    values: dict[str, object] = {"called_at": CALLED, **kwargs}
    with pytest.raises(ValueError, match=match):
        complete_task(task, outcome, **values)  # type: ignore[arg-type]


# --- hand-over dossier ---------------------------------------------------------------------------------------


def _dossier(**changes: object) -> Dossier:
    base = Dossier(
        organisation=ORG,
        debtor=BUSINESS,
        debtor_ref="D-1042",
        invoices=(INVOICE_B, INVOICE_A),
        prepared_on=date(2026, 4, 1),
        collection_costs=Decimal("223.02"),
        interest=Decimal("21.50"),
        interest_until=date(2026, 3, 31),
        cost_basis="WIK over € 1.484,56",
        contacts=(
            ContactMoment(
                datetime(2026, 3, 3, 9, 30, tzinfo=UTC),
                "email",
                "out",
                "Aanmaning | verstuurd",
                "Aanmaning",
                reference="<dunning.abc@korenschoof.nl>",
            ),
            ContactMoment(
                datetime(2026, 2, 26, 14, 0, tzinfo=UTC),
                "phone",
                "out",
                "Belofte 1 maart",
                "Telefoon",
                reason="financial_trouble",
            ),
        ),
        letters=(
            LetterRecord(
                "Aanmaning",
                date(2026, 3, 3),
                "email",
                "aanmaning-D-1042-2026-03-03.pdf",
                "ab" * 32,
                received_on=date(2026, 3, 3),
                costs_stated=Decimal("223.02"),
            ),
        ),
        agency=Agency("Incasso Noord B.V.", registration="INC-000123"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_dossier_pdf_and_text() -> None:
    result = render_dossier(_dossier())
    text = result.text.replace("\u00a0", " ")
    assert result.pdf.startswith(b"%PDF") and result.pages >= 1
    assert "# Overdrachtsdossier Jansen Installatietechniek B.V." in text
    assert "Incasso Noord B.V. (registratie Justis: INC-000123)" in text
    # principal 1,234.56 + 250.00 = 1,484.56; + costs 223.02 + interest 21.50 = 1,729.08
    assert "| Hoofdsom (openstaand) | € 1.484,56 |" in text and "| Totaal | € 1.729,08 |" in text
    assert "Aanmaning / verstuurd" in text  # a "|" in data cannot break the table
    # days overdue on 1 Apr 2026: due 9 Feb -> 51 days, due 19 Feb -> 41 days
    assert "| 51 |" in text and "| 41 |" in text
    assert text.index("Belofte 1 maart") < text.index("Aanmaning / verstuurd")  # chronological
    assert result.pdf_filename == "dossier-D-1042-2026-04-01.pdf"


def test_dossier_csv_round_trip() -> None:
    result = render_dossier(_dossier())
    rows = list(csv.DictReader(io.StringIO(result.csv)))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    kinds = [r["record_type"] for r in rows]
    assert kinds == ["invoice", "invoice", "claim", "claim", "claim", "letter", "contact", "contact"]
    invoices = {r["reference"]: r for r in rows if r["record_type"] == "invoice"}
    assert invoices["F2026-001"]["open_amount"] == "1234.56" and invoices["F2026-001"]["days_overdue"] == "51"
    claim = {r["description"]: Decimal(r["amount"]) for r in rows if r["record_type"] == "claim"}
    assert claim == {
        "principal": Decimal("1484.56"),
        "collection_costs": Decimal("223.02"),
        "interest": Decimal("21.50"),
    }
    assert sum(claim.values()) == Decimal("1729.08")
    contact = rows[-1]
    assert contact["description"] == "Aanmaning | verstuurd" and contact["reference"] == "<dunning.abc@korenschoof.nl>"


def test_dossier_is_deterministic_and_order_independent() -> None:
    a = render_dossier(_dossier())
    b = render_dossier(_dossier(contacts=tuple(reversed(_dossier().contacts)), invoices=(INVOICE_A, INVOICE_B)))
    assert a.pdf == b.pdf and a.csv == b.csv


def test_english_dossier_without_history() -> None:
    result = render_dossier(_dossier(language="en", contacts=(), letters=(), agency=None, collection_costs=None))
    assert "# Hand-over file" in result.text and result.text.count("None.") == 2
    assert "Collection costs" not in result.text


def test_invoice_line_from_model() -> None:
    from connector.model import Invoice, InvoiceStatus

    inv = Invoice(
        provider_ref="x1",
        number=None,
        debtor_ref="d",
        invoice_date=None,
        due_date=date(2026, 2, 9),
        currency="EUR",
        total=Decimal("10"),
        open_amount=Decimal("5"),
        status=InvoiceStatus.OPEN,
        provider_state="open",
        payment_url="https://pay/x1",
    )
    line = InvoiceLine.from_invoice(inv, date(2026, 3, 3))
    assert (line.number, line.days_overdue, line.payment_link) == ("x1", 22, "https://pay/x1")  # 9 Feb -> 3 Mar


def _content_streams(pdf: bytes) -> bytes:
    import zlib

    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S)
    out = []
    for s in streams:
        try:
            out.append(zlib.decompress(s))
        except zlib.error:
            out.append(s)
    return b"\n".join(out)


def test_fourteen_day_pdf_itself_contains_the_cost_amount_and_invoice() -> None:
    letter = render_letter(MessageKind.FOURTEEN_DAY_LETTER, fourteen_day_context())
    content = _content_streams(letter.pdf)
    assert b"185,18" in content and b"F2026-001" in content and b"\x80" in content  # \x80 = euro in cp1252
    other = render_letter(MessageKind.FOURTEEN_DAY_LETTER, fourteen_day_context(collection_costs=Decimal("40.00")))
    assert b"185,18" not in _content_streams(other.pdf)
