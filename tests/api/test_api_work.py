"""The API's debtor work and reports against the live demo app: holds, promises, calls and arrangements recorded
through the services the pages use and listed back; scopes, another organisation's ids and refusals as problems;
reports per currency with amounts as strings."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from connector import apikeys, services
from tests.api.conftest import ApiWorld

PROBLEM = "application/problem+json"


def _call(world: ApiWorld, method: str, path: str, body: Any = None, key: str | None = None) -> requests.Response:
    return requests.request(
        method, f"{world.url}{path}", headers=world.headers(key or world.write_key), json=body, timeout=30
    )


def _items(world: ApiWorld, path: str, **params: Any) -> list[dict[str, Any]]:
    response = requests.get(f"{world.url}{path}", headers=world.headers(), params=params, timeout=30)
    assert response.status_code == 200, f"{path}: {response.text}"
    return list(response.json()["items"])


def _today(world: ApiWorld) -> date:
    return world.run.runtime.today(world.run.org_id)


def _open_invoice(world: ApiWorld, skip: int = 0) -> dict[str, Any]:
    open_ones = _items(world, "/invoices", status="open", limit=200)
    assert len(open_ones) > skip, "the demo has open invoices"
    return open_ones[skip]


def _debtor_of(world: ApiWorld, invoice: dict[str, Any]) -> int:
    for debtor in _items(world, "/debtors", limit=200, administration_id=invoice["administration_id"]):
        if debtor["reference"] == invoice["debtor_ref"]:
            return int(debtor["id"])
    raise AssertionError(f"no debtor for {invoice}")


@pytest.mark.parametrize(
    "path", ["/holds", "/holds?level=debtor", "/promises", "/calls", "/arrangements", "/reports/aging", "/reports/dso"]
)
def test_reads_answer_a_read_key(world: ApiWorld, path: str) -> None:
    response = requests.get(f"{world.url}{path}", headers=world.headers(), timeout=30)
    assert response.status_code == 200, f"{path}: {response.text}"
    assert response.headers["ETag"], f"{path} carries an ETag"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/invoices/1/hold", {"reason": "dispute"}),
        ("DELETE", "/invoices/1/hold", None),
        ("POST", "/debtors/1/promise", {"promise_date": "2999-01-01"}),
        ("POST", "/debtors/1/calls", {"outcome": "no_answer"}),
        ("POST", "/arrangements", {"debtor_id": 1, "installments": 2, "first_due": "2999-01-01"}),
    ],
)
def test_a_read_key_cannot_record_debtor_work(world: ApiWorld, method: str, path: str, body: Any) -> None:
    response = _call(world, method, path, body, key=world.read_key)
    assert response.status_code == 403, f"{method} {path}: {response.text}"
    assert response.headers["Content-Type"] == PROBLEM, f"{method} {path}"


def test_an_invoice_hold_is_listed_until_released(world: ApiWorld) -> None:
    invoice = _open_invoice(world)
    until = (_today(world) + timedelta(days=10)).isoformat()
    held = _call(world, "POST", f"/invoices/{invoice['id']}/hold", {"reason": "dispute", "until": until})
    assert held.status_code == 204, held.text
    [mine] = [h for h in _items(world, "/holds", limit=200) if h["invoice_id"] == invoice["id"]]
    assert (mine["reason"], mine["until"], mine["level"]) == ("dispute", until, "invoice"), mine
    assert _call(world, "GET", f"/invoices/{invoice['id']}").json()["hold_reason"] == "dispute", "the invoice says so"
    released = _call(world, "DELETE", f"/invoices/{invoice['id']}/hold")
    assert released.status_code == 204, released.text
    assert invoice["id"] not in [h["invoice_id"] for h in _items(world, "/holds", limit=200)], "released"


def test_a_debtor_hold_and_promise_are_listed_at_the_debtor_level(world: ApiWorld) -> None:
    debtor = _debtor_of(world, _open_invoice(world, 1))
    assert _call(world, "POST", f"/debtors/{debtor}/hold", {"reason": "talk_first"}).status_code == 204
    assert debtor in [h["debtor_id"] for h in _items(world, "/holds", level="debtor")], "the debtor is on hold"
    assert _call(world, "DELETE", f"/debtors/{debtor}/hold").status_code == 204
    assert debtor not in [h["debtor_id"] for h in _items(world, "/holds", level="debtor")], "released"
    day = (_today(world) + timedelta(days=5)).isoformat()
    promised = _call(world, "POST", f"/debtors/{debtor}/promise", {"promise_date": day, "note": "by phone"})
    assert promised.status_code == 204, promised.text
    listed = {p["debtor_id"]: p for p in _items(world, "/promises", level="debtor")}
    assert listed[debtor]["promise_date"] == day, listed


@pytest.mark.parametrize(
    ("path", "body", "status", "why"),
    [
        ("/invoices/{invoice}/promise", {"promise_date": "2000-01-01"}, 409, "a promise in the past"),
        ("/invoices/{invoice}/hold", {"reason": "bored"}, 422, "an unknown reason code"),
        ("/invoices/{invoice}/hold", {"reason": "dispute", "until": "2000-01-01"}, 409, "a hold ending in the past"),
        ("/debtors/{debtor}/calls", {"outcome": "promise_to_pay"}, 409, "a promise without its date"),
        ("/debtors/{debtor}/calls", {"outcome": "shouted"}, 422, "an unknown outcome"),
        ("/invoices/2147483000/hold", {"reason": "dispute"}, 404, "an id this organisation does not have"),
        ("/debtors/2147483000/calls", {"outcome": "no_answer"}, 404, "an id this organisation does not have"),
    ],
)
def test_refusals_are_problems_that_say_what_to_do(
    world: ApiWorld, path: str, body: dict[str, Any], status: int, why: str
) -> None:
    invoice = _open_invoice(world, 2)
    url = path.format(invoice=invoice["id"], debtor=_debtor_of(world, invoice))
    response = _call(world, "POST", url, body)
    assert response.status_code == status, f"{why}: {response.text}"
    assert response.headers["Content-Type"] == PROBLEM, why
    assert "Traceback" not in response.text and response.json()["detail"], why


def test_a_logged_call_acts_on_its_outcome_and_is_listed(world: ApiWorld) -> None:
    invoice = _open_invoice(world, 3)
    debtor = _debtor_of(world, invoice)
    day = (_today(world) + timedelta(days=7)).isoformat()
    body = {"outcome": "promise_to_pay", "promise_date": day, "invoice_id": invoice["id"], "reason": "negligence"}
    logged = _call(world, "POST", f"/debtors/{debtor}/calls", body)
    assert logged.status_code == 201, logged.text
    [call] = [c for c in _items(world, "/calls", debtor_id=debtor) if c["id"] == logged.json()["id"]]
    assert (call["outcome"], call["reason"], call["promise_date"]) == ("promise_to_pay", "negligence", day), call
    assert call["invoice_ref"] == invoice["reference"], call
    promised = {p["invoice_id"]: p for p in _items(world, "/promises", limit=200)}
    assert promised[invoice["id"]]["promise_date"] == day, "the promise of the call is recorded on the invoice"


def test_an_arrangement_splits_the_open_amount_into_its_schedule(world: ApiWorld) -> None:
    invoice = _open_invoice(world, 4)
    debtor = _debtor_of(world, invoice)
    first = _today(world) + timedelta(days=14)
    body = {"debtor_id": debtor, "invoice_ids": [invoice["id"]], "installments": 3, "first_due": first.isoformat()}
    created = _call(world, "POST", "/arrangements", body)
    assert created.status_code == 201, created.text
    plan = created.json()
    amounts = [Decimal(i["amount"]) for i in plan["installments"]]
    assert sum(amounts) == Decimal(invoice["open_amount"]), f"the terms add up to the open amount: {plan}"
    assert [i["due_date"] for i in plan["installments"]] == [
        (first + timedelta(days=30 * k)).isoformat() for k in range(3)
    ], "every 30 days from the first due date"
    assert _call(world, "GET", f"/arrangements/{plan['id']}").json() == plan, "shown by id as created"
    assert plan["id"] in [a["id"] for a in _items(world, "/arrangements", status="active")], "listed as active"
    again = _call(world, "POST", "/arrangements", {**body, "installments": 25})
    assert again.status_code == 422, "more terms than the bounds allow"


def test_reports_are_per_currency_with_amounts_as_strings(world: ApiWorld) -> None:
    aging = _call(world, "GET", "/reports/aging").json()
    totals = [r for r in aging["rows"] if r["scope"] == "total"]
    assert totals and all(len(r["currency"]) == 3 for r in totals), aging["rows"][:3]
    for row in totals:
        buckets = sum(Decimal(row[b]) for b in ("not_due", "days_1_30", "days_31_60", "days_61_90", "over_90"))
        assert buckets == Decimal(row["total"]), f"the buckets add up to the total: {row}"
    dso = _call(world, "GET", "/reports/dso").json()
    assert {r["currency"] for r in dso["rows"]} >= {r["currency"] for r in totals}, "a DSO per currency"
    assert all(isinstance(r["open_receivables"], str) for r in dso["rows"]), dso
    forecast = _call(world, "GET", "/reports/forecast").json()
    assert forecast["weeks"] == 13 and all(isinstance(r["expected"], str) for r in forecast["rows"]), forecast


def test_another_organisations_key_sees_none_of_it(world: ApiWorld) -> None:
    other = services.ensure_organisation(world.run.runtime, "Work elsewhere")
    key = apikeys.create_key(world.run.runtime, other, "write").key
    invoice = _open_invoice(world)
    for path in ("/holds", "/promises", "/calls", "/arrangements"):
        response = requests.get(f"{world.url}{path}", headers=world.headers(key), timeout=30)
        assert response.json()["items"] == [], f"{path} of another organisation is empty"
    refused = _call(world, "POST", f"/invoices/{invoice['id']}/hold", {"reason": "dispute"}, key=key)
    assert refused.status_code == 404, f"another organisation's invoice is not found: {refused.text}"
