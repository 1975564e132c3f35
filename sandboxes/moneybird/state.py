"""Moneybird sandbox: the emulator's state object (``app.extensions["sandbox"]``).

Owns every administration's records (seeded by ``seed.py`` or loaded from ``state_path``), the OAuth store
(``oauth.py``), the rate limiter (``limits.py``) and, mixed in from ``webhooks.py``, the webhook delivery queue. The
HTTP routes (``app.py``, ``api.py``, ``writeback.py``) read and mutate it under ``lock``; tests, the demo and the
benchmarks drive it directly through the common sandbox methods (``tenant_ids``, ``open_invoice_ids``,
``register_payment``, ``create_invoice``, ``writes``, ``deliver_webhooks``...). Every mutation records the Moneybird
event on the invoice, bumps ``updated_at``/``version``, queues webhook pushes and persists the state.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandboxes import jsonfile
from sandboxes.moneybird.limits import RateLimiter
from sandboxes.moneybird.oauth import OAuthStore
from sandboxes.moneybird.records import IdSource, new_contact, new_invoice, today_in_amsterdam
from sandboxes.moneybird.render import (
    INVOICE_STATES,
    NOT_FOUND,
    OPEN_FOR_DUNNING,
    PAUSED_NEXT_REMINDER,
    Record,
    SandboxError,
    cents_of,
    hex64,
    invoice_totals,
    render_invoice,
    render_note,
    render_payment,
    stamp,
)
from sandboxes.moneybird.seed import new_state
from sandboxes.moneybird.webhooks import WebhookState


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MoneybirdSandbox(WebhookState):
    def __init__(
        self,
        *,
        client_id: str = "sandbox-client-id",
        client_secret: str = "sandbox-client-secret",  # noqa: S107 - sandbox default
        seed: int = 42,
        administrations: int = 2,
        invoices_per_administration: int = 300,
        contacts_per_administration: int = 40,
        state_path: Path | str | None = None,
        clock: Callable[[], datetime] | None = None,
        rate_limits: bool = True,
        rate_limit_per_window: int = 150,
        rate_limit_window_seconds: int = 300,
        duplicate_rate: float = 0.0,
        auto_reminders: bool = True,
        webhook_timeout: float = 5.0,
        probe_webhooks: bool = True,
        public_url: str = "https://moneybird.com",
        sizes: Sequence[int] | None = None,
        smtp_host: str | None = None,
        smtp_port: int = 25,
    ) -> None:
        self.smtp = (
            (smtp_host, smtp_port) if smtp_host else None
        )  # where reminder e-mails go (sandboxes.moneybird.mail)
        self.clock: Callable[[], datetime] = clock or _utcnow
        self.lock = threading.RLock()
        self.state_path = Path(state_path) if state_path else None
        self.rate_limits = rate_limits
        self.limiter = RateLimiter(rate_limit_per_window, rate_limit_window_seconds)
        self.duplicate_rate = duplicate_rate
        self.auto_reminders = auto_reminders
        self.webhook_timeout = webhook_timeout
        self.probe_webhooks = probe_webhooks
        self.public_url = public_url.rstrip("/")
        self.api_calls = 0
        self.pdf_failure: int | None = None  # a test's outage: download_pdf answers this status
        self.request_log: list[tuple[str, str, int]] = []
        self.failed_deliveries: list[Record] = []
        self._rng = random.Random(f"{seed}-duplicates")
        self._backoff: dict[str, float] = {}
        self._in_flight: set[str] = set()
        if self.state_path and self.state_path.exists():
            self.data: dict[str, Any] = json.loads(self.state_path.read_text())
        else:
            self.data = new_state(
                seed=seed,
                now=self.now(),
                administrations=administrations,
                invoices=invoices_per_administration,
                contacts=contacts_per_administration,
                sizes=sizes,
            )
            self.save()
        self.oauth = OAuthStore(self.data["oauth"], client_id, client_secret)
        self._next_id = IdSource(self.data)

    # -- clock, persistence --------------------------------------------------------------------------------
    @property
    def rate_limit_per_window(self) -> int:
        return self.limiter.limit

    @rate_limit_per_window.setter
    def rate_limit_per_window(self, value: int) -> None:
        self.limiter.limit = value

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def today(self) -> date:
        return today_in_amsterdam(self.now())

    def save(self) -> None:
        if self.state_path is None:
            return
        with self.lock:
            text = json.dumps(self.data, separators=(",", ":"))  # plain JSON already: no tags to add
        jsonfile.write_atomic(self.state_path, text)

    # -- lookups -------------------------------------------------------------------------------------------
    def administration(self, adm_id: str) -> Record:
        adm = self.data["administrations"].get(str(adm_id))
        if adm is None:
            raise SandboxError(
                404, {"error": "Administration not found", "symbolic": {"administration_id": "not_found"}}
            )
        return adm  # type: ignore[no-any-return]

    def invoice_record(self, adm_id: str, invoice_id: str) -> Record:
        inv = self.administration(adm_id)["invoices"].get(str(invoice_id))
        if inv is None:
            raise SandboxError(404, NOT_FOUND)
        return inv  # type: ignore[no-any-return]

    def render(self, adm_id: str, inv: Record) -> Record:
        return render_invoice(self.administration(adm_id), inv, self.public_url)

    # -- common sandbox API (same names in every sandbox) --------------------------------------------------
    def tenant_ids(self) -> list[str]:
        return list(self.data["administrations"])

    def open_invoice_ids(self, tenant: str) -> list[str]:
        with self.lock:
            self.tick()
            return [i for i, inv in self.administration(tenant)["invoices"].items() if inv["state"] in OPEN_FOR_DUNNING]

    def invoice(self, adm_id: str, invoice_id: str) -> Record:
        """The invoice exactly as ``GET sales_invoices/{id}.json`` would return it."""
        with self.lock:
            return self.render(adm_id, self.invoice_record(adm_id, invoice_id))

    def writes(self, tenant: str) -> list[Record]:
        with self.lock:
            return [dict(w) for w in self.administration(tenant)["writes"]]

    def register_payment(self, tenant: str, invoice_id: str, amount: Decimal, on: date | None = None) -> str:
        with self.lock:
            inv = self.invoice_record(tenant, invoice_id)
            moment = self.now()
            payment = {
                "id": self._next_id(),
                "price_cents": cents_of(amount),
                "payment_date": (on or self.today()).isoformat(),
                "user_id": self.administration(tenant)["users"][0]["id"],
                "credit_invoice_id": None,
                "manual_payment_action": "bank_transfer",
                "created_at": stamp(moment),
                "financial_account_id": None,
                "transaction_identifier": None,
            }
            inv["payments"].append(payment)
            self.record_event(
                tenant,
                inv,
                "payment_registered",
                entity_type="Payment",
                entity_id=payment["id"],
                entity=render_payment(tenant, inv["id"], payment),
            )
            if invoice_totals(inv)[2] <= 0 and inv["state"] not in ("paid", "draft"):
                inv["paid_at"] = payment["payment_date"]
                self.change_state(tenant, inv, "paid")
            self.save()
            return str(payment["id"])

    def create_invoice(
        self,
        tenant: str,
        debtor_id: str | None = None,
        total: Decimal = Decimal("121.00"),
        due_date: date | None = None,
        consumer: bool = False,
    ) -> str:
        """A sent invoice (``open``, or ``late`` if already due) for ``total`` incl. 21 % VAT."""
        with self.lock:
            adm = self.administration(tenant)
            today = self.today()
            due = due_date or today + timedelta(days=14)
            if debtor_id is None:
                debtor_id = self._create_contact(adm, consumer)
            elif debtor_id not in adm["contacts"]:
                raise SandboxError(404, NOT_FOUND)
            total_cents = cents_of(total)
            excl = round(total_cents * 100 / 121)
            inv = new_invoice(
                adm,
                self._next_id,
                contact_id=debtor_id,
                excl_cents=excl,
                invoice_date=min(today, due - timedelta(days=14)),
                due_date=due,
                created=self.now(),
                workflow=adm["workflows"][1],
            )
            inv["tax_cents"] = total_cents - excl
            adm["invoices"][inv["id"]] = inv
            self.record_event(tenant, inv, "sales_invoice_created")
            self.change_state(tenant, inv, "open")
            self.record_event(
                tenant, inv, "sales_invoice_send_email", data={"email_address": adm["contacts"][debtor_id]["email"]}
            )
            if due < today:
                self.change_state(tenant, inv, "late")
            self.save()
            return str(inv["id"])

    def set_state(self, adm_id: str, invoice_id: str, state: str) -> None:
        """Force a state (tests); ``paid`` books the residual as a payment, ``uncollectible`` marks it."""
        if state not in INVOICE_STATES:
            raise ValueError(f"unknown Moneybird invoice state {state!r}")
        with self.lock:
            inv = self.invoice_record(adm_id, invoice_id)
            residual = invoice_totals(inv)[2]
            if state == "paid" and residual > 0:
                self.register_payment(adm_id, invoice_id, Decimal(residual).scaleb(-2))
            else:
                if state == "uncollectible":
                    inv["marked_uncollectible_on"] = self.today().isoformat()
                self.change_state(adm_id, inv, state)
            self.save()

    def issue_token(self, scope: str = "sales_invoices settings") -> Record:
        """A token response as ``/oauth/token`` would give it, without the browser round trip (tests)."""
        with self.lock:
            tokens = self.oauth.issue_tokens(scope, int(self.now().timestamp()))
            self.save()
            return tokens

    # -- events, state changes and the daily tick ----------------------------------------------------------
    def record_event(
        self,
        adm_id: str,
        inv: Record,
        action: str,
        *,
        data: Record | None = None,
        entity_type: str = "SalesInvoice",
        entity_id: str | None = None,
        entity: Record | None = None,
        history: bool = True,
    ) -> None:
        moment = stamp(self.now())
        adm = self.administration(adm_id)
        if history:
            inv["events"].append(
                {"action": action, "user_id": adm["users"][0]["id"], "data": data or {}, "created_at": moment}
            )
        inv["updated_at"] = max(inv["updated_at"], moment)
        self.emit(
            adm_id,
            action,
            entity_type,
            entity_id or inv["id"],
            inv["state"],
            entity if entity is not None else lambda: self.render(adm_id, inv),
        )

    def change_state(self, adm_id: str, inv: Record, state: str) -> None:
        inv["state"] = state
        self.record_event(adm_id, inv, f"sales_invoice_state_changed_to_{state}")

    def tick(self) -> None:
        """Once per sandbox day: open → late after the due date, scheduled → open, workflow auto-reminders."""
        today = self.today()
        if self.data.get("last_tick") == today.isoformat():
            return
        self.data["last_tick"] = today.isoformat()
        for adm_id, adm in self.data["administrations"].items():
            workflows = {w["id"]: w for w in adm["workflows"]}
            for inv in adm["invoices"].values():
                if inv["state"] == "scheduled" and inv["invoice_date"] and inv["invoice_date"] <= today.isoformat():
                    inv["sent_at"] = today.isoformat()
                    self.change_state(adm_id, inv, "open")
                if inv["state"] == "open" and inv["due_date"] < today.isoformat():
                    self.change_state(adm_id, inv, "late")
                if self.auto_reminders and inv["state"] in ("late", "reminded") and not inv["paused"]:
                    self._auto_remind(adm_id, inv, workflows[inv["workflow_id"]], today)
        self.save()

    def _auto_remind(self, adm_id: str, inv: Record, workflow: Record, today: date) -> None:
        steps = workflow["steps"]
        count = inv["reminder_count"] or 0
        if count >= len(steps) or not steps[count]["reminder_auto_send"]:
            return
        due_day = date.fromisoformat(inv["due_date"]) + timedelta(days=steps[0]["reminder_delay"])
        if today < (due_day if count == 0 else date.fromisoformat(inv["next_reminder"])):
            return
        self.record_reminder(adm_id, inv, steps[count]["reminder_text"], "Email")

    def record_reminder(self, adm_id: str, inv: Record, text: str | None, delivery_method: str) -> None:
        """One reminder on one invoice (API ``send_reminders`` or Moneybird's own workflow)."""
        adm = self.administration(adm_id)
        steps = next(w for w in adm["workflows"] if w["id"] == inv["workflow_id"])["steps"]
        count = (inv["reminder_count"] or 0) + 1
        inv["reminder_count"] = count
        if not inv["paused"]:
            delay = steps[min(count, len(steps) - 1)]["reminder_delay"]
            inv["next_reminder"] = (self.today() + timedelta(days=delay)).isoformat()
        action = "sales_invoice_send_reminder_" + ("manually" if delivery_method == "Manual" else "email")
        self.record_event(adm_id, inv, action, data={"reminder_text": text or ""})
        if inv["state"] != "reminded":
            self.change_state(adm_id, inv, "reminded")

    # -- contacts --------------------------------------------------------------------------------------------
    def _create_contact(self, adm: Record, consumer: bool) -> str:
        number = len(adm["contacts"]) + 1
        rng = random.Random(f"{adm['info']['id']}-{number}")
        contact = new_contact(
            adm["info"]["id"],
            self._next_id(),
            number,
            person=("Eva", f"Klant {number}") if consumer else None,
            company=None if consumer else f"Nieuwe Klant {number} B.V.",
            kvk=None if consumer else str(rng.randrange(10_000_000, 99_999_999)),
            city=("Amsterdam", "1012AB"),
            created=stamp(self.now()),
        )
        adm["contacts"][contact["id"]] = contact
        return str(contact["id"])

    def new_note(
        self, adm_id: str, entity_type: str, entity_id: str, text: str, todo: bool, assignee_id: str | None
    ) -> Record:
        adm = self.administration(adm_id)
        return {
            "id": self._next_id(),
            "entity_id": entity_id,
            "entity_type": entity_type,
            "user_id": adm["users"][0]["id"],
            "assignee_id": assignee_id,
            "todo": bool(todo or assignee_id),
            "note": text,
            "created_at": stamp(self.now()),
        }

    def note_pushed(self, adm_id: str, inv: Record, note: Record) -> None:
        self.record_event(
            adm_id,
            inv,
            "note_created",
            entity_type="Note",
            entity_id=note["id"],
            entity=render_note(adm_id, note),
            history=False,
        )

    def pause(self, adm_id: str, inv: Record, paused: bool) -> None:
        if paused:
            inv.update(paused=True, next_reminder=PAUSED_NEXT_REMINDER)  # docs/providers/moneybird.md#write-back
        else:
            count = inv["reminder_count"] or 0
            inv.update(paused=False, next_reminder=inv["due_date"] if count == 0 else self.today().isoformat())
        self.record_event(adm_id, inv, "sales_invoice_paused" if paused else "sales_invoice_unpaused")

    def public_hash(self, *parts: object) -> str:
        return hex64(*parts)
