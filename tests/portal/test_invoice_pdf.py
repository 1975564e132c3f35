"""The invoice PDF on the debtor's page (docs/portal.md#the-invoice-pdf), against each provider's sandbox: Xero and
Moneybird give the package's own PDF through our server (the link is on the page; the bytes are a PDF naming the
invoice; no-store; the file named after the invoice number); Exact has none (no link, 404). Another debtor's
invoice and another organisation's invoice get the same 404 as a bad link; a package failure gets a friendly page
(502 or 503, no traceback) and a log line without the token; every download counts against the token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from structlog.testing import capture_logs

from connector import demo, model, sync
from connector import portal as debtor_page
from connector.auth import portal
from connector.ports import RateLimit
from connector.registry import ADAPTERS
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction

SIZES = {
    "exact": {"divisions": 1, "items_per_division": 12, "accounts_per_division": 4, "rate_limits": False},
    "moneybird": {
        "administrations": 1,
        "invoices_per_administration": 12,
        "contacts_per_administration": 4,
        "rate_limits": False,
    },
    "xero": {"tenants": 1, "invoices_per_tenant": 12, "contacts_per_tenant": 4, "rate_limits": False},
}
OFFERS_PDF = {"exact": False, "moneybird": True, "xero": True}


@dataclass
class Stack:
    provider: str
    run: demo.DemoRun
    adm_id: int

    @property
    def sandbox(self) -> Any:
        return self.run.sandboxes[self.provider].app.extensions["sandbox"]

    def issue(self, org_id: int, adm_id: int, debtor_ref: str) -> str:
        with transaction(self.run.runtime.sessions) as s:
            adm = repos.get_administration(s, org_id, adm_id)
            rt = self.run.runtime
            issued = portal.issue_link(
                s, adm, debtor_ref, keys=rt.settings.fernet_keys(), base_url=rt.settings.base_url, now=rt.clock()
            )
        return issued.token

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.run.web.url}{path}", timeout=60, allow_redirects=False)


@pytest.fixture(params=sorted(SIZES))
def stack(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installation_db: str
) -> Iterator[Stack]:
    provider = request.param
    monkeypatch.setattr(ADAPTERS[provider], "limits", (RateLimit(100_000, 60),))
    run = demo.start(
        Settings(var_dir=tmp_path / "var", database_url=installation_db),
        providers=[provider],
        options={provider: SIZES[provider]},
    )
    connection_id = demo.connect(run, provider)
    sync.sync_connection(run.runtime, run.org_id, connection_id)
    with run.runtime.sessions() as s:
        adm_id = max(  # the administration with the most open invoices (Exact also lists an empty division)
            (a.id for a in repos.list_administrations(s, run.org_id, connection_id)),
            key=lambda a: len(repos.get_invoices(s, run.org_id, a, open_only=True)),
        )
    yield Stack(provider, run, adm_id)
    run.shutdown()


def _open_by_debtor(stack: Stack) -> dict[str, list[Any]]:
    """debtor ref -> its open invoices with something to pay (what the page shows), for debtors with one or more."""
    found: dict[str, list[Any]] = {}
    with stack.run.runtime.sessions() as s:
        for row in repos.get_invoices(s, stack.run.org_id, stack.adm_id, open_only=True):
            if row.open_minor > 0 and row.number:
                found.setdefault(row.debtor_ref, []).append(row)
    assert len(found) >= 2, f"{stack.provider}: the sandbox needs two debtors with open invoices: {found}"
    return found


def _other_organisation(stack: Stack) -> tuple[int, int, str]:
    """A second organisation on the same installation with one debtor and one open invoice ``X-1``."""
    rt, now = stack.run.runtime, stack.run.runtime.clock()
    with transaction(rt.sessions) as s:
        org = repos.create_organisation(s, "Other BV")
        conn = repos.create_connection(s, org, stack.provider)
        adm = repos.upsert_administration(
            s, org, conn.id, stack.provider, model.Tenant(provider_tenant_id="other", name="Other BV")
        )
        debtor = model.Debtor(provider_ref="OD", name="Other debtor", segment=model.Segment.B2B)
        repos.upsert_debtors(s, org, adm.id, [debtor], now)
        invoice = model.Invoice(
            provider_ref="X-1",
            number="X-1",
            debtor_ref="OD",
            invoice_date=now.date() - timedelta(days=40),
            due_date=now.date() - timedelta(days=10),
            currency="EUR",
            total=Decimal("10.00"),
            open_amount=Decimal("10.00"),
            status=model.InvoiceStatus.OPEN,
            provider_state="open",
        )
        repos.upsert_invoices(s, org, adm.id, [invoice], now)
        return org, adm.id, "X-1"


def _pdf_path(token: str, ref: str) -> str:
    return f"/p/{token}/invoices/{ref}.pdf"


def _is_gone_page(answer: requests.Response) -> bool:
    return (
        answer.status_code == 404 and "Deze link werkt niet" in answer.text and "This link does not work" in answer.text
    )


def test_the_invoice_pdf_through_the_debtors_page(stack: Stack) -> None:
    invoices = _open_by_debtor(stack)
    debtor_ref, other_ref = sorted(invoices)[:2]
    mine, theirs = invoices[debtor_ref][0], invoices[other_ref][0]
    token = stack.issue(stack.run.org_id, stack.adm_id, debtor_ref)
    other_org, other_adm, other_invoice = _other_organisation(stack)
    other_token = stack.issue(other_org, other_adm, "OD")
    offers = OFFERS_PDF[stack.provider]

    page = stack.get(f"/p/{token}?lang=en")
    assert page.status_code == 200, f"{stack.provider}: the page answered {page.status_code}"
    link = _pdf_path(token, mine.provider_ref)
    assert (f'href="{link}"' in page.text) is offers, f"{stack.provider}: PDF link shown is not {offers}"
    assert (f"Invoice {mine.number} (PDF)" in page.text) is offers, f"{stack.provider}: the link's text"

    cases = [  # (what, path, expected status)
        ("own invoice", link, 200 if offers else 404),
        ("another debtor's invoice", _pdf_path(token, theirs.provider_ref), 404),
        ("another organisation's invoice", _pdf_path(token, other_invoice), 404),
        ("our invoice through another organisation's link", _pdf_path(other_token, mine.provider_ref), 404),
        ("a made-up invoice", _pdf_path(token, "does-not-exist"), 404),
        (
            "a tampered link",
            _pdf_path(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), mine.provider_ref),
            404,
        ),
    ]
    for what, path, status in cases:
        answer = stack.get(path)
        assert answer.status_code == status, f"{stack.provider} {what}: {answer.status_code} {answer.text[:200]}"
        if status == 404:
            assert _is_gone_page(answer), f"{stack.provider} {what}: not the neutral page of a bad link"
            assert "%PDF" not in answer.text, f"{stack.provider} {what}: a PDF leaked"
            continue
        assert answer.content.startswith(b"%PDF-"), f"{stack.provider}: not a PDF: {answer.content[:30]!r}"
        assert mine.number.encode() in answer.content, f"{stack.provider}: the PDF does not name {mine.number}"
        assert answer.headers["Content-Type"] == "application/pdf"
        assert answer.headers["Cache-Control"] == "no-store", "the PDF may be cached"
        disposition = answer.headers["Content-Disposition"]
        assert re.sub(r"[^\w.-]", "-", mine.number) in disposition, f"no invoice number in {disposition}"


FAILURES = {  # provider -> (the sandbox answers, our status, what the debtor reads)
    "moneybird": [(404, 502, "did not give us the PDF"), (422, 502, "did not give us the PDF"), (500, 503, "in time")],
    "xero": [(400, 502, "did not give us the PDF"), (404, 502, "did not give us the PDF"), (503, 503, "in time")],
}


@pytest.fixture
def no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """The package's 5xx is retried as always; the test does not wait out the backoff."""
    monkeypatch.setattr("connector.http.retry._wait", lambda state: 0)


