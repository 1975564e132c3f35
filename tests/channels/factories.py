"""Builders for channel tests: one organisation, a consumer and a business debtor, invoices with known amounts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from connector.channels.context import Contact, DebtorInfo, InvoiceLine, MessageContext, Organisation

ORG = Organisation(
    name="Bakkerij De Korenschoof B.V.",
    administration_name="Korenschoof 2026",
    address_lines=("Dorpsstraat 1", "1234 AB Ergens"),
    email="debiteuren@korenschoof.nl",
    phone="020-1234567",
    iban="NL91 ABNA 0417 1643 00",
    kvk_number="12345678",
)
CONTACT = Contact(name="Petra de Vries", email="petra@korenschoof.nl", phone="020-7654321")
CONSUMER = DebtorInfo(
    name="J. Jansen",
    address_lines=("Kerkweg 2", "5678 CD Elders"),
    email="j.jansen@example.nl",
    phone="06-12345678",
    language="nl",
    consumer=True,
)
BUSINESS = DebtorInfo(
    name="Jansen Installatietechniek B.V.",
    address_lines=("Industrieweg 9", "3000 AA Rotterdam"),
    email="crediteuren@jansen-installatie.nl",
    language="nl",
    consumer=False,
    customer_number="D-1042",
    contact_name="Karin Jansen",
)
PAY_LINK = "https://pay.example/i/F2026-001"
INVOICE_A = InvoiceLine(
    number="F2026-001",
    invoice_date=date(2026, 1, 10),
    due_date=date(2026, 2, 9),
    total=Decimal("1234.56"),
    open_amount=Decimal("1234.56"),
    days_overdue=22,
    payment_link=PAY_LINK,
)
INVOICE_B = InvoiceLine(
    number="F2026-007",
    invoice_date=date(2026, 1, 20),
    due_date=date(2026, 2, 19),
    total=Decimal("500.00"),
    open_amount=Decimal("250.00"),
    days_overdue=12,
)


def context(
    debtor: DebtorInfo = CONSUMER,
    *,
    language: str | None = "nl",
    invoices: tuple[InvoiceLine, ...] = (INVOICE_A,),
    **changes: object,
) -> MessageContext:
    base = MessageContext(
        organisation=ORG,
        debtor=replace(debtor, language=language),
        invoices=invoices,
        level_name="Herinnering",
        issued_on=date(2026, 3, 3),
        contact=CONTACT,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def fourteen_day_context(language: str = "nl", **changes: object) -> MessageContext:
    """Posted Tue 3 Mar 2026, presumed received Thu 5 Mar (docs/law.md#the-14-day-letter example), term until Thu 19
    Mar; WIK on 1,234.56."""
    values: dict[str, object] = {
        "level_name": "Veertiendagenbrief",
        "collection_costs": Decimal("185.18"),  # 15 % x 1,234.56 = 185.184 -> 185.18 (docs/law.md#wik-collection-costs)
        "receipt_date": date(2026, 3, 5),
        "deadline": date(2026, 3, 19),
    }
    values.update(changes)
    return context(CONSUMER, language=language, **values)
