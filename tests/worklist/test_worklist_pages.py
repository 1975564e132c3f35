"""The worklist, debtor, invoice, preview and search pages through Flask's test client: they render in Dutch and
English, the forms act (with the CSRF token) and say what happened, and another organisation's ids are 404s."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connector.channels.phone import CallOutcome, LateReason
from connector.debtors import HoldReason
from connector.model.outbox import OutboxStatus
from connector.rules.decisions import Reason
from connector.storage import repos
from connector.storage.db import transaction
from dashboard import create_app, debtor_pages
from tests.worklist.conftest import Desk


@pytest.fixture
def app(desk: Desk) -> Iterator[Flask]:
    app = create_app(desk.world.rt.settings, runtime=desk.world.rt, org_id=desk.world.org_id)
    app.config["TESTING"] = True
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found, f"{path} has a form with a CSRF token"
    return found.group(1)


def _status(desk: Desk, name: str) -> OutboxStatus:
    with desk.world.rt.sessions() as s:
        item = repos.get_outbox_item(s, desk.world.org_id, desk.items[name])
    assert item is not None
    return item.status


@pytest.mark.parametrize(
    ("codes", "words"),
    [
        ({r.value for r in Reason}, debtor_pages.WAIT_REASONS),
        ({r.value for r in HoldReason}, debtor_pages.HOLD_REASONS),
        ({o.value for o in CallOutcome}, debtor_pages.OUTCOMES),
        ({r.value for r in LateReason}, debtor_pages.LATE_REASONS),
    ],
    ids=["reasons-for-waiting", "hold-reasons", "call-outcomes", "late-reasons"],
)
def test_every_code_a_person_reads_has_words(codes: set[str], words: dict[str, object]) -> None:
    assert set(words) == codes, f"codes without words: {codes - set(words)}; words without a code: {set(words) - codes}"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nl", ["Werklijst", "Goedkeuren", "Bakkerij Jansen", "2026-i2"]),
        ("en", ["Worklist", "Approve", "Hovenier Bos"]),
    ],
)
def test_the_worklist_renders_in_both_languages(client: FlaskClient, lang: str, expected: list[str]) -> None:
    body = client.get(f"/worklist?lang={lang}").get_data(as_text=True)
    for text in expected:
        assert text in body, f"{text!r} on the worklist in {lang}"


@pytest.mark.parametrize(
    "path",
    [
        "/worklist?tab=approval",
        "/worklist?tab=phone",
        "/worklist?tab=snoozed",
        "/worklist?tab=tomorrow",
        "/worklist?tab=credit_stops",
        "/worklist?tab=over_limit",
        "/worklist?q=jansen&channel=email&step=Reminder",
        "/debtors",
        "/search?q=2026-i",
        "/search?q=nobody",
    ],
)
def test_every_tab_and_list_renders(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    assert "<h1>" in response.get_data(as_text=True), f"{path} has a heading"


def test_the_debtor_and_invoice_pages_render(client: FlaskClient, desk: Desk) -> None:
    body = client.get(f"/debtors/{desk.debtors['d2']}?lang=en").get_data(as_text=True)
    for text in ("Fietsen de Vries", "Timeline", "Payment received", "Log a call", "2026-i3"):
        assert text in body, f"{text!r} on the debtor page"
    body = client.get(f"/invoices/{desk.invoices['i1']}?lang=en").get_data(as_text=True)
    assert "Invoice 2026-i1" in body and "Next step" in body, "the invoice page"


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "It was due before dunning started, and you chose to skip that history."),
        ("nl", "Hij was al vervallen voordat het aanmanen begon, en u koos ervoor die geschiedenis over te slaan."),
    ],
)
def test_the_invoice_page_says_history_is_skipped(client: FlaskClient, desk: Desk, lang: str, words: str) -> None:
    """docs/onboarding.md#day-one-choices: an invoice skip_history leaves alone says why on its page."""
    world, today = desk.world, desk.today
    world.invoice("old-1", "d1", today - timedelta(days=60), "90.00")
    with transaction(world.rt.sessions) as s:
        repos.set_day_one(s, world.org_id, world.adm_id, "skip_history", today - timedelta(days=3))
        invoice_id = repos.get_invoices(s, world.org_id, world.adm_id, ["old-1"])[0].id
    assert world.run(today).non_decisions.get("before_start"), "the run does not leave the old invoice alone"
    body = html.unescape(client.get(f"/invoices/{invoice_id}?lang={lang}").get_data(as_text=True))
    assert words in body, f"the invoice page ({lang}) does not say it was due before dunning started"


def test_one_search_hit_opens_it(client: FlaskClient, desk: Desk) -> None:
    response = client.get("/search?q=2026-i4")
    assert response.status_code == 302, "a single hit redirects"
    assert response.headers["Location"].endswith(f"/invoices/{desk.invoices['i4']}"), "to the invoice page"


