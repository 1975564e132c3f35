"""A simulated world for the time-machine end-to-end test: one provider sandbox, the demo's SMTP mailbox and our
whole stack, driven day by day under one controlled clock.

``World`` owns the clock that the sandbox (``create_app(clock=...)``) and our ``Runtime`` (tokens, rate budget,
HTTP sessions, sync, outbox) both read, so a simulated day is the same day everywhere. ``day()`` runs what a
scheduler would run every morning: an incremental sync, ``debtors.daily_checks``, today's rules and the outbox
drain, with hooks before the sync and between the rules and the drain. Everything the outside world received is
collected: e-mails from the mailbox (Message-ID, recipient, date, body, attachments) and the sandbox's
write-backs (``writes(tenant)``).
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from connector import debtors, decide, demo, outbox, sync
from connector.model.outbox import OutboxItem
from connector.ports import RateLimit
from connector.registry import ADAPTERS
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos, tables

# one administration, no seeded open invoices: every invoice in the books is one the scenario created
SANDBOX_OPTIONS: dict[str, dict[str, Any]] = {
    "moneybird": {
        "administrations": 1,
        "invoices_per_administration": 0,
        "contacts_per_administration": 1,
        "rate_limits": False,
        "auto_reminders": False,
    },
    "xero": {"tenants": 1, "invoices_per_tenant": 0, "contacts_per_tenant": 1, "rate_limits": False},
    "exact": {"divisions": 1, "items_per_division": 0, "accounts_per_division": 8, "rate_limits": False},
}
MORNING, SYNC, AFTER_RULES = time(6, 0), time(8, 0), time(8, 30)  # UTC: the same calendar day in Amsterdam


class SimClock:
    """The one clock of the world; thread-safe because the sandbox answers from its own server threads."""

    def __init__(self, start: date) -> None:
        self._lock = threading.Lock()
        self._now = datetime.combine(start, MORNING, tzinfo=UTC)

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, day: date, at: time) -> None:
        moment = datetime.combine(day, at, tzinfo=UTC)
        with self._lock:
            if moment < self._now:
                raise AssertionError(f"the simulated clock never goes back ({moment} < {self._now})")
            self._now = moment


@dataclass(frozen=True)
class Mail:
    message_id: str
    to: str
    sent: datetime
    subject: str
    text: str
    attachments: tuple[tuple[str, bytes], ...]


def parse_mail(message: Message) -> Mail:
    text, attachments = "", []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        if part.get_filename():
            attachments.append((str(part.get_filename()), payload))
        elif part.get_content_type() == "text/plain" and not text:
            text = payload.decode(part.get_content_charset() or "utf-8")
    return Mail(
        message_id=str(message["Message-ID"]),
        to=parseaddr(str(message["To"]))[1].lower(),
        sent=parsedate_to_datetime(str(message["Date"])),
        subject=str(message["Subject"]),
        text=text,
        attachments=tuple(attachments),
    )


def note_marker(provider: str, idempotency_key: str) -> str:
    """The tag a write-back note carries to name our step (adapters/<provider>/writeback.py ``marker``)."""
    if provider == "xero":
        return f"[dunning {hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]}]"
    return f"[dunning:{idempotency_key}]"


def numbers_listed(text: str, numbers: dict[str, str]) -> set[str]:
    """The invoice refs (``numbers``: ref -> invoice number) whose number the message text lists."""
    return {ref for ref, number in numbers.items() if re.search(rf"(?<![\w-]){re.escape(number)}(?![\w-])", text)}


@dataclass
class World:
    provider: str
    run: demo.DemoRun
    clock: SimClock
    connection_id: int = 0
    today: date = date.min
    mails: list[tuple[date, Mail]] = field(default_factory=list)  # what our own channel sent
    package_mails: list[tuple[date, Mail]] = field(default_factory=list)  # what Moneybird sent itself
    writes: list[tuple[date, dict[str, Any]]] = field(default_factory=list)
    checks: dict[date, debtors.DailyCheck] = field(default_factory=dict)
    _seen_writes: int = 0

    @property
    def rt(self) -> Runtime:
        return self.run.runtime

    @property
    def org_id(self) -> int:
        return self.run.org_id

    @property
    def sandbox(self) -> Any:
        return self.run.sandboxes[self.provider].app.extensions["sandbox"]

    @property
    def tenant(self) -> str:
        return str(self.sandbox.tenant_ids()[0])  # Moneybird always has two administrations; we book in the first

    def administration(self) -> tables.Administration:
        with self.rt.sessions() as s:
            (adm,) = [a for a in repos.list_administrations(s, self.org_id) if a.provider_tenant_id == self.tenant]
        return adm

    def administrations(self) -> list[tables.Administration]:
        with self.rt.sessions() as s:
            return repos.list_administrations(s, self.org_id)

    # -- the sandbox books ---------------------------------------------------------------------------------
    def new_debtor(self, consumer: bool, taken: set[str]) -> str:
        """A fresh customer at the provider (Exact: an unused seeded account of the right kind)."""
        box = self.sandbox
        if self.provider == "xero":
            return str(box.create_contact(self.tenant, consumer=consumer))
        if self.provider == "exact":
            accounts = box.division(self.tenant)["accounts"].values()
            free = sorted(
                (a for a in accounts if a["IsSales"] and (not a["VATNumber"]) == consumer and a["ID"] not in taken),
                key=lambda a: a["Code"],
            )
            return str(free[0]["ID"])
        return ""  # Moneybird creates the contact together with its first invoice

    def create_invoice(self, debtor_id: str, total: Decimal, due: date, consumer: bool) -> tuple[str, str]:
        """(invoice id, debtor id) of a new sent invoice."""
        box = self.sandbox
        invoice_id = str(
            box.create_invoice(self.tenant, debtor_id or None, total=total, due_date=due, consumer=consumer)
        )
        if self.provider == "moneybird":
            debtor_id = str(box.invoice(self.tenant, invoice_id)["contact_id"])
        return invoice_id, debtor_id

    def pay(self, invoice_id: str, amount: Decimal) -> None:
        self.sandbox.register_payment(self.tenant, invoice_id, amount, on=self.today)

    # -- one simulated day ---------------------------------------------------------------------------------
    def day(
        self,
        today: date,
        morning: Callable[[World], None] | None = None,
        after_rules: Callable[[World], None] | None = None,
    ) -> decide.RunReport:
        self.today = today
        self.clock.set(today, MORNING)
        if morning:
            morning(self)
        self.clock.set(today, SYNC)
        sync.sync_connection(self.rt, self.org_id, self.connection_id)
        self.checks[today] = debtors.daily_checks(self.rt, self.org_id, today)
        report = decide.run_dunning(self.rt, self.org_id, today)
        self.clock.set(today, AFTER_RULES)
        if after_rules:
            after_rules(self)
        self.clock.set(today, AFTER_RULES.replace(minute=45))
        drained = outbox.drain(self.rt, self.org_id)
        assert drained.failed == 0 and drained.retry_later == 0, (today, drained)
        self._collect(today)
        return report

    def _collect(self, today: date) -> None:
        box = self.run.mailbox
        for message in box.messages()[len(self.mails) + len(self.package_mails) :]:
            if "moneybird.sandbox" in str(message["Message-ID"]):  # Moneybird mails the reminders it sends itself
                self.package_mails.append((today, parse_mail(message)))
            else:
                self.mails.append((today, parse_mail(message)))
        written = self.sandbox.writes(self.tenant)
        self.writes.extend((today, w) for w in written[self._seen_writes :])
        self._seen_writes = len(written)

    def outbox_items(self) -> list[OutboxItem]:
        with self.rt.sessions() as s:
            return repos.outbox_items(s, self.org_id)


def start_world(provider: str, start: date, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """The demo stack for ``provider`` under a simulated clock, connected through the real OAuth flow."""
    # what is under test is the ladder over weeks, not our client-side rate budget (tested in tests/http)
    monkeypatch.setattr(ADAPTERS[provider], "limits", (RateLimit(100_000, 60),))
    clock = SimClock(start)
    monkeypatch.setattr(demo, "Runtime", functools.partial(Runtime, clock=clock))  # tokens, budget, sessions too
    settings = Settings(var_dir=tmp_path / "var")  # the pass's installation (tests/dbs.py)
    options = {provider: {**SANDBOX_OPTIONS[provider], "clock": clock}}
    run = demo.start(settings, providers=[provider], options=options)
    world = World(provider=provider, run=run, clock=clock, today=start)
    assert run.runtime.clock is clock
    world.connection_id = demo.connect(run, provider)
    return world


def days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=n) for n in range(count)]
