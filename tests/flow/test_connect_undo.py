"""A connect that fails after the tokens were stored leaves nothing behind, and the next connect completes it.

docs/architecture.md#connect-completes-or-leaves-nothing: the OAuth callback of the web app, over real HTTP
against the Moneybird sandbox, on SQLite and on PostgreSQL (``db_url``; PostgreSQL enforces the column lengths
SQLite ignores). Each case breaks one step after ``store_initial``; the person reads one line, no connection,
token or administration remains, and connecting again (nothing broken) gives one complete connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.moneybird.provider import MoneybirdAdapter
from connector import demo, model
from connector.errors import TransientError
from connector.settings import Settings
from connector.storage import repos, tables

ORIGINAL_TENANTS = MoneybirdAdapter.list_tenants
ORIGINAL_REGISTER = MoneybirdAdapter.register_webhook


def _tenant_too_long(self: MoneybirdAdapter) -> list[model.Tenant]:
    tenants = ORIGINAL_TENANTS(self)
    return [tenants[0].model_copy(update={"provider_tenant_id": "9" * 150}), *tenants[1:]]


def _provider_error(self: MoneybirdAdapter) -> list[model.Tenant]:
    raise TransientError("Moneybird answered 503 to GET /administrations", status=503, provider="moneybird")


def _storage_fails_after_registering(patch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """The provider registers the second administration's webhook, then recording it fails."""
    calls: list[str] = []

    def register(self: MoneybirdAdapter, tenant: str, url: str) -> Any:
        registration = ORIGINAL_REGISTER(self, tenant, url)
        calls.append(tenant)
        if len(calls) == 2:
            patch.setattr(repos, "get_administration", _broken)
        return registration

    return register


def _broken(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("the database went away")


CASES = [
    ("a tenant value that does not fit", "list_tenants", lambda _p: _tenant_too_long, 400, "provider_tenant_id"),
    ("a provider error while discovering", "list_tenants", lambda _p: _provider_error, 400, "503"),
    ("storage fails after a webhook was made", "register_webhook", _storage_fails_after_registering, 500, ""),
]


@pytest.fixture
def run(db_url: str, tmp_path: Path) -> Iterator[demo.DemoRun]:
    settings = Settings(var_dir=tmp_path / "var", database_url=db_url)
    options = {"moneybird": {"invoices_per_administration": 5, "contacts_per_administration": 3, "rate_limits": False}}
    started = demo.start(settings, providers=["moneybird"], options=options)
    yield started
    started.shutdown()


def _left(run: demo.DemoRun) -> tuple[int, int, int]:
    """(connections, token rows, administrations) of the organisation."""
    with run.runtime.sessions() as s:
        connections = repos.list_connections(s, run.org_id)
        tokens = [s.get(tables.OAuthToken, c.id) for c in connections]
        return len(connections), sum(t is not None for t in tokens), len(repos.list_administrations(s, run.org_id))


@pytest.mark.parametrize(("case", "step", "fault", "status", "says"), CASES, ids=[c[0] for c in CASES])
def test_a_failed_connect_leaves_nothing_and_the_next_completes(
    run: demo.DemoRun,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    step: str,
    fault: Callable[[pytest.MonkeyPatch], Callable[..., Any]],
    status: int,
    says: str,
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(MoneybirdAdapter, step, fault(patch))
        answer = demo.login(run).get(f"{run.web.url}/connect/moneybird?lang=en", timeout=60)
    assert answer.status_code == status, f"{case}: HTTP {answer.status_code}: {answer.text[:300]}"
    if says:
        assert "nothing of it was kept: connect again" in answer.text, f"{case}: {answer.text[:500]}"
        assert says in answer.text, f"{case}: the page does not name {says!r}"
    assert "Traceback" not in answer.text, f"{case}: a traceback reached the person"
    assert _left(run) == (0, 0, 0), f"{case}: a half-done connect stayed behind (connections, tokens, administrations)"

    connection_id = demo.connect(run, "moneybird")
    with run.runtime.sessions() as s:
        administrations = repos.list_administrations(s, run.org_id, connection_id)
    assert _left(run) == (1, 1, 2), f"{case}: connecting again did not give one complete connection"
    assert all(a.webhook_ref for a in administrations), f"{case}: connecting again left a webhook unregistered"
