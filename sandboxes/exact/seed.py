"""Deterministic seed data for the Exact sandbox: an accountant with several client divisions and their books.

Part of the emulator only: ``create_app`` calls ``seed_state`` unless a saved ``state_path`` exists. Each
division gets dozens of accounts (B2B with VAT/KvK numbers, B2C without), ``items_per_division`` open
receivables (some in two instalments, some part-paid, a few credit notes), fully paid history, and payable
lines (LineType 22) mixed into the same PaymentTerms stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandboxes.exact.render import new_id
from sandboxes.exact.state import ExactState

_COMPANIES = (
    "Bakkerij de Vries",
    "Jansen Installatietechniek",
    "Van Dijk Logistiek",
    "Smit & Zonen",
    "De Boer Architecten",
    "Mulder ICT",
    "Visser Transport",
    "Bos Hoveniers",
    "Meijer Advies",
    "Dekker Bouw",
)
_PEOPLE = ("Sanne de Jong", "Daan Bakker", "Emma Peters", "Lucas Hendriks", "Julia van Leeuwen")


def _account(state: ExactState, index: int, *, consumer: bool, supplier: bool = False) -> dict[str, Any]:
    rng, now = state.rng, state.now()
    name = (_PEOPLE[index % len(_PEOPLE)] if consumer else _COMPANIES[index % len(_COMPANIES)]) + f" {index}"
    return {
        "ID": new_id(rng),
        "Code": f"{1000 + index:>18}",
        "Name": name,
        "Email": f"debiteur{index}@example.nl",
        "Phone": f"+31 20 555 {index:04d}",
        "VATNumber": None if consumer else f"NL{rng.randint(10**8, 10**9 - 1)}B01",
        "ChamberOfCommerce": None if consumer else f"{rng.randint(10**7, 10**8 - 1)}",
        "AddressLine1": f"Kerkstraat {index + 1}",
        "AddressLine2": None,
        "Postcode": f"{1000 + index} AB",
        "City": "Amsterdam",
        "Country": "NL ",
        "Language": "NL",
        "IsSales": not supplier,
        "IsSupplier": supplier,
        "Status": "A" if supplier else "C",
        "Blocked": False,
        "CreditLineSales": Decimal("0"),
        "Remarks": None,
        "Created": now,
        "Modified": now,
        "Timestamp": state.bump(),
    }


def seed_state(
    state: ExactState,
    *,
    divisions: int = 3,
    items_per_division: int = 300,
    accounts_per_division: int = 40,
    sizes: Sequence[int] | None = None,
) -> None:
    """``sizes`` (open receivables per division, one per division) replaces ``divisions`` x ``items_per_division``:
    an accountant's clients differ in size; accounts then follow each division's size."""
    rng, today = state.rng, state.now().date()
    counts = list(sizes) if sizes is not None else [items_per_division] * divisions
    divisions = len(counts)
    state.db["user"] = {
        "UserID": new_id(rng),
        "UserName": "accountant@example.nl",
        "FullName": "Anna Accountant",
        "Email": "accountant@example.nl",
        "LanguageCode": "nl-NL",
        "Legislation": "1",
    }
    codes = [1234560 + 7 * i for i in range(divisions)]
    for number, code in enumerate([*codes, 9999990]):  # the last one exists but the user has no access to it
        div: dict[str, Any] = {
            "info": {
                "Code": code,
                "Description": f"Administratie {number + 1} B.V.",
                "Country": "NL ",
                "Currency": "EUR",
                "Status": 1,
                "BlockingStatus": 0,
                "IsMainDivision": number == 0,
                "Hid": number + 1,
                "Customer": new_id(rng),
                "CustomerName": f"Klant {number + 1}",
                "VATNumber": f"NL00000000{number}B01",
                "Accessible": code in codes,
            },
            "accounts": {},
            "entries": {},
            "terms": {},
            "notes": {},
            "documents": {},
            "attachments": {},
            "subscriptions": {},
            "writes": [],
        }
        state.db["divisions"][str(code)] = div
        if code not in codes:
            continue
        items = counts[number]
        accounts = accounts_per_division if sizes is None else max(6, min(items // 4 + 4, 200))
        _fill(state, div, items, accounts, today)
    state.db["user"]["CurrentDivision"] = codes[0]


def _fill(state: ExactState, div: dict[str, Any], items: int, accounts: int, today: date) -> None:
    rng = state.rng
    books: dict[str, Any] = div["accounts"]
    for index in range(accounts):
        row = _account(state, index, consumer=index % 4 == 3)
        books[row["ID"]] = row
    suppliers: list[str] = []
    for index in range(3):
        row = _account(state, accounts + index, consumer=False, supplier=True)
        books[row["ID"]] = row
        suppliers.append(row["ID"])
    customers = [a for a, r in books.items() if r["IsSales"]]
    base = today
    for index in range(items):
        invoice_date = base - timedelta(days=rng.randint(1, 150))
        total = Decimal(rng.randint(2_500, 750_000)) / 100
        if index % 97 == 13:
            total = -total / 4  # a credit note, still open
        split = 2 if index % 20 == 7 else 1
        entry = state.new_entry(
            div,
            rng.choice(customers),
            total.quantize(Decimal("0.01")),
            invoice_date,
            invoice_date + timedelta(days=30),
            installments=split,
        )
        if index % 7 == 3 and total > 0:  # part payment: the open term is split
            paid = (total * Decimal(rng.randint(10, 80)) / 100).quantize(Decimal("0.01"))
            state.pay(div, entry["ID"], paid, invoice_date + timedelta(days=rng.randint(5, 40)))
    for _ in range(max(1, items // 10)):  # fully paid history
        invoice_date = base - timedelta(days=rng.randint(30, 300))
        total = (Decimal(rng.randint(2_500, 250_000)) / 100).quantize(Decimal("0.01"))
        entry = state.new_entry(div, rng.choice(customers), total, invoice_date, invoice_date + timedelta(days=30))
        state.pay(div, entry["ID"], total, invoice_date + timedelta(days=rng.randint(3, 60)))
    for _ in range(max(1, items // 20)):  # purchase invoices: payable lines in the same stream
        invoice_date = base - timedelta(days=rng.randint(1, 90))
        total = (Decimal(rng.randint(5_000, 90_000)) / 100).quantize(Decimal("0.01"))
        state.new_entry(
            div,
            rng.choice(suppliers),
            total,
            invoice_date,
            invoice_date + timedelta(days=30),
            journal="60",
            line_type=22,
        )
