"""The web app without a browser: which organisation it serves, and the pages it shows when something is wrong
(in the user's language, never a bare "Internal Server Error")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from pydantic import SecretStr

from connector import apikeys, apiviews, defaults, queries
from connector.errors import ConfigurationError, NotFound
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import upgrade
from dashboard import create_app


def _settings(tmp_path: Path, **changes: object) -> Settings:
    base = Settings(  # the installation's database: var_dir's SQLite file, or PostgreSQL in that pass (tests/dbs.py)
        var_dir=tmp_path,
        secret_keys=[SecretStr(Fernet.generate_key().decode())],
        queue_immediate=True,
    )
    upgrade(base.database_url)
    return base.model_copy(update=changes)


def _org_name(app: Flask) -> str:
    services = app.extensions["dunning"]
    with services.runtime.sessions() as s:
        return dict(repos.list_organisations(s))[services.org_id]


def test_which_organisation_is_served(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    app = create_app(settings)
    assert _org_name(app) == "default", "a fresh install starts one organisation"
    assert _org_name(create_app(settings)) == "default", "the only organisation is the one served"
    rt = app.extensions["dunning"].runtime
    with rt.sessions.begin() as s:
        repos.create_organisation(s, "Other office")
    rt.close()
    with pytest.raises(ConfigurationError, match="several organisations here"):
        create_app(settings)
    assert _org_name(create_app(settings.model_copy(update={"org": "Other office"}))) == "Other office"
    with pytest.raises(NotFound, match="no organisation 'Nobody' here"):
        create_app(settings.model_copy(update={"org": "Nobody"}))


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("nl", "Er is hier geen boekhoudpakket met de naam &#39;foo&#39;. U kunt koppelen: Exact Online, Moneybird"),
        ("en", "There is no accounting package called &#39;foo&#39; here. You can connect: Exact Online, Moneybird"),
    ],
)
def test_connecting_an_unknown_provider_says_so(tmp_path: Path, lang: str, says: str) -> None:
    response = create_app(_settings(tmp_path)).test_client().get(f"/connect/foo?lang={lang}")
    assert response.status_code == 404
    assert says in response.get_data(as_text=True)


def test_an_unknown_page_is_a_page_too(tmp_path: Path) -> None:
    response = create_app(_settings(tmp_path)).test_client().get("/no-such-page?lang=en")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_a_broken_policy_file_shows_a_friendly_page(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(defaults.policies_dir(), folder)
    b2b = folder / "b2b.yaml"
    b2b.write_text(b2b.read_text(encoding="utf-8").replace("days: 3,", "days: soon,"), encoding="utf-8")
    client = create_app(_settings(tmp_path, policies_dir=folder)).test_client()
    for lang, title in (("nl", "Er ging iets mis"), ("en", "Something went wrong")):
        response = client.get(f"/tomorrow?lang={lang}")
        page = response.get_data(as_text=True)
        assert response.status_code == 500
        assert title in page
        assert "b2b.yaml, line 25, field &#39;levels[1].days&#39;" in page
        assert "Internal Server Error" not in page


def test_an_unexpected_error_shows_what_to_do_and_the_api_answers_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> list[object]:
        raise RuntimeError("secret internals")

    # The page reads through connector.queries, the API pages through connector.apiviews: break both.
    monkeypatch.setattr(queries, "worklist", broken)
    monkeypatch.setattr(apiviews, "worklist", broken)
    settings = _settings(tmp_path)
    app = create_app(settings)
    key = apikeys.create_key(app.extensions["dunning"].runtime, app.extensions["dunning"].org_id, "read").key
    client = app.test_client()
    page = client.get("/?lang=en")
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert "ask whoever runs this installation to look at its log" in text
    assert "secret internals" not in text
    api = client.get("/api/v1/worklist", headers={"Authorization": f"Bearer {key}"})
    assert api.status_code == 500
    assert api.is_json
    assert "secret internals" not in api.get_data(as_text=True)