@pytest.mark.parametrize(
    "path",
    ["/debtors/{other_debtor}", "/invoices/{other_invoice}", "/worklist/{other_item}/preview", "/debtors/999999"],
)
def test_another_organisations_pages_are_404(client: FlaskClient, desk: Desk, path: str) -> None:
    url = path.format(other_debtor=desk.other_debtor, other_invoice=desk.other_invoice, other_item=desk.other_item)
    assert client.get(url).status_code == 404, f"{url} is not found"


def test_bulk_approve_and_a_rows_skip(client: FlaskClient, desk: Desk) -> None:
    token = _csrf(client, "/worklist")
    form = {"csrf": token, "action": "approve", "item": [str(desk.items["approve_me"]), str(desk.other_item)]}
    response = client.post("/worklist/act?lang=en", data=form, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "Approved: 1." in body and "1 could not be changed" in body, "the notice says what happened"
    assert _status(desk, "approve_me") is OutboxStatus.PENDING, "approved"
    form = {"csrf": token, "row": f"skip:{desk.items['queued']}", "reason": "", "item": []}
    body = client.post("/worklist/act?lang=en", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Say why the step is skipped." in body and _status(desk, "queued") is OutboxStatus.PENDING, "a reason"
    form["reason"] = "paid in cash"
    client.post("/worklist/act", data=form)
    assert _status(desk, "queued") is OutboxStatus.SKIPPED, "skipped with its reason"


def test_snooze_needs_a_later_day(client: FlaskClient, desk: Desk) -> None:
    token = _csrf(client, "/worklist")
    item = str(desk.items["call_d3"])
    for day, expected in ((desk.today, None), (desk.today + timedelta(days=2), desk.today + timedelta(days=2))):
        client.post("/worklist/act", data={"csrf": token, "row": f"snooze:{item}", "until": day.isoformat()})
        with desk.world.rt.sessions() as s:
            found = repos.get_outbox_item(s, desk.world.org_id, int(item))
        assert found is not None and found.payload.snoozed_until == expected, f"snooze to {day}"


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient, desk: Desk) -> None:
    response = client.post("/worklist/act", data={"action": "approve", "item": str(desk.items["approve_me"])})
    assert response.status_code == 400, "no token, no change"
    assert _status(desk, "approve_me") is OutboxStatus.AWAITING_APPROVAL, "nothing changed"


@pytest.mark.parametrize(
    ("path", "form", "notice", "kind"),
    [
        ("call", {"outcome": "call_back", "reason": "negligence", "note": "Friday"}, "Call saved.", "call"),
        ("call", {"outcome": "promise_to_pay"}, "A promise to pay needs the promised date.", None),
        ("call", {"outcome": "shouting"}, "Choose the call's outcome from the list.", None),
        ("hold", {"reason": "dispute"}, "On hold: no reminders", "debtor_hold"),
        ("hold", {"reason": "bored"}, "Choose why it is on hold.", None),
        ("promise", {"promise_date": "+3"}, "Promise to pay saved.", "promise"),
        ("promise", {"promise_date": "-3"}, "The promise could not be saved", None),
        ("arrangement", {"installments": "3", "first_due": "+7", "every_days": "30"}, "saved", "arrangement"),
        ("credit-stop", {"stop": "1", "reason": "too much open"}, "Credit stop set.", "credit_stop"),
    ],
)
def test_the_debtor_pages_inline_actions(
    client: FlaskClient, desk: Desk, path: str, form: dict[str, str], notice: str, kind: str | None
) -> None:
    debtor = desk.debtors["d2"]
    data = {k: (desk.today + timedelta(days=int(v))).isoformat() if v[:1] in "+-" else v for k, v in form.items()}
    data["csrf"] = _csrf(client, f"/debtors/{debtor}")
    response = client.post(f"/debtors/{debtor}/{path}?lang=en", data=data, follow_redirects=True)
    body = html.unescape(response.get_data(as_text=True))
    assert notice in body, f"{path} {form} says {notice!r}"
    with desk.world.rt.sessions() as s:
        kinds = [e.kind for e in repos.debtor_audit(s, desk.world.org_id, desk.world.adm_id, "d2")]
    if kind is None:
        assert not kinds, f"refused input changes nothing: {kinds}"
    else:
        assert kind in kinds, f"{path} is in the audit trail: {kinds}"


def test_the_message_preview_shows_the_rendered_email(client: FlaskClient, desk: Desk) -> None:
    response = client.get(f"/worklist/{desk.items['approve_me']}/preview?lang=en")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "The message as it will go out" in body, "the preview page"
    assert "2026-i1" in body, "the message names its invoice"
    assert client.get(f"/worklist/{desk.items['call_d3']}/preview").status_code == 200, "a call: says it sends none"
