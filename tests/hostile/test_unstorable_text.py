"""Text no database can store (a NUL character, an unpaired surrogate) sent to the API and the pages, on SQLite
and PostgreSQL: a 422 problem naming the field (API) or a 400 page saying what to do (web), never a 500 and
never stored. PostgreSQL refused such a reason or search term with a 500 before ``dashboard.inputs`` checked them
(the API's worklist skip, first seen in the suite's PostgreSQL pass)."""

from __future__ import annotations

from typing import Any

import pytest

from connector import apikeys
from connector.storage import repos
from tests.hostile.conftest import ReceiverWorld

NUL, SURROGATE = "a\x00b", "a\ud800b"
API = "/api/v1"

# (method, path, query, body, the field the problem names)
API_CASES = [
    ("GET", "/debtors", {"q": NUL}, None, "q"),
    ("GET", "/invoices", {"debtor": NUL}, None, "debtor"),
    ("GET", "/worklist", {"status": NUL}, None, "status"),
    ("POST", "/worklist/1/skip", None, {"reason": NUL}, "reason"),
    ("POST", "/worklist/1/skip", None, {"reason": SURROGATE}, "reason"),
    ("POST", "/worklist/1/skip", None, {"reas\x00on": "x"}, "body"),
    ("POST", "/debtors/1/calls", None, {"outcome": "no_answer", "note": SURROGATE}, "note"),
    ("POST", "/webhooks/subscriptions", None, {"url": "https://hooks.example/in", "description": NUL}, "description"),
]


@pytest.mark.parametrize(("method", "path", "query", "body", "field"), API_CASES)
def test_the_api_refuses_unstorable_text_as_a_problem(
    world: ReceiverWorld, method: str, path: str, query: dict[str, str] | None, body: Any, field: str
) -> None:
    key = apikeys.create_key(world.runtime, world.org_id, "write", "tests").key
    answer = world.client.open(
        f"{API}{path}", method=method, query_string=query, json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 422, f"{method} {path} {query or body!r}: {answer.status_code} {answer.text[:300]}"
    assert answer.content_type == "application/problem+json", f"{method} {path}: {answer.content_type}"
    assert [e["field"] for e in answer.get_json()["errors"]] == [field], f"{method} {path}: {answer.get_json()}"


def test_the_api_checks_the_key_before_the_text(world: ReceiverWorld) -> None:
    answer = world.client.get(f"{API}/debtors", query_string={"q": NUL})
    assert answer.status_code == 401, f"no key must stay a 401: {answer.status_code} {answer.text[:200]}"


# (method, path, query, form)
WEB_CASES = [
    ("GET", "/worklist", {"q": NUL}, None),
    ("GET", "/debtors", {"q": NUL}, None),
    ("POST", "/login", None, {"email": NUL, "password": "x"}),
    ("POST", "/forgot", None, {"email": NUL}),
    ("GET", "/oauth/moneybird/callback", {"state": NUL, "code": "c"}, None),
    ("GET", "/reset/a%00b", None, None),
]


@pytest.mark.parametrize(("method", "path", "query", "form"), WEB_CASES)
def test_pages_refuse_unstorable_text_with_a_page(
    world: ReceiverWorld, method: str, path: str, query: dict[str, str] | None, form: dict[str, str] | None
) -> None:
    world.app.config["WTF_CSRF_ENABLED"] = False  # about the text, not the form's token (CSRF has its own tests)
    answer = world.client.open(path, method=method, query_string={**(query or {}), "lang": "en"}, data=form)
    assert answer.status_code == 400, f"{method} {path}: {answer.status_code} {answer.text[:300]}"
    assert "cannot be stored" in answer.text, f"{method} {path}: the page says what to do: {answer.text[:300]}"
    assert "Traceback" not in answer.text, f"{method} {path}"


# the debtor's page: a link or code with such a character is unknown, with the portal's own neutral answer
PORTAL_CASES = [
    ("GET", "/p/a%00b", None, None),
    ("GET", "/p", {"code": NUL}, None),
    ("POST", "/p", None, {"code": NUL}),
]


@pytest.mark.parametrize(("method", "path", "query", "form"), PORTAL_CASES)
def test_the_debtors_page_answers_an_unknown_link(
    world: ReceiverWorld, method: str, path: str, query: dict[str, str] | None, form: dict[str, str] | None
) -> None:
    world.app.config["WTF_CSRF_ENABLED"] = False
    answer = world.client.open(path, method=method, query_string=query, data=form)
    assert answer.status_code == 404, f"{method} {path}: {answer.status_code} {answer.text[:300]}"
    assert answer.headers.get("X-Robots-Tag"), f"{method} {path}: the portal's own page, not the dashboard's"


def test_the_dutch_page_says_it_in_dutch(world: ReceiverWorld) -> None:
    answer = world.client.get("/worklist", query_string={"q": NUL, "lang": "nl"})
    assert answer.status_code == 400, answer.text[:300]
    assert "niet kan worden opgeslagen" in answer.text, answer.text[:500]


def test_nothing_with_a_nul_is_stored(world: ReceiverWorld) -> None:
    key = apikeys.create_key(world.runtime, world.org_id, "write", "tests").key
    world.client.post(
        f"{API}/webhooks/subscriptions",
        json={"url": "https://hooks.example/in", "description": NUL},
        headers={"Authorization": f"Bearer {key}"},
    )
    with world.runtime.sessions() as s:
        assert not repos.webhook_subscriptions(s, world.org_id), "a subscription with a NUL was stored"
