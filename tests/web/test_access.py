"""Who may use which address: every route of the app (walked from ``app.url_map``, so a new page is covered the
day it lands) as anonymous, viewer, controller, owner and as the owner of another organisation; logging in,
throttling, reset links, CSRF and the session cookie."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr

from connector import accounts, apikeys, model, notify
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction, upgrade
from dashboard import create_app

PASSWORD = "correct horse battery"
SECRET_NAME = "Alpha Geheime Administratie"  # org A's data: must never show to org B
# the least role each page needs beyond the defaults (a GET: viewer, a POST: controller)
NEEDS = {
    "pages.safe_mode": "owner",
    "oauth.connect": "owner",
    "auth.members": "owner",
    "onboarding.wizard": "owner",
    "onboarding.save": "owner",
    **{
        f"connections.{view}": "owner"
        for view in ("reconnect", "confirm_disconnect", "do_disconnect", "bank_accounts", "save_bank_account")
    },
    **{
        f"integrations.{view}": "owner"  # API keys and webhooks: only an owner hands out access to other software
        for view in ("api_keys", "create_key", "revoke_key", "webhooks", "subscribe", "unsubscribe", "replay")
    },
}
VIEWER_POSTS = {"auth.logout", "auth.switch_organisation"}
OPEN = (
    "webhooks.",
    "api.",
    "oauth.callback",
    "auth.login",
    "auth.forgot",
    "auth.reset",
    "auth.invite",
    "signup.",
    "portal.",
    "static",
)
ROLES = ("viewer", "controller", "owner")


@dataclass
class World:
    app: Flask
    org_a: int
    org_b: int
    administration_a: int


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    upgrade(db_url)
    settings = Settings(
        database_url=db_url,
        var_dir=tmp_path,
        secret_keys=[SecretStr(Fernet.generate_key().decode())],
        queue_immediate=True,
        base_url="https://dunning.example",
    )
    app = create_app(settings)
    app.config["WTF_CSRF_ENABLED"] = False  # the walk is about roles; CSRF has its own test below
    app.config.update(SERVER_NAME="dunning.example", PREFERRED_URL_SCHEME="https")  # the Host DUNNING_BASE_URL names
    rt = app.extensions["dunning"].runtime
    org_a = app.extensions["dunning"].org_id
    for role in ROLES:
        accounts.add_user(rt, f"{role}@a.example", org_a, role, PASSWORD)
    org_b = accounts.sign_up(rt, "Other BV", "owner@b.example", password=PASSWORD).id
    org_b = accounts.memberships(rt, org_b)[0].org_id
    with rt.sessions.begin() as s:
        connection = repos.create_connection(s, org_a, "moneybird")
        adm = repos.upsert_administration(
            s, org_a, connection.id, "moneybird", model.Tenant(provider_tenant_id="t-a", name=SECRET_NAME)
        )
        adm_id = adm.id
    yield World(app, org_a, org_b, adm_id)
    rt.close()


def _client(world: World, email: str | None) -> FlaskClient:
    client = world.app.test_client()
    if email is not None:
        answer = client.post("/login", data={"email": email, "password": PASSWORD})
        assert answer.status_code == 302, f"{email} could not log in"
    return client


def _urls(world: World) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) for every rule, its arguments filled with org A's objects."""
    values = {"int": str(world.administration_a), "default": "moneybird"}
    out = []
    for rule in world.app.url_map.iter_rules():
        url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: values.get(m.group(1) or "default", "1"), rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, url, rule.endpoint))
    return out


def _needs(method: str, endpoint: str) -> str | None:
    if endpoint.startswith(OPEN):
        return None
    if method == "POST" and endpoint in VIEWER_POSTS:
        return "viewer"
    return NEEDS.get(endpoint, "viewer" if method == "GET" else "controller")


