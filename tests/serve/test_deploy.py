"""``deploy/``: the compose file is valid YAML of the expected shape (no compose tool offline), every command it
runs is a real ``dunning`` command with real options, and the proxy reaches the web service
(docs/operations.md#deploy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from connector.cli import app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
APP_SERVICES = ("migrate", "web", "worker", "scheduler")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def _command(argv: list[str]) -> Any:
    command: Any = typer.main.get_command(app)
    for word in argv[1:]:
        found = command.get_command(None, word) if hasattr(command, "get_command") else None
        if found is None:
            break
        command = found
    return command


def test_every_part_is_there(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "redis", "proxy", *APP_SERVICES}, f"services: {sorted(services)}"
    assert services["db"]["image"].startswith("postgres:"), "the database is not PostgreSQL"
    assert services["redis"]["image"].startswith("redis:"), "the queue is not Redis"
    assert services["proxy"]["image"].startswith("caddy:"), "no TLS proxy"
    assert "443:443" in services["proxy"]["ports"], "the proxy does not serve https"
    assert "reverse_proxy web:8000" in (DEPLOY / "Caddyfile").read_text(), "Caddy does not reach the web service"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_real_commands_on_postgres_and_redis(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    argv = service["command"]
    assert argv[0] == "dunning", f"{name} runs {argv}"
    command = _command(argv)
    known = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}
    flags = [word for word in argv[2:] if word.startswith("--")]
    assert set(flags) <= known, f"{name}: options {sorted(set(flags) - known)} are not options of {argv[:3]}"
    env = service["environment"]
    assert env["DUNNING_DATABASE_URL"].startswith("postgresql://"), f"{name} is not on PostgreSQL"
    assert env["DUNNING_QUEUE_URL"].startswith("redis://"), f"{name} does not queue on Redis"
    assert env["DUNNING_TRUSTED_PROXIES"] == "1", f"{name} does not count the one proxy in front"
    assert service["env_file"] == "dunning.env", f"{name} reads no settings file"
    if name != "migrate":
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    assert "--max-requests" not in argv, f"{name} recycles workers"


def test_one_scheduler_and_workers_without_schedules(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "--no-periodic" in services["worker"]["command"], "scaled workers would each run the schedules"
    assert "--no-periodic" not in services["scheduler"]["command"], "nothing runs the schedules"


def test_the_example_settings_name_real_settings() -> None:
    from connector.settings import Settings

    names = {line.split("=", 1)[0] for line in (DEPLOY / "dunning.env.example").read_text().splitlines() if "=" in line}
    top = {n.removeprefix("DUNNING_").split("__")[0].lower() for n in names if not n.startswith("#")}
    assert top <= set(Settings.model_fields), f"unknown settings: {sorted(top - set(Settings.model_fields))}"
