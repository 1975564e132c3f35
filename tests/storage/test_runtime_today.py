"""The organisation's day: the runtime's clock read in the time zone of the organisation's administrations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from connector import model
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction, upgrade

LATE_EVENING_UTC = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        (None, date(2026, 11, 25)),  # no administration yet: Amsterdam, already past midnight
        ("Europe/Amsterdam", date(2026, 11, 25)),
        ("Europe/London", date(2026, 11, 24)),
        ("America/Curacao", date(2026, 11, 24)),
    ],
)
def test_today_is_the_organisations_day(tmp_path: Path, zone: str | None, day: date) -> None:
    settings = Settings(var_dir=tmp_path, secret_keys=[SecretStr(Fernet.generate_key().decode())])
    upgrade(settings.database_url)  # var_dir's SQLite file, or PostgreSQL in that pass (tests/dbs.py)
    rt = Runtime(settings, clock=lambda: LATE_EVENING_UTC, budget_url="memory://")
    try:
        with transaction(rt.sessions) as s:
            org = repos.create_organisation(s, "Org")
            if zone is not None:
                conn = repos.create_connection(s, org, "moneybird")
                tenant = model.Tenant(provider_tenant_id="1", name="A", timezone=zone)
                repos.upsert_administration(s, org, conn.id, "moneybird", tenant)
        assert rt.today(org) == day
    finally:
        rt.close()