@pytest.mark.parametrize("who", ["anonymous", *ROLES, "other organisation"])
def test_every_route_as_everyone(world: World, who: str) -> None:
    email = {"anonymous": None, "other organisation": "owner@b.example"}.get(who, f"{who}@a.example")
    client = _client(world, email)
    walked = 0
    for method, url, endpoint in _urls(world):
        if endpoint in ("auth.logout",) or endpoint.startswith(("webhooks.", "api.")):
            continue  # logging out ends the walk's session; machine paths answer for their own tokens
        walked += 1
        response = client.open(url, method=method, data={})
        status, body = response.status_code, response.get_data(as_text=True)
        assert status < 500, f"{who}: {method} {url} answered {status}"
        needs = _needs(method, endpoint)
        if needs is None:
            continue
        if who == "anonymous":
            expected = (302,) if method == "GET" else (401,)
            assert status in expected, f"anonymous: {method} {url} answered {status}, not a login"
            if method == "GET":
                assert response.headers["Location"].startswith("/login?next="), f"{url} does not send to login"
        elif who == "other organisation":
            assert SECRET_NAME not in body, f"{method} {url} showed organisation A's data to organisation B"
        elif ROLES.index(who) < ROLES.index(needs):
            assert status == 403, f"{who}: {method} {url} answered {status}; it needs {needs}"
        else:
            assert status not in (401, 403), f"{who}: {method} {url} refused ({status}) though {who} may"
    assert walked >= 10, f"walked only {walked} routes"


CLIENT_NAME = "Klant Zichtbaar BV"  # the client administration a client's own staff are kept to
SECRET_DEBTOR = "Geheime Debiteur Alpha"  # a debtor of the practice's other administration


@dataclass
class Clients:
    world: World
    client: int  # the administration the restricted members may see
    own_debtor: int  # its debtor
    ids: dict[str, str]  # route argument -> the id of org A's other administration's object


def _seed_books(world: World, administration_id: int, debtor_name: str, ref: str) -> tuple[int, int]:
    """A debtor with an overdue invoice in the administration: (debtor id, invoice id)."""
    rt = world.app.extensions["dunning"].runtime
    day = rt.today(world.org_a)
    with transaction(rt.sessions) as s:
        debtor = model.Debtor(provider_ref=ref, name=debtor_name, segment=model.Segment.B2B, email=f"{ref}@x.example")
        repos.upsert_debtors(s, world.org_a, administration_id, [debtor], rt.clock())
        invoice = model.Invoice(
            provider_ref=f"I-{ref}",
            number=f"2026-{ref}",
            debtor_ref=ref,
            invoice_date=day - timedelta(days=40),
            due_date=day - timedelta(days=10),
            currency="EUR",
            total=Decimal("100.00"),
            open_amount=Decimal("100.00"),
            status=model.InvoiceStatus.OPEN,
            provider_state="open",
        )
        repos.upsert_invoices(s, world.org_a, administration_id, [invoice], rt.clock())
        [debtor_row] = repos.get_debtors(s, world.org_a, administration_id).values()
        [invoice_row] = repos.get_invoices(s, world.org_a, administration_id)
        return debtor_row.id, invoice_row.id


@pytest.fixture
def clients(world: World) -> Clients:
    """Organisation A gets a second client administration (on its own connection); its staff, a viewer and a
    controller, are kept to it. The first administration (SECRET_NAME) is the one they must never reach."""
    rt = world.app.extensions["dunning"].runtime
    with rt.sessions.begin() as s:
        connection = repos.create_connection(s, world.org_a, "xero")
        client = repos.upsert_administration(
            s, world.org_a, connection.id, "xero", model.Tenant(provider_tenant_id="t-client", name=CLIENT_NAME)
        ).id
        secret_connection = repos.get_administration(s, world.org_a, world.administration_a).connection_id
    debtor, invoice = _seed_books(world, world.administration_a, SECRET_DEBTOR, "S1")
    own_debtor, _own_invoice = _seed_books(world, client, "Zichtbare Debiteur", "C1")
    for role in ("viewer", "controller"):
        accounts.add_user(rt, f"{role}@client.example", world.org_a, role, PASSWORD, administrations=[CLIENT_NAME])
    ids = {
        "administration_id": str(world.administration_a),
        "debtor_id": str(debtor),
        "invoice_id": str(invoice),
        "connection_id": str(secret_connection),
    }
    return Clients(world, client, own_debtor, ids)


