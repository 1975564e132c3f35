"""``dunning doctor`` tells the truth (docs/operations.md#settings-checked-at-start, docs/operations.md#rotate-keys).

It advises ``db upgrade`` only when the database answers and its migrations are behind, and tries every
configured key on the stored secrets, one line per key, unhealthy when a secret decrypts with none of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.auth.crypto import TokenCipher
from connector.model import TokenSet
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction, upgrade
from tests.clirunner import Cli

OLD, NEW = TokenCipher.generate_key(), TokenCipher.generate_key()


def installation(tmp_path: Path, revision: str = "head", keys: list[str] | None = None) -> Cli:
    database = f"sqlite:///{tmp_path / 'dunning.db'}"
    upgrade(database, revision)
    return Cli(
        cwd=tmp_path,
        env={
            "DUNNING_VAR_DIR": str(tmp_path / "var"),
            "DUNNING_DATABASE_URL": database,
            "DUNNING_SECRET_KEYS": json.dumps(keys or [OLD]),
        },
    )


def store_a_token(cli: Cli) -> None:
    """One connection's tokens, stored under the key the installation has now."""
    settings = Settings(
        var_dir=cli.var_dir,
        database_url=cli.env["DUNNING_DATABASE_URL"],
        secret_keys=json.loads(cli.env["DUNNING_SECRET_KEYS"]),
    )
    rt = Runtime(settings, budget_url="memory://")
    with transaction(rt.sessions) as s:
        org_id = repos.create_organisation(s, "Keys BV")
        connection_id = repos.create_connection(s, org_id, "moneybird").id
    rt.tokens.store_initial(connection_id, org_id, TokenSet(access_token="at-doctor", refresh_token=None))
    rt.close()


def test_migrations_behind_advise_db_upgrade(tmp_path: Path) -> None:
    cli = installation(tmp_path, revision="0008")
    outcome = cli("doctor")
    assert outcome.exit_code == 1, outcome.describe()
    assert "the database is at 0008, this version needs" in outcome.stdout, outcome.describe()
    assert "dunning db upgrade" in outcome.stdout, outcome.describe()


def test_a_healthy_installation_says_migrations_current_and_exits_0(tmp_path: Path) -> None:
    cli = installation(tmp_path)
    outcome = cli("doctor", "--json")
    assert outcome.exit_code == 0, outcome.describe()
    report = json.loads(outcome.stdout)
    assert report["migrations"].startswith("current"), report
    assert not [k for k in report if k.endswith("_error")], report


@pytest.mark.parametrize(
    ("keys", "healthy", "lines"),
    [
        ([OLD], True, ["key 1 of 1 (newest) decrypts 1 of 1 stored secret(s): reads every stored secret"]),
        (
            [NEW, OLD],
            True,
            [
                "key 1 of 2 (newest) decrypts 0 of 1 stored secret(s): run `dunning rotate-keys`",
                "key 2 of 2 decrypts 1 of 1 stored secret(s): still needed",
            ],
        ),
        (
            [NEW],
            False,
            ["key 1 of 1 (newest) decrypts 0 of 1", "no key decrypts 0 of 1 stored secret(s): tokens of connection"],
        ),
    ],
    ids=["the-key-in-use", "a-new-key-before-rotation", "the-old-key-dropped-too-soon"],
)
def test_every_key_is_tried_on_the_stored_secrets(
    tmp_path: Path, keys: list[str], healthy: bool, lines: list[str]
) -> None:
    cli = installation(tmp_path)
    store_a_token(cli)
    outcome = cli.with_env(DUNNING_SECRET_KEYS=json.dumps(keys))("doctor")
    assert outcome.exit_code == (0 if healthy else 1), outcome.describe()
    shown = " ".join(outcome.stdout.split())
    for line in lines:
        assert " ".join(line.split()) in shown, f"doctor does not say {line!r}:\n{outcome.stdout}"


def test_after_rotate_keys_the_old_key_reads_nothing(tmp_path: Path) -> None:
    cli = installation(tmp_path)
    store_a_token(cli)
    both = cli.with_env(DUNNING_SECRET_KEYS=json.dumps([NEW, OLD]))
    both.ok("rotate-keys")
    shown = " ".join(both("doctor").stdout.split())
    assert "key 1 of 2 (newest) decrypts 1 of 1 stored secret(s): reads every stored secret" in shown, shown
    assert "key 2 of 2 decrypts 0 of 1 stored secret(s): reads none" in shown, shown