@pytest.mark.parametrize("stack", sorted(FAILURES), indirect=True)
def test_a_package_failure_gets_a_friendly_page_and_a_log_without_the_token(stack: Stack, no_retry_wait: None) -> None:
    debtor_ref, rows = next(iter(_open_by_debtor(stack).items()))
    token = stack.issue(stack.run.org_id, stack.adm_id, debtor_ref)
    path = _pdf_path(token, rows[0].provider_ref)
    for sandbox_status, status, text in FAILURES[stack.provider]:
        what = f"{stack.provider} answering {sandbox_status}"
        stack.sandbox.pdf_failure = sandbox_status
        with capture_logs() as logs:
            answer = stack.get(path + "?lang=en")
        assert answer.status_code == status, f"{what}: {answer.status_code} {answer.text[:300]}"
        assert text in answer.text and rows[0].number in answer.text, f"{what}: {answer.text[:400]}"
        assert "Traceback" not in answer.text and "Error" not in answer.text, f"{what}: an error's innards shown"
        assert f'href="/p/{token}"' in answer.text, f"{what}: no way back to the page"
        assert "no-store" in answer.headers["Cache-Control"], f"{what}: the failure page may be cached"
        events = [e for e in logs if str(e.get("event", "")).startswith("portal.invoice_pdf")]
        assert events, f"{what}: the failure was not logged: {logs}"
        assert all(token.split(".")[1] not in repr(e) for e in logs), f"{what}: the token was logged"
    stack.sandbox.pdf_failure = None
    again = stack.get(path)
    assert again.status_code == 200 and again.content.startswith(b"%PDF-"), "the PDF did not come back"
    dutch = stack.get(path + "?lang=nl")
    assert dutch.status_code == 200, "the Dutch page of the PDF"


def test_every_download_counts_against_the_token(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    if not OFFERS_PDF[stack.provider]:
        pytest.skip("no PDF to download")
    monkeypatch.setattr(debtor_page, "MAX_TRIES_PER_TOKEN", 3)
    debtor_ref, rows = next(iter(_open_by_debtor(stack).items()))
    token = stack.issue(stack.run.org_id, stack.adm_id, debtor_ref)
    path = _pdf_path(token, rows[0].provider_ref)
    statuses = [stack.get(path).status_code for _ in range(3)]
    assert statuses == [200, 200, 200], f"{stack.provider}: {statuses}"
    assert stack.get(path).status_code == 429, "a fourth download within the window was not throttled"
    assert stack.get(f"/p/{token}").status_code == 429, "the page itself shares the token's budget"