@pytest.mark.parametrize("role", ["viewer", "controller"])
def test_a_clients_staff_reach_only_their_administration(clients: Clients, role: str) -> None:
    """Every route with the other administration's ids is a 404 (as another organisation's), or refused for the
    role; no page lists the other administration, its debtor or its connection; their own administration shows."""
    world, client = clients.world, _client(clients.world, f"{role}@client.example")
    walked = 0
    for rule in world.app.url_map.iter_rules():
        if rule.endpoint.startswith(OPEN) or rule.endpoint == "auth.logout":
            continue
        url = re.sub(
            r"<(?:(\w+):)?(\w+)>",
            lambda m: clients.ids.get(m.group(2), "1") if m.group(1) == "int" else "moneybird",
            rule.rule,
        )
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            walked += 1
            response = client.open(url, method=method, data={})
            status, body = response.status_code, response.get_data(as_text=True)
            assert status < 500, f"{role}@client: {method} {url} answered {status}"
            for secret in (SECRET_NAME, SECRET_DEBTOR):
                assert secret not in body, f"{role}@client: {method} {url} showed {secret!r}"
            if ROLES.index(role) < ROLES.index(_needs(method, rule.endpoint) or "viewer"):
                assert status == 403, f"{role}@client: {method} {url} answered {status}; it needs more"
            elif any(name in rule.arguments for name in clients.ids):
                assert status == 404, f"{role}@client: {method} {url} answered {status}, not 404"
    assert walked >= 40, f"walked only {walked} routes"
    stranger = _client(world, "owner@b.example")
    for path in ("/worklist", "/debtors", "/reports", "/reports/dso", "/reports/forecast", "/cockpit", "/members"):
        url = f"{path}?administration={world.administration_a}"
        answer, theirs = client.get(url), stranger.get(url)
        expected = 403 if path == "/members" else theirs.status_code  # as another organisation's administration
        assert answer.status_code == expected, f"{role}@client: {url} answered {answer.status_code}, not {expected}"
        assert SECRET_DEBTOR not in answer.get_data(as_text=True), f"{role}@client: {url} showed the other's debtor"
    own = client.get("/debtors?lang=en").get_data(as_text=True)
    assert "Zichtbare Debiteur" in own, f"{role}@client: their own debtor is not listed"
    assert client.get(f"/debtors?administration={clients.client}").status_code == 200, "their own filter fails"
    searched = client.get("/search?q=Debiteur")  # one match (theirs) opens it; two would list both
    assert searched.headers.get("Location") == f"/debtors/{clients.own_debtor}", f"{role}@client: search found more"


def test_the_practice_still_sees_every_administration(clients: Clients) -> None:
    body = _client(clients.world, "viewer@a.example").get("/debtors").get_data(as_text=True)
    assert SECRET_DEBTOR in body and "Zichtbare Debiteur" in body, "an unrestricted viewer misses a debtor"


def test_another_organisation_cannot_change_our_administration(world: World) -> None:
    client = _client(world, "owner@b.example")
    answer = client.post(f"/administrations/{world.administration_a}/safe-mode", data={"enabled": "0"})
    assert answer.status_code == 404, f"organisation B switched A's safe mode: {answer.status_code}"
    rt = world.app.extensions["dunning"].runtime
    with rt.sessions() as s:
        assert repos.list_administrations(s, world.org_a)[0].safe_mode, "A's administration left safe mode"


@pytest.mark.parametrize("action", ["revoke a key", "remove a subscription", "replay a delivery"])
def test_another_organisation_cannot_touch_our_keys_or_webhooks(world: World, action: str) -> None:
    rt = world.app.extensions["dunning"].runtime
    key = apikeys.create_key(rt, world.org_a, "write", SECRET_NAME)
    hook = notify.subscribe(rt, world.org_a, "https://a.example/hook", ["reminder.sent"], SECRET_NAME).record
    with transaction(rt.sessions) as s:
        repos.emit_event(s, world.org_a, "reminder.sent", {"invoices": ["A-1"]})
    [delivery] = notify.deliveries(rt, world.org_a)
    url = {
        "revoke a key": f"/settings/api-keys/{key.record.prefix}/revoke",
        "remove a subscription": f"/settings/webhooks/{hook.id}/remove",
        "replay a delivery": f"/settings/webhooks/deliveries/{delivery.id}/replay",
    }[action]
    answer = _client(world, "owner@b.example").post(url)
    assert answer.status_code == 400, f"organisation B could {action} of A: {answer.status_code}"
    assert SECRET_NAME not in answer.get_data(as_text=True), f"B's page showed A's data after trying to {action}"
    assert [k.revoked_at for k in apikeys.list_keys(rt, world.org_a)] == [None], "A's key still works"
    assert [s.id for s in notify.subscriptions(rt, world.org_a)] == [hook.id], "A's subscription is still there"
    with rt.sessions() as s:
        trail = [entry.message for entry in repos.audit_trail(s, world.org_a, limit=20)]
    assert not [m for m in trail if "revoked" in m or "deleted" in m or "replayed" in m], f"A's audit trail: {trail}"


