"""A daily-limit 429 parks the connection until the reset (no sleeping, visible to `dunning doctor`); a revoked
grant marks it as needing re-authorisation. Real HTTP against the Xero sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from connector import demo, sync
from connector.errors import RateLimited, ReauthRequired
from connector.settings import Settings
from connector.storage import repos


def _stack(tmp_path: Path, **options: object) -> demo.DemoRun:
    settings = Settings(var_dir=tmp_path / "var")  # the pass's installation (tests/dbs.py)
    sizes = {"tenants": 1, "invoices_per_tenant": 20, "contacts_per_tenant": 5, **options}
    return demo.start(settings, providers=["xero"], options={"xero": sizes})


@pytest.fixture
def tight(tmp_path: Path) -> Iterator[demo.DemoRun]:
    run = _stack(tmp_path, day_limit=4)  # connect + the first reads use it up
    yield run
    run.shutdown()


def test_daily_limit_parks_the_connection_until_the_reset(tight: demo.DemoRun) -> None:
    rt = tight.runtime
    connection_id = demo.connect(tight, "xero")
    with pytest.raises(RateLimited) as raised:
        sync.sync_connection(rt, tight.org_id, connection_id)
    assert raised.value.scope == "day" and raised.value.until is not None
    with rt.sessions() as s:
        connection = repos.get_connection(s, tight.org_id, connection_id)
    assert connection.status == "active" and connection.parked_until == raised.value.until
    assert connection.parked_until > datetime.now(UTC) and "daily API limit" in (connection.parked_reason or "")
    calls = len(tight.sandboxes["xero"].app.extensions["sandbox"].request_log)
    with pytest.raises(RateLimited):  # parked: refused before any HTTP call
        sync.sync_connection(rt, tight.org_id, connection_id)
    assert len(tight.sandboxes["xero"].app.extensions["sandbox"].request_log) == calls


def test_revoked_connection_needs_reauthorisation(tmp_path: Path) -> None:
    run = _stack(tmp_path)
    try:
        rt = run.runtime
        connection_id = demo.connect(run, "xero")
        sync.sync_connection(rt, run.org_id, connection_id)
        token = rt.tokens.access_token(connection_id)
        xero = run.sandboxes["xero"].url
        for tenant in requests.get(
            f"{xero}/connections", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json():
            requests.delete(
                f"{xero}/connections/{tenant['id']}", headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
        with pytest.raises(ReauthRequired):
            sync.sync_connection(rt, run.org_id, connection_id)
        with rt.sessions() as s:
            connection = repos.get_connection(s, run.org_id, connection_id)
        assert connection.status == "needs_reauth" and "dunning connect xero" in (connection.parked_reason or "")
    finally:
        run.shutdown()
