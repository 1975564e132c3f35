"""Behaviour of the Moneybird sandbox: OAuth, filters and paging, sync API, rate limit, webhooks, write-back,
seed and persistence — each checked against what Moneybird documents for its API."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask, Response, request
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from sandboxes.moneybird.render import money, parse_stamp
from sandboxes.moneybird.state import MoneybirdSandbox
from sandboxes.moneybird.webhooks import signature_header
from sandboxes.runner import RunningServer, serve_in_thread
from tests.sandboxes.moneybird.conftest import SettableClock


def verify_signature(header: str, raw: bytes, secret: str, now: int) -> bool:
    """docs/providers/moneybird.md#signature, written independently of the sandbox: any v1 may match, t within 5
    minutes."""
    parts = [p.split("=", 1) for p in header.split(",")]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or abs(now - int(stamps[0])) > 300:
        return False
    expected = hmac.new(secret.encode(), f"{stamps[0]}.".encode() + raw, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records raw pushes and answers with scripted statuses."""

    def __init__(self) -> None:
        self.pushes: list[tuple[bytes, dict[str, str]]] = []
        self.statuses: list[int] = []
        app = Flask("receiver")

        @app.post("/hook")
        def hook() -> Response:
            raw = request.get_data()
            if "Moneybird-Signature" in request.headers:
                self.pushes.append((raw, dict(request.headers)))
            return Response("ok", self.statuses.pop(0) if self.statuses else 200)

        self.server: RunningServer = serve_in_thread(app)
        self.url = self.server.url + "/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hooks = Receiver()
    yield hooks
    hooks.server.shutdown()


def first(state: MoneybirdSandbox, adm: str, wanted: str) -> dict[str, Any]:
    inv = next(i for i in state.data["administrations"][adm]["invoices"].values() if i["state"] == wanted)
    return state.invoice(adm, inv["id"])


# -- OAuth ---------------------------------------------------------------------------------------------------
def test_oauth_round_trip_over_http(app: Flask, state: MoneybirdSandbox) -> None:
    with serve_in_thread(app) as server:
        redirect = "http://127.0.0.1:9/callback"
        authorize = requests.get(
            f"{server.url}/oauth/authorize",
            allow_redirects=False,
            timeout=5,
            params={
                "client_id": "sandbox-client-id",
                "redirect_uri": redirect,
                "response_type": "code",
                "scope": "sales_invoices settings",
                "state": "xyz",
            },
        )
        assert authorize.status_code == 302
        location = urlparse(authorize.headers["Location"])
        query = parse_qs(location.query)
        assert location.netloc == "127.0.0.1:9"
        assert query["state"] == ["xyz"]
        form = {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": redirect,
            "client_id": "sandbox-client-id",
            "client_secret": "sandbox-client-secret",
        }
        tokens = requests.post(f"{server.url}/oauth/token", data=form, timeout=5)
        assert tokens.status_code == 200
        body = tokens.json()
        assert body["token_type"] == "bearer"
        assert body["scope"] == "sales_invoices settings"
        assert "expires_in" not in body
        assert isinstance(body["created_at"], int)  # docs/providers/moneybird.md#tokens
        reused = requests.post(f"{server.url}/oauth/token", data=form, timeout=5)
        assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
        wrong = requests.post(f"{server.url}/oauth/token", data={**form, "client_secret": "nope"}, timeout=5)
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")

        refreshed = requests.post(
            f"{server.url}/oauth/token",
            timeout=5,
            data={
                "grant_type": "refresh_token",
                "refresh_token": body["refresh_token"],
                "client_id": "sandbox-client-id",
                "client_secret": "sandbox-client-secret",
            },
        ).json()
        assert refreshed["access_token"] != body["access_token"]
        assert refreshed["refresh_token"] != body["refresh_token"]
        api = f"{server.url}/api/v2/administrations.json"
        old = requests.get(api, headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=5)
        new = requests.get(api, headers={"Authorization": f"Bearer {refreshed['access_token']}"}, timeout=5)
        assert old.status_code == 401
        assert "error" in old.json()
        assert new.status_code == 200
        again = requests.post(
            f"{server.url}/oauth/token",
            timeout=5,
            data={
                "grant_type": "refresh_token",
                "refresh_token": body["refresh_token"],
                "client_id": "sandbox-client-id",
                "client_secret": "sandbox-client-secret",
            },
        )
        assert again.json()["error"] == "invalid_grant"