def test_the_header_shows_organisation_and_user(world: World) -> None:
    page = _client(world, "controller@a.example").get("/?lang=en").get_data(as_text=True)
    assert 'id="user-email">controller@a.example<' in page, "the header does not name the user"
    assert "default" in page, "the header does not name the organisation"
    assert 'id="nav-people"' not in page, "a controller sees the owner's People link"


def test_login_is_throttled_per_account(world: World) -> None:
    client = world.app.test_client()
    for attempt in range(accounts.MAX_FAILURES_PER_ACCOUNT):
        wrong = client.post("/login", data={"email": "owner@a.example", "password": f"wrong {attempt}"})
        assert wrong.status_code == 401, f"attempt {attempt} with a wrong password"
    blocked = client.post("/login", data={"email": "OWNER@a.example", "password": PASSWORD})
    assert blocked.status_code == 429, "the right password after too many failures still got in"
    assert (
        world.app.test_client().post("/login", data={"email": "viewer@a.example", "password": PASSWORD}).status_code
        == 302
    ), "another account from the same address was blocked after 5 failures"


def test_reset_link_works_once(world: World) -> None:
    rt = world.app.extensions["dunning"].runtime
    person = accounts.find_person(rt, "viewer@a.example")
    assert person is not None
    link = accounts.link_url(rt, person.id, "reset")
    assert link.startswith("https://dunning.example/reset/"), f"link not from DUNNING_BASE_URL: {link}"
    path = link.removeprefix("https://dunning.example")
    client = world.app.test_client()
    assert client.get(path).status_code == 200, "a fresh link does not open"
    short = client.post(path, data={"password": "short", "repeat": "short"})
    assert short.status_code == 400, "a short password was accepted"
    done = client.post(path, data={"password": "a new password!", "repeat": "a new password!"})
    assert done.status_code == 302, "choosing a new password failed"
    assert world.app.test_client().get(path).status_code == 400, "the link worked a second time"
    assert accounts.authenticate(rt, "viewer@a.example", "a new password!", "10.0.0.1") is not None


def test_forms_need_the_csrf_token_and_the_cookie_is_safe(world: World) -> None:
    world.app.config["WTF_CSRF_ENABLED"] = True
    client = world.app.test_client()
    refused = client.post("/login", data={"email": "owner@a.example", "password": PASSWORD})
    assert refused.status_code == 400, "a login without the form's token was accepted"
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None, "the login form carries no token"
    same_origin = {"Referer": "https://dunning.example/login"}  # over https Flask-WTF checks it; browsers send it
    answer = client.post(
        "/login", data={"email": "owner@a.example", "password": PASSWORD, "csrf": token.group(1)}, headers=same_origin
    )
    assert answer.status_code == 302, "a login with the token failed"
    cookie = answer.headers["Set-Cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie, f"the session cookie lacks {flag} (base URL is https)"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_elsewhere(world: World, target: str) -> None:
    answer = world.app.test_client().post(
        f"/login?next={target}", data={"email": "owner@a.example", "password": PASSWORD}
    )
    assert answer.headers["Location"] == "/", f"next={target} led to {answer.headers['Location']}"


@pytest.mark.parametrize(
    ("address", "headers", "open_"),
    [
        ("127.0.0.1", {}, True),
        ("::1", {}, True),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, False),  # a proxy on this machine passes the internet on
        ("192.0.2.7", {}, False),
    ],
)
def test_before_the_first_account_only_this_machine_gets_in(
    tmp_path: Path, address: str, headers: dict[str, str], open_: bool
) -> None:
    settings = Settings(var_dir=tmp_path, secret_keys=[SecretStr(Fernet.generate_key().decode())])
    upgrade(settings.database_url)  # var_dir's SQLite file, or PostgreSQL in that pass (tests/dbs.py)
    app = create_app(settings)
    answer = app.test_client().get("/", headers=headers, environ_base={"REMOTE_ADDR": address})
    assert (answer.status_code == 200) is open_, f"{address} {headers}: {answer.status_code}"
    app.extensions["dunning"].runtime.close()
