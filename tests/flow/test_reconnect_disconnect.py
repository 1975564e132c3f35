"""Reconnect and disconnect from the connections page, over real HTTP against the Moneybird sandbox, on SQLite and
PostgreSQL (docs/onboarding.md#connections): a reconnect of a connection that needs re-authorisation keeps the
connection and its administrations and makes it active again; a disconnect removes the webhooks registered at
Moneybird, then the connection with its tokens and administrations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connector import demo
from connector.settings import Settings
from connector.storage import repos, tables
from connector.storage.db import transaction


@pytest.fixture
def run(db_url: str, tmp_path: Path) -> Iterator[demo.DemoRun]:
    settings = Settings(var_dir=tmp_path / "var", database_url=db_url)
    options = {"moneybird": {"invoices_per_administration": 5, "contacts_per_administration": 3, "rate_limits": False}}
    started = demo.start(settings, providers=["moneybird"], options=options)
    yield started
    started.shutdown()


def _webhooks_at_moneybird(run: demo.DemoRun) -> int:
    sandbox = run.sandboxes["moneybird"].app.extensions["sandbox"]
    return sum(len(sandbox.administration(t)["webhooks"]) for t in sandbox.tenant_ids())


def _post(http: requests.Session, run: demo.DemoRun, path: str) -> requests.Response:
    form = http.get(f"{run.web.url}/connections?lang=en", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, "the connections page has no CSRF token"
    return http.post(f"{run.web.url}{path}", data={"csrf": token.group(1)}, timeout=120)


def test_reconnect_keeps_the_connection_and_disconnect_cleans_up_at_the_provider(run: demo.DemoRun) -> None:
    connection_id = demo.connect(run, "moneybird")
    with run.runtime.sessions() as s:
        before = [a.id for a in repos.list_administrations(s, run.org_id, connection_id)]
    registered = _webhooks_at_moneybird(run)
    assert registered == len(before) > 0, f"{registered} webhooks for {len(before)} administrations"
    with transaction(run.runtime.sessions) as s:
        repos.mark_token_needs_reauth(s, connection_id, run.runtime.clock())
    http = demo.login(run)
    assert "needs re-authorisation" in http.get(f"{run.web.url}/connections?lang=en", timeout=30).text

    answer = _post(http, run, f"/connections/{connection_id}/reconnect")  # the sandbox consents and redirects back
    assert answer.url.endswith("/connections?reconnected=1"), f"reconnect ended on {answer.url}"
    assert "Connected again" in answer.text, answer.text[:300]
    with run.runtime.sessions() as s:
        connections = repos.list_connections(s, run.org_id)
        after = [a.id for a in repos.list_administrations(s, run.org_id, connection_id)]
    assert [(c.id, c.status) for c in connections] == [(connection_id, "active")], "reconnect made a new connection"
    assert after == before, "reconnect replaced the administrations (and would lose their history)"
    assert _webhooks_at_moneybird(run) == registered, "reconnect registered the webhooks twice"

    answer = _post(http, run, f"/connections/{connection_id}/disconnect")
    assert answer.url.endswith("disconnected=1&left=0"), f"disconnect ended on {answer.url}"
    assert _webhooks_at_moneybird(run) == 0, "the webhooks stayed registered at Moneybird"
    with run.runtime.sessions() as s:
        assert repos.list_connections(s, run.org_id) == [], "the connection stayed"
        assert repos.list_administrations(s, run.org_id) == [], "its administrations stayed"
        assert s.get(tables.OAuthToken, connection_id) is None, "its tokens stayed"