def test_consent_form_when_auto_consent_is_off(make_app: Any) -> None:
    client = make_app(auto_consent=False).test_client()
    params = {
        "client_id": "sandbox-client-id",
        "redirect_uri": "http://127.0.0.1:9/cb",
        "response_type": "code",
        "state": "s1",
    }
    page = client.get("/oauth/authorize", query_string=params)
    assert page.status_code == 200
    assert b"<form" in page.data
    granted = client.post("/oauth/authorize", data={**params, "scope": "sales_invoices", "decision": "allow"})
    assert granted.status_code == 302
    assert "code=" in granted.headers["Location"]
    denied = client.post("/oauth/authorize", data={**params, "decision": "deny"})
    assert "error=access_denied" in denied.headers["Location"]


@pytest.mark.parametrize(
    ("scope", "path", "status", "error"),
    [
        ("settings", "/api/v2/{adm}/sales_invoices.json", 401, "No access to sales_invoices"),
        ("sales_invoices", "/api/v2/{adm}/webhooks.json", 401, "No access to settings"),
        ("sales_invoices", "/api/v2/{adm}/contacts.json", 200, None),
        ("settings", "/api/v2/administrations.json", 200, None),
    ],
)
def test_scopes_are_enforced_with_401(
    client: FlaskClient, state: MoneybirdSandbox, adm: str, scope: str, path: str, status: int, error: str | None
) -> None:
    token = state.issue_token(scope)["access_token"]
    response = client.get(path.format(adm=adm), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status
    if error:
        assert response.json == {"error": error}


def test_missing_bearer_is_401(client: FlaskClient, adm: str) -> None:
    assert client.get(f"/api/v2/{adm}/sales_invoices.json").status_code == 401


# -- administrations, lists, filters ---------------------------------------------------------------------------
def test_administrations_include_user_and_accountant_access(client: FlaskClient, auth: dict[str, str]) -> None:
    administrations = client.get("/api/v2/administrations.json", headers=auth).json
    assert {a["access"] for a in administrations} == {"user", "accountant_company"}
    assert all(isinstance(a["id"], str) and len(a["id"]) == 18 and a["id"].isdigit() for a in administrations)


def _list(client: FlaskClient, adm: str, auth: dict[str, str], **query: str) -> Any:
    return client.get(f"/api/v2/{adm}/sales_invoices.json", headers=auth, query_string={"per_page": "100", **query})


WIDE = "period:20240101..20271231"


@pytest.mark.parametrize("states", ["late", "open|late|reminded", "draft|scheduled", "paid|uncollectible"])
def test_state_filter_with_pipes(
    client: FlaskClient, state: MoneybirdSandbox, adm: str, auth: dict[str, str], states: str
) -> None:
    wanted = set(states.split("|"))
    listed = {i["id"] for i in _list(client, adm, auth, filter=f"state:{states},{WIDE}").json}
    expected = {i for i, inv in state.data["administrations"][adm]["invoices"].items() if inv["state"] in wanted}
    assert listed == expected
    assert listed


@pytest.mark.parametrize(
    ("filter_text", "error"),
    [
        ("state:bogus", {"error": "Status is not included in the list", "symbolic": {"filter": "invalid"}}),
        (
            "period:20260101..",
            {"error": "Period must have both a start and end date", "symbolic": {"filter": "invalid"}},
        ),
        (
            "period:..20260101",
            {"error": "Period must have both a start and end date", "symbolic": {"filter": "invalid"}},
        ),
    ],
)
def test_invalid_filters_are_400(
    client: FlaskClient, adm: str, auth: dict[str, str], filter_text: str, error: dict[str, Any]
) -> None:
    for path in ("sales_invoices.json", "sales_invoices/synchronization.json"):
        response = client.get(f"/api/v2/{adm}/{path}", headers=auth, query_string={"filter": filter_text})
        assert (response.status_code, response.json) == (400, error)


def test_unknown_filter_keys_are_ignored(client: FlaskClient, adm: str, auth: dict[str, str]) -> None:
    plain = {i["id"] for i in _list(client, adm, auth, filter=f"state:late,{WIDE}").json}
    noisy = {i["id"] for i in _list(client, adm, auth, filter=f"state:late,{WIDE},colour:blue").json}
    assert plain == noisy
    assert plain


def test_default_period_is_this_year_on_the_list_but_not_on_sync(
    client: FlaskClient, state: MoneybirdSandbox, adm: str, auth: dict[str, str]
) -> None:
    invoices = state.data["administrations"][adm]["invoices"].values()
    this_year = {i["id"] for i in invoices if (i["invoice_date"] or state.today().isoformat())[:4] == "2026"}
    ids: set[str] = set()
    for page in range(1, 10):
        ids |= {i["id"] for i in _list(client, adm, auth, page=str(page)).json}
    assert ids == this_year
    synced = {row["id"] for row in client.get(f"/api/v2/{adm}/sales_invoices/synchronization.json", headers=auth).json}
    assert synced == {i["id"] for i in invoices}
    assert synced > this_year  # older years too (docs/providers/moneybird.md#incremental-sync)


def test_updated_after_is_exclusive_and_utc(
    client: FlaskClient, state: MoneybirdSandbox, adm: str, auth: dict[str, str]
) -> None:
    latest = max(state.data["administrations"][adm]["invoices"].values(), key=lambda i: i["updated_at"])
    moment = parse_stamp(latest["updated_at"])
    sync = f"/api/v2/{adm}/sales_invoices/synchronization.json"

    def ids_after(value: str) -> set[str]:
        return {r["id"] for r in client.get(sync, headers=auth, query_string={"filter": f"updated_after:{value}"}).json}

    assert latest["id"] not in ids_after(latest["updated_at"])  # exclusive
    earlier = moment - timedelta(milliseconds=1)
    assert latest["id"] in ids_after(earlier.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC")
    as_amsterdam = (moment - timedelta(seconds=1)).astimezone(ZoneInfo("Europe/Amsterdam"))
    assert latest["id"] in ids_after(as_amsterdam.isoformat())  # compared in UTC whatever the offset


def test_contact_id_filter(client: FlaskClient, state: MoneybirdSandbox, adm: str, auth: dict[str, str]) -> None:
    contact_id = next(iter(state.data["administrations"][adm]["invoices"].values()))["contact_id"]
    listed = _list(client, adm, auth, filter=f"contact_id:{contact_id},{WIDE}").json
    assert listed
    assert {i["contact_id"] for i in listed} == {contact_id}


def test_paging_per_page_limit_and_link_header(
    client: FlaskClient, state: MoneybirdSandbox, adm: str, auth: dict[str, str]
) -> None:
    too_big = client.get(f"/api/v2/{adm}/sales_invoices.json", headers=auth, query_string={"per_page": "101"})
    assert too_big.status_code == 400
    assert too_big.json["error"] == "per_page does not have a valid value"
    url: str | None = f"/api/v2/{adm}/sales_invoices.json?per_page=7&filter=state:all,{WIDE}"
    seen: list[str] = []
    while url:
        response = client.get(url, headers=auth)
        seen += [i["id"] for i in response.json]
        links = {
            part.split(";")[1].strip(): part.split(";")[0].strip(" <>")
            for part in response.headers.get("Link", "").split(",")
            if part
        }
        assert len(seen) <= 7 or 'rel="prev"' in links
        url = links.get('rel="next"')
        url = url.replace("http://localhost", "") if url else None
    assert sorted(seen) == sorted(state.data["administrations"][adm]["invoices"])


def test_single_invoice_404_body(client: FlaskClient, adm: str, auth: dict[str, str]) -> None:
    response = client.get(f"/api/v2/{adm}/sales_invoices/123456789012345678.json", headers=auth)
    assert (response.status_code, response.json) == (
        404,
        {"error": "record not found", "symbolic": {"id": "not_found"}},
    )


def test_sync_post_returns_at_most_100(
    client: FlaskClient, state: MoneybirdSandbox, adm: str, auth: dict[str, str]
) -> None:
    listed = client.get(f"/api/v2/{adm}/sales_invoices/synchronization.json", headers=auth).json
    assert len(listed) == 120
    for row in listed[:5]:
        assert row["version"] == int(parse_stamp(state.invoice(adm, row["id"])["updated_at"]).timestamp())
    full = client.post(
        f"/api/v2/{adm}/sales_invoices/synchronization.json", headers=auth, json={"ids": [r["id"] for r in listed]}
    ).json
    assert [i["id"] for i in full] == [r["id"] for r in listed[:100]]


# -- rate limit ---------------------------------------------------------------------------------------------
def test_rate_limit_429_with_absolute_epoch_headers(make_app: Any, clock: SettableClock) -> None:
    app = make_app(rate_limit_per_window=3)
    state: MoneybirdSandbox = app.extensions["sandbox"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {state.issue_token()['access_token']}"}
    window_start = int(clock.now.timestamp())
    assert [client.get("/api/v2/administrations.json", headers=auth).status_code for _ in range(3)] == [200] * 3
    clock.advance(seconds=10)
    throttled = client.get("/api/v2/administrations.json", headers=auth)
    assert throttled.status_code == 429
    assert throttled.json == "Retry later"
    assert throttled.headers["RateLimit-Limit"] == "3"
    assert throttled.headers["RateLimit-Remaining"] == "0"
    assert int(throttled.headers["Retry-After"]) == int(throttled.headers["RateLimit-Reset"]) == window_start + 300
    other = {"Authorization": f"Bearer {state.issue_token()['access_token']}"}
    assert client.get("/api/v2/administrations.json", headers=other).status_code == 200  # per token
    clock.advance(seconds=290)
    assert client.get("/api/v2/administrations.json", headers=auth).status_code == 200
    assert state.request_log[-1] == ("GET", "/api/v2/administrations.json", 200)
    assert ("GET", "/api/v2/administrations.json", 429) in state.request_log
    assert state.api_calls == 6


def test_rate_limits_can_be_switched_off(make_app: Any) -> None:
    app = make_app(rate_limits=False, rate_limit_per_window=1)
    auth = {"Authorization": f"Bearer {app.extensions['sandbox'].issue_token()['access_token']}"}
    client = app.test_client()
    assert {client.get("/api/v2/administrations.json", headers=auth).status_code for _ in range(5)} == {200}


# -- webhooks ------------------------------------------------------------------------------------------------
def test_signature_matches_the_reference_vector() -> None:
    raw = (
        b'{"administration_id":"123","webhook_id":"456","entity_type":"SalesInvoice","entity_id":"789",'
        b'"state":"paid","action":"sales_invoice_state_changed_to_paid"}'
    )
    assert signature_header(["test_secret"], 1787320245, raw) == (
        "t=1787320245,v1=57f9887d4f02805dedaa6603ce7f68342edcf6070115e0f7a9a12a92e2359d88"
    )


def _register(client: FlaskClient, adm: str, auth: dict[str, str], url: str, events: list[str]) -> dict[str, Any]:
    created = client.post(f"/api/v2/{adm}/webhooks.json", headers=auth, json={"url": url, "enabled_events": events})
    assert created.status_code == 201, created.json
    return dict(created.json)


def test_webhook_registration_probe_and_errors(
    client: FlaskClient, adm: str, auth: dict[str, str], receiver: Receiver
) -> None:
    hook = _register(client, adm, auth, receiver.url, ["sales_invoice"])
    assert hook["secret"]
    assert hook["token"]
    assert receiver.pushes == []  # the probe is unsigned
    listed = client.get(f"/api/v2/{adm}/webhooks.json", headers=auth).json
    assert [w["id"] for w in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    old_style = client.post(f"/api/v2/{adm}/webhooks.json", headers=auth, json={"url": receiver.url, "events": []})
    assert old_style.status_code == 400
    assert old_style.json["symbolic"] == {"events": "removed"}
    receiver.statuses = [500]
    failing = client.post(f"/api/v2/{adm}/webhooks.json", headers=auth, json={"url": receiver.url})
    assert failing.status_code == 400
    assert client.delete(f"/api/v2/{adm}/webhooks/{hook['id']}.json", headers=auth).status_code == 204
    assert client.get(f"/api/v2/{adm}/webhooks.json", headers=auth).json == []


def test_payment_push_is_signed_and_shaped(
    client: FlaskClient,
    state: MoneybirdSandbox,
    adm: str,
    auth: dict[str, str],
    receiver: Receiver,
    clock: SettableClock,
) -> None:
    hook = _register(client, adm, auth, receiver.url, ["sales_invoice_state_changed", "payment_registered"])
    late = first(state, adm, "late")
    state.register_payment(adm, late["id"], Decimal(late["total_unpaid"]))
    assert state.deliver_webhooks() == 2
    assert state.deliver_webhooks() == 0
    actions = []
    for raw, headers in receiver.pushes:
        assert verify_signature(headers["Moneybird-Signature"], raw, hook["secret"], int(clock.now.timestamp()))
        assert not verify_signature(
            headers["Moneybird-Signature"], raw + b" ", hook["secret"], int(clock.now.timestamp())
        )
        assert headers["User-Agent"] == "MoneyBird Webhook"
        assert headers["Idempotency-Key"]
        body = json.loads(raw)
        assert list(body) == [
            "administration_id",
            "webhook_id",
            "webhook_token",
            "entity_type",
            "entity_id",
            "state",
            "action",
            "entity",
        ]
        assert (body["administration_id"], body["webhook_id"], body["webhook_token"]) == (
            adm,
            hook["id"],
            hook["token"],
        )
        actions.append((body["action"], body["entity_type"], body["state"]))
    assert actions == [
        ("payment_registered", "Payment", "late"),  # state when the push was triggered
        ("sales_invoice_state_changed_to_paid", "SalesInvoice", "paid"),
    ]
    assert len({h["Idempotency-Key"] for _, h in receiver.pushes}) == 2
    assert client.get(f"/api/v2/{adm}/webhooks.json", headers=auth).json[0]["last_http_status"] == 200


def test_non_200_is_retried_with_the_same_idempotency_key(
    client: FlaskClient, state: MoneybirdSandbox, adm: str, auth: dict[str, str], receiver: Receiver
) -> None:
    _register(client, adm, auth, receiver.url, ["sales_invoice_paused"])
    receiver.statuses = [503, 204]
    invoice_id = first(state, adm, "late")["id"]
    client.post(f"/api/v2/{adm}/sales_invoices/{invoice_id}/pause.json", headers=auth, json={})
    assert state.deliver_webhooks() == 0
    assert client.get(f"/api/v2/{adm}/webhooks.json", headers=auth).json[0]["last_http_status"] == 503
    assert state.deliver_webhooks() == 0  # 204 is not 200 either (docs/providers/moneybird.md#retries-and-duplicates)
    assert state.deliver_webhooks() == 1
    keys = [h["Idempotency-Key"] for _, h in receiver.pushes]
    assert len(keys) == 3
    assert len(set(keys)) == 1


def test_gives_up_after_ten_attempts(
    client: FlaskClient, state: MoneybirdSandbox, adm: str, auth: dict[str, str], receiver: Receiver
) -> None:
    _register(client, adm, auth, receiver.url, ["sales_invoice_paused"])
    receiver.statuses = [500] * 20
    client.post(f"/api/v2/{adm}/sales_invoices/{first(state, adm, 'late')['id']}/pause.json", headers=auth, json={})
    for _ in range(12):
        state.deliver_webhooks()
    assert len(receiver.pushes) == 10
    assert len(state.failed_deliveries) == 1
    assert state.data["deliveries"] == []


def test_duplicates_reuse_the_idempotency_key(make_app: Any, receiver: Receiver) -> None:
    app = make_app(duplicate_rate=1.0)
    state: MoneybirdSandbox = app.extensions["sandbox"]
    adm = state.tenant_ids()[0]
    state.create_webhook(adm, receiver.url, ["sales_invoice_created"])
    state.create_invoice(adm, total=Decimal("60.50"))
    assert state.deliver_webhooks() == 2
    (raw1, h1), (raw2, h2) = receiver.pushes
    assert raw1 == raw2
    assert h1["Idempotency-Key"] == h2["Idempotency-Key"]


def test_secret_rotation_signs_with_both_secrets(
    state: MoneybirdSandbox, adm: str, receiver: Receiver, clock: SettableClock
) -> None:
    hook = state.create_webhook(adm, receiver.url, ["sales_invoice"])
    old_secret = hook["secret"]
    new_secret = state.rotate_webhook_secret(adm, hook["id"])
    state.create_invoice(adm)
    state.deliver_webhooks()
    raw, headers = receiver.pushes[0]
    now = int(clock.now.timestamp())
    assert headers["Moneybird-Signature"].count("v1=") == 2
    assert verify_signature(headers["Moneybird-Signature"], raw, old_secret, now)
    assert verify_signature(headers["Moneybird-Signature"], raw, new_secret, now)
    clock.advance(hours=25)
    state.create_invoice(adm)
    state.deliver_webhooks()
    later_raw, later = receiver.pushes[-1]
    assert later["Moneybird-Signature"].count("v1=") == 1
    assert not verify_signature(later["Moneybird-Signature"], later_raw, old_secret, int(clock.now.timestamp()))


def test_background_delivery_thread(make_app: Any, receiver: Receiver) -> None:
    app = make_app(background_delivery=True)
    state: MoneybirdSandbox = app.extensions["sandbox"]
    adm = state.tenant_ids()[0]
    state.create_webhook(adm, receiver.url, ["sales_invoice_created"])
    state.create_invoice(adm)
    pause = threading.Event()
    for _ in range(100):  # the worker pushes on its own every ~0.5 s; poll for up to 10 s
        if receiver.pushes:
            break
        pause.wait(0.1)
    assert len(receiver.pushes) == 1


# -- write-back -----------------------------------------------------------------------------------------------
def test_send_reminders(client: FlaskClient, state: MoneybirdSandbox, adm: str, auth: dict[str, str]) -> None:
    late = first(state, adm, "late")
    reminder = {key: late[key] for key in ("contact_id", "workflow_id", "document_style_id", "identity_id")}
    reminder |= {"sales_invoice_ids": [late["id"]], "delivery_method": "Manual", "reminder_text": "Tweede brief"}
    path = f"/api/v2/{adm}/sales_invoices/send_reminders.json"
    for missing in ("contact_id", "workflow_id", "document_style_id", "identity_id", "sales_invoice_ids"):
        broken = {k: v for k, v in reminder.items() if k != missing}
        response = client.post(path, headers=auth, json={"sales_invoice_reminders": [broken]})
        assert response.status_code == 422
        assert missing in response.json["error"]
    sent = client.post(path, headers=auth, json={"sales_invoice_reminders": [reminder]})
    assert (sent.status_code, sent.json) == (200, 200)
    after = state.invoice(adm, late["id"])
    assert after["state"] == "reminded"
    assert after["reminder_count"] == (late["reminder_count"] or 0) + 1
    assert after["events"][-2]["action"] == "sales_invoice_send_reminder_manually"
    assert after["version"] >= late["version"]
    assert state.writes(adm)[-1] | {"at": None} == {
        "kind": "reminder",
        "invoice_ids": [late["id"]],
        "text": "Tweede brief",
        "delivery_method": "Manual",
        "email_address": None,
        "at": None,
        **{k: late[k] for k in ("contact_id", "workflow_id", "document_style_id", "identity_id")},
    }
    paid = first(state, adm, "paid")
    refused = client.post(
        path,
        headers=auth,
        json={
            "sales_invoice_reminders": [
                {**reminder, "contact_id": paid["contact_id"], "sales_invoice_ids": [paid["id"]]}
            ]
        },
    )
    assert refused.status_code == 422


def test_pause_resume_notes_uncollectible(
    client: FlaskClient, state: MoneybirdSandbox, adm: str, auth: dict[str, str]
) -> None:
    invoice_id = first(state, adm, "late")["id"]
    base = f"/api/v2/{adm}/sales_invoices/{invoice_id}"
    paused = client.post(f"{base}/pause.json", headers=auth, json={})
    assert paused.status_code == 201
    assert (paused.json["paused"], paused.json["next_reminder"]) == (True, "2099-01-01")
    assert paused.json["events"][-1]["action"] == "sales_invoice_paused"
    resumed = client.post(f"{base}/resume.json", headers=auth, json={})
    assert resumed.status_code == 201
    assert resumed.json["paused"] is False
    assert resumed.json["next_reminder"] != "2099-01-01"
    note = client.post(f"{base}/notes.json", headers=auth, json={"note": {"note": "Belafspraak", "todo": True}})
    assert note.status_code == 201
    assert note.json["todo"] is True
    assert note.json["entity_id"] == invoice_id
    assert client.post(f"{base}/notes.json", headers=auth, json={"note": {"note": ""}}).status_code == 422
    assert state.invoice(adm, invoice_id)["notes"][-1]["note"] == "Belafspraak"
    marked = client.patch(f"{base}/mark_as_uncollectible.json", headers=auth, json={})
    assert marked.status_code == 200
    assert marked.json["state"] == "uncollectible"
    assert marked.json["marked_uncollectible_on"] == state.today().isoformat()
    assert client.patch(f"{base}/mark_as_uncollectible.json", headers=auth, json={}).status_code == 400
    missing = client.post(f"/api/v2/{adm}/sales_invoices/123456789012345678/pause.json", headers=auth, json={})
    assert missing.status_code == 404
    contact_note = client.post(
        f"/api/v2/{adm}/contacts/{marked.json['contact_id']}/notes.json",
        headers=auth,
        json={"note": {"note": "Klant gebeld"}},
    )
    assert contact_note.status_code == 201
    kinds = [w["kind"] for w in state.writes(adm)]
    assert kinds == ["pause", "resume", "note", "uncollectible", "note"]


def test_settings_endpoints_give_the_reminder_ids(client: FlaskClient, adm: str, auth: dict[str, str]) -> None:
    workflows = client.get(f"/api/v2/{adm}/workflows.json", headers=auth).json
    assert sorted(any(s["reminder_auto_send"] for s in w["steps"]) for w in workflows) == [False, True]
    for name in ("document_styles", "identities", "users"):
        assert client.get(f"/api/v2/{adm}/{name}.json", headers=auth).json


# -- common sandbox methods, clock, seed, persistence ----------------------------------------------------------
def test_register_payment_partial_then_full(state: MoneybirdSandbox, adm: str) -> None:
    invoice_id = state.create_invoice(adm, total=Decimal("121.00"), due_date=state.today() + timedelta(days=5))
    assert invoice_id in state.open_invoice_ids(adm)
    state.register_payment(adm, invoice_id, Decimal("21.00"), on=date(2026, 3, 16))
    partly = state.invoice(adm, invoice_id)
    assert (partly["state"], partly["total_paid"], partly["total_unpaid"]) == ("open", "21.0", "100.0")
    state.register_payment(adm, invoice_id, Decimal("100.00"))
    paid = state.invoice(adm, invoice_id)
    assert (paid["state"], paid["total_unpaid"], paid["paid_at"]) == ("paid", "0.0", "2026-03-16")
    assert invoice_id not in state.open_invoice_ids(adm)


def test_clock_moves_open_invoices_to_late(state: MoneybirdSandbox, adm: str, clock: SettableClock) -> None:
    invoice_id = state.create_invoice(adm, due_date=state.today(), consumer=True)
    assert state.invoice(adm, invoice_id)["state"] == "open"
    clock.advance(days=1)
    assert invoice_id in state.open_invoice_ids(adm)
    assert state.invoice(adm, invoice_id)["state"] == "late"


def test_set_state(state: MoneybirdSandbox, adm: str) -> None:
    invoice_id = first(state, adm, "open")["id"]
    state.set_state(adm, invoice_id, "pending_payment")
    assert state.invoice(adm, invoice_id)["state"] == "pending_payment"
    state.set_state(adm, invoice_id, "paid")
    assert state.invoice(adm, invoice_id)["total_unpaid"] == "0.0"
    with pytest.raises(ValueError, match="unknown"):
        state.set_state(adm, invoice_id, "closed")


def test_seed_is_deterministic_and_varied(make_app: Any, clock: SettableClock) -> None:
    one = make_app().extensions["sandbox"]
    two = make_app().extensions["sandbox"]
    other = make_app(seed=7).extensions["sandbox"]
    assert one.data["administrations"] == two.data["administrations"]
    assert one.data["administrations"] != other.data["administrations"]
    today = clock.now.date()
    for adm in one.tenant_ids():
        invoices = [one.invoice(adm, i) for i in one.data["administrations"][adm]["invoices"]]
        assert {i["state"] for i in invoices} == {
            "draft",
            "scheduled",
            "open",
            "pending_payment",
            "reminded",
            "late",
            "paid",
            "uncollectible",
        }
        credits = [i for i in invoices if i["original_sales_invoice_id"]]
        assert credits
        assert all(Decimal(i["total_price_incl_tax"]) < 0 for i in credits)
        assert any(i["payments"] and i["state"] != "paid" for i in invoices)  # part payments
        assert any(i["paused"] for i in invoices)
        assert any(e["action"] == "sales_invoice_send_reminder_email" for i in invoices for e in i["events"])
        for inv in invoices:
            if inv["state"] in ("open", "late", "reminded", "pending_payment"):
                assert -60 <= (date.fromisoformat(inv["due_date"]) - today).days <= 30
            if inv["invoice_date"] and inv["state"] != "scheduled":
                assert 0 <= (today - date.fromisoformat(inv["invoice_date"])).days <= 14 * 31
        contacts = one.data["administrations"][adm]["contacts"].values()
        assert len(contacts) >= 24
        assert any(c["company_name"] and c["chamber_of_commerce"] for c in contacts)
        assert any(c["company_name"] is None and c["firstname"] and c["lastname"] for c in contacts)


def test_large_seed_in_one_administration(make_app: Any) -> None:
    state = make_app(invoices_per_administration=10_000, administrations=1).extensions["sandbox"]
    assert len(state.data["administrations"][state.tenant_ids()[0]]["invoices"]) == 10_000


def test_state_persists_across_restarts(make_app: Any, tmp_path: Path, clock: SettableClock) -> None:
    path = tmp_path / "moneybird.json"
    first_app = make_app(state_path=path)
    state: MoneybirdSandbox = first_app.extensions["sandbox"]
    adm = state.tenant_ids()[0]
    token = state.issue_token()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    invoice_id = first(state, adm, "late")["id"]
    assert (
        first_app.test_client()
        .post(f"/api/v2/{adm}/sales_invoices/{invoice_id}/pause.json", headers=auth, json={})
        .status_code
        == 201
    )
    restarted = make_app(state_path=path, seed=999)  # the file wins over a new seed
    again: MoneybirdSandbox = restarted.extensions["sandbox"]
    assert again.tenant_ids() == state.tenant_ids()
    assert again.writes(adm) == state.writes(adm)
    assert again.writes(adm)[0]["kind"] == "pause"
    response = restarted.test_client().get(f"/api/v2/{adm}/sales_invoices/{invoice_id}.json", headers=auth)
    assert response.status_code == 200
    assert response.json["paused"] is True
    assert again.invoice(adm, invoice_id) == state.invoice(adm, invoice_id)
    new_id = again.create_invoice(adm)
    assert new_id not in state.data["administrations"][adm]["invoices"]


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_money_strings_round_trip(cents: int) -> None:
    text = money(cents)
    assert Decimal(text) == Decimal(cents) / 100
    assert "." in text
    assert len(text.split(".")[1]) in (1, 2)


def test_timestamps_are_utc_with_milliseconds(state: MoneybirdSandbox, adm: str) -> None:
    invoice = state.invoice(adm, state.create_invoice(adm))
    assert invoice["created_at"].endswith("Z")
    assert len(invoice["created_at"]) == 24
    assert parse_stamp(invoice["updated_at"]).tzinfo is not None
    assert datetime.fromtimestamp(invoice["version"], UTC) <= parse_stamp(invoice["updated_at"])
