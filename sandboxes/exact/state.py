"""State of the Exact Online emulator: divisions and their books, OAuth chains, limits, webhooks, persistence.

Part of the emulator only. ``app.py`` turns HTTP into calls on ``ExactState``; ``seed.py`` fills it and ``webhooks.py``
adds the subscriptions and their delivery. The common state-object API of every sandbox (``tenant_ids``,
``open_invoice_ids``, ``register_payment``, ``create_invoice``, ``writes``, ``request_log``, ``deliver_webhooks``,
``set_webhook_target``) lives here. Invoice ids are sales-entry ids (``EntryID``); a part payment splits the open
payment term: the open term keeps its id with the remainder, the matched part becomes a new closed term (Status 50) with
a fresh Timestamp.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandboxes import jsonfile
from sandboxes.exact.render import new_id, to_wire
from sandboxes.exact.webhooks import WebhookState

TOKEN_LIFETIME = 600  # docs/providers/exact.md#tokens
EARLIEST_REFRESH = 570  # docs/providers/exact.md#tokens: only in the last 30 s
CODE_LIFETIME = 180
REFRESH_LIFETIME_DAYS = 30


class ExactState(WebhookState):
    """Everything the emulator knows. All public methods are thread-safe."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        clock: Callable[[], datetime],
        seed: int,
        state_path: Path | None,
        options: dict[str, Any],
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.clock = clock
        self.rng = random.Random(seed)
        self.state_path = state_path
        self.options = options
        self.lock = threading.RLock()
        self.request_log: list[tuple[str, str, int]] = []
        self.token_log: list[tuple[str, int]] = []  # (grant_type, status) of every token call
        self.webhook_key: str = options.get("webhook_key", "")
        self.minute_counts: dict[tuple[str, int], int] = {}
        self.day_counts: dict[tuple[str, str], int] = {}
        self.errors: dict[str, list[datetime]] = {}
        self.blocked_until: dict[str, datetime] = {}
        self.db: dict[str, Any] = {
            "seq": 1000,
            "divisions": {},
            "codes": {},
            "access": {},
            "refresh": {},
            "chains": {},
            "token_calls": {},
            "queue": [],
            "user": {},
        }

    # --- persistence -------------------------------------------------------------------------------------
    def load(self) -> bool:
        if self.state_path is None or not self.state_path.exists():
            return False
        self.db = jsonfile.loads(self.state_path.read_text("utf-8"))
        self.webhook_key = self.db.get("webhook_key", self.webhook_key)
        return True

    def save(self) -> None:
        if self.state_path is not None:
            self.db["webhook_key"] = self.webhook_key
            jsonfile.write_atomic(self.state_path, jsonfile.dumps(self.db))

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def bump(self) -> int:
        self.db["seq"] += 1
        return int(self.db["seq"])

    # --- books -------------------------------------------------------------------------------------------
    def division(self, tenant: str | int) -> dict[str, Any]:
        try:
            div: dict[str, Any] = self.db["divisions"][str(tenant)]
        except KeyError:
            raise KeyError(f"unknown division {tenant}") from None
        return div

    def tenant_ids(self) -> list[str]:
        return [code for code, div in self.db["divisions"].items() if div["info"].get("Accessible", True)]

    def terms_of(self, tenant: str, entry: str) -> list[dict[str, Any]]:
        return [t for t in self.division(tenant)["terms"].values() if t["EntryID"] == entry]

    def open_invoice_ids(self, tenant: str) -> list[str]:
        div = self.division(tenant)
        ids = {
            t["EntryID"]
            for t in div["terms"].values()
            if t["LineType"] == 20 and t["Status"] == 20 and t["AmountDC"] > 0
        }
        return sorted(ids)

    def add_term(
        self, div: dict[str, Any], entry: dict[str, Any], amount: Decimal, due: date, line_type: int = 20
    ) -> dict[str, Any]:
        account = div["accounts"][entry["Account"]]
        now = self.now()
        term = {
            "ID": new_id(self.rng),
            "EntryID": entry["ID"],
            "TransactionEntryID": entry["ID"],
            "TransactionID": new_id(self.rng),
            "Account": entry["Account"],
            "AccountCode": account["Code"],
            "AccountName": account["Name"],
            "AmountDC": amount,
            "AmountFC": amount,
            "TransactionAmountDC": entry["AmountDC"],
            "TransactionAmountFC": entry["AmountDC"],
            "Currency": entry["Currency"],
            "RateFC": Decimal("1"),
            "DueDate": due,
            "DiscountDueDate": None,
            "InvoiceDate": entry["InvoiceDate"],
            "InvoiceNumber": entry["InvoiceNumber"],
            "EntryNumber": entry["EntryNumber"],
            "Status": 20,
            "IsFullyPaid": False,
            "LastPaymentDate": None,
            "EndDate": None,
            "LineType": line_type,
            "PaymentMethod": "B",
            "PaymentCondition": "30",
            "PaymentReference": f"RF{entry['EntryNumber']}",
            "YourRef": entry["YourRef"],
            "Description": entry["Description"],
            "JournalCode": entry["Journal"],
            "Created": now,
            "Modified": now,
            "Timestamp": self.bump(),
            "ApprovalStatus": 1,
            "Division": div["info"]["Code"],
        }
        div["terms"][term["ID"]] = term
        return term

    def new_entry(
        self,
        div: dict[str, Any],
        account_id: str,
        total: Decimal,
        invoice_date: date,
        due: date,
        *,
        journal: str = "70",
        installments: int = 1,
        line_type: int = 20,
    ) -> dict[str, Any]:
        div["info"]["_entry_no"] = div["info"].get("_entry_no", 24000000) + 1
        number = div["info"]["_entry_no"]
        now = self.now()
        entry = {
            "ID": new_id(self.rng),
            "InvoiceID": new_id(self.rng),
            "EntryNumber": number,
            "InvoiceNumber": number,
            "Account": account_id,
            "InvoiceDate": invoice_date,
            "DueDate": due,
            "AmountDC": total,
            "Currency": div["info"]["Currency"],
            "YourRef": f"PO-{number % 10000}",
            "Description": f"Factuur {number}",
            "Journal": journal,
            "Created": now,
            "Modified": now,
            "LineType": line_type,
        }
        div["entries"][entry["ID"]] = entry
        share = (total / installments).quantize(Decimal("0.01"))
        for index in range(installments):
            amount = total - share * (installments - 1) if index == installments - 1 else share
            self.add_term(div, entry, amount, due + timedelta(days=30 * index), line_type)
        return entry

    def pay(self, div: dict[str, Any], entry_id: str, amount: Decimal, on: date) -> list[dict[str, Any]]:
        """Match ``amount`` against the entry's open terms (earliest due first), splitting the last one."""
        now, touched = self.now(), []
        open_terms = sorted(
            (
                t
                for t in div["terms"].values()
                if t["EntryID"] == entry_id and t["Status"] == 20 and t["LineType"] == 20
            ),
            key=lambda t: (t["DueDate"], t["Timestamp"]),
        )
        for term in open_terms:
            if amount <= 0:
                break
            if amount >= term["AmountDC"]:
                amount -= term["AmountDC"]
                term.update(
                    Status=50, IsFullyPaid=True, LastPaymentDate=on, EndDate=on, Modified=now, Timestamp=self.bump()
                )
                touched.append(term)
                continue
            paid = dict(
                term,
                ID=new_id(self.rng),
                AmountDC=amount,
                AmountFC=amount,
                Status=50,
                IsFullyPaid=True,
                LastPaymentDate=on,
                EndDate=on,
                Modified=now,
                Created=now,
            )
            term.update(
                AmountDC=term["AmountDC"] - amount,
                AmountFC=term["AmountFC"] - amount,
                Modified=now,
                Timestamp=self.bump(),
                LastPaymentDate=on,
            )
            paid["Timestamp"] = self.bump()
            div["terms"][paid["ID"]] = paid
            touched += [term, paid]
            amount = Decimal(0)
        return touched

    def register_payment(self, tenant: str, invoice_id: str, amount: Decimal, on: date | None = None) -> None:
        with self.lock:
            div = self.division(tenant)
            if invoice_id not in div["entries"] or amount <= 0:
                raise ValueError(f"no invoice {invoice_id} in division {tenant} (or amount <= 0)")
            if not self.pay(div, invoice_id, Decimal(amount), on or self.now().date()):
                raise ValueError(f"invoice {invoice_id} has nothing open")
            self.queue_event(tenant, "BankEntries", new_id(self.rng), "Create")
            self.queue_event(tenant, "FinancialTransactions", invoice_id, "Update")
            self.save()

    def create_invoice(
        self,
        tenant: str,
        debtor_id: str | None = None,
        total: Decimal = Decimal("121.00"),
        due_date: date | None = None,
        consumer: bool = False,
    ) -> str:
        with self.lock:
            div = self.division(tenant)
            if debtor_id is None:
                candidates = [a for a in div["accounts"].values() if a["IsSales"] and (not a["VATNumber"]) == consumer]
                debtor_id = sorted(candidates, key=lambda a: a["Code"])[0]["ID"]
            due = due_date or self.now().date() + timedelta(days=14)
            entry = self.new_entry(div, debtor_id, Decimal(total), due - timedelta(days=14), due)
            self.queue_event(tenant, "SalesEntries", entry["ID"], "Create")
            self.queue_event(tenant, "SalesInvoices", entry["InvoiceID"], "Create")
            self.save()
            return str(entry["ID"])

    def writes(self, tenant: str) -> list[dict[str, Any]]:
        return list(self.division(tenant)["writes"])

    def record_write(self, tenant: str, kind: str, text: str, **extra: Any) -> None:
        div = self.division(tenant)
        ids = [eid for eid, e in div["entries"].items() if eid in text or f" {e['InvoiceNumber']}" in text]
        div["writes"].append({"kind": kind, "invoice_ids": ids, "text": text, **extra})

    def wire(self, row: dict[str, Any]) -> dict[str, Any]:
        return to_wire(row)

    def new_token(self) -> str:
        return secrets.token_urlsafe(24)
