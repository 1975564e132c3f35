"""``dunning api-key create|list|revoke``: the key is printed once, lists show prefixes only, revoke takes one."""

from __future__ import annotations

import pytest

from connector import services
from connector.runtime import Runtime
from connector.settings import Settings
from tests.clirunner import Cli


@pytest.fixture
def practice(cli: Cli) -> Cli:
    assert cli("db", "upgrade").exit_code == 0
    settings = Settings(var_dir=cli.var_dir, secret_keys=[cli.key])  # type: ignore[list-item]
    rt = Runtime(settings, budget_url="memory://")
    services.ensure_organisation(rt, "Practice")
    rt.close()
    return cli


def test_create_list_and_revoke_an_api_key(practice: Cli) -> None:
    created = practice("api-key", "create", "--org", "Practice", "--scope", "write", "--json")
    assert created.exit_code == 0, created.describe()
    key = created.json()["key"]
    assert key.startswith("dk_"), "a key starts with dk_"
    prefix = created.json()["prefix"]
    listed = practice("api-key", "list", "--org", "Practice")
    assert listed.exit_code == 0, listed.describe()
    assert prefix in listed.stdout and key not in listed.output, "the list shows the prefix, never the key"
    revoked = practice("api-key", "revoke", prefix, "--org", "Practice")
    assert revoked.exit_code == 0 and "revoked" in revoked.output, revoked.describe()
    plain = practice("api-key", "create", "--org", "Practice")
    assert plain.stdout.strip().startswith("dk_") and "not shown again" in plain.stderr, plain.describe()
    again = practice("api-key", "list", "--org", "Practice", "--json")
    assert again.json()[0]["revoked_at"] and not again.json()[1]["revoked_at"], "the list shows when it was revoked"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("api-key", "create", "--org", "Practice", "--scope", "admin"), "--scope"),
        (("api-key", "revoke", "000000000000", "--org", "Practice"), "no API key"),
    ],
)
def test_api_key_mistakes_say_what_to_do(practice: Cli, args: tuple[str, ...], says: str) -> None:
    result = practice(*args)
    assert result.exit_code != 0, result.describe()
    assert says in result.output and "Traceback" not in result.output, result.describe()


def test_webhook_subscriptions_from_the_command_line(practice: Cli) -> None:
    refused = practice("webhook", "add", "file:///etc/passwd", "--events", "reminder.sent", "--org", "Practice")
    assert refused.exit_code != 0 and "https://" in refused.output, refused.describe()
    assert "Traceback" not in refused.output, refused.describe()
    added = practice("webhook", "add", "https://erp.example.nl/hook", "--events", "reminder.sent", "--org", "Practice")
    assert added.exit_code == 0 and added.stdout.startswith("whsec_"), added.describe()
    listed = practice("webhook", "list", "--org", "Practice", "--json")
    assert [s["url"] for s in listed.json()] == ["https://erp.example.nl/hook"], listed.describe()
    assert "whsec_" not in listed.output, "the list never shows the secret"
    delivered = practice("webhook", "deliver", "--org", "Practice", "--json")
    assert delivered.json() == {"delivered": 0, "retrying": 0, "dead": 0}, delivered.describe()
    removed = practice("webhook", "remove", str(listed.json()[0]["id"]), "--org", "Practice")
    assert removed.exit_code == 0, removed.describe()
