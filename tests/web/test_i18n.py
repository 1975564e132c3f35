"""The web app's languages: every text in a template or in the dashboard's code has its Dutch translation in one of
the area catalogues, the catalogues are package data, and amounts and dates follow the language."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask

import dashboard
from dashboard import i18n

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "lazy_ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
ROOT = Path(dashboard.__file__).parent


def _texts() -> dict[str, str]:
    """Every msgid of the dashboard -> where it is used first."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(ROOT, METHODS, keywords=KEYWORDS):
        for msgid in message if isinstance(message, tuple) else (message,):
            found.setdefault(msgid, f"dashboard/{filename}:{lineno}")
    return found


def _dutch() -> dict[str, tuple[str, str]]:
    """msgid -> (Dutch text, catalogue file) over the areas' catalogues."""
    out: dict[str, tuple[str, str]] = {}
    for path in sorted((i18n.TRANSLATIONS / "nl" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fp:
            for message in read_po(fp, locale="nl"):
                if message.id:
                    ids = [message.id] if isinstance(message.id, str) else list(message.id)
                    texts = [message.string] if isinstance(message.string, str) else list(message.string)
                    for msgid, text in zip(ids, texts, strict=False):  # singular and plural
                        out[str(msgid)] = (str(text), path.name)
    return out


def test_every_text_has_a_dutch_translation() -> None:
    texts, dutch = _texts(), _dutch()
    assert len(texts) > 50, f"extraction found only {len(texts)} texts: the extractor lost the templates"
    missing = [f"{where}: {msgid!r}" for msgid, where in sorted(texts.items()) if not dutch.get(msgid, ("",))[0]]
    assert not missing, "texts without Dutch in dashboard/translations/nl/LC_MESSAGES/<area>.po:\n" + "\n".join(missing)


def test_placeholders_survive_translation() -> None:
    for msgid, (text, catalogue) in _dutch().items():
        for name in ("%(provider)s", "%(choices)s", "%(count)s", "%(name)s", "%(email)s", "%(date)s"):
            assert (name in msgid) == (name in text), f"{catalogue}: {msgid!r} and its Dutch differ in {name}"


def test_every_area_has_its_catalogue_in_the_package() -> None:
    for domain in i18n.DOMAINS:
        path = i18n.TRANSLATIONS / "nl" / "LC_MESSAGES" / f"{domain}.po"
        assert path.exists(), f"the {domain} area has no Dutch catalogue at {path}"
    pyproject = (ROOT.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert "translations/*/LC_MESSAGES/*.po" in pyproject, "the catalogues are not package data"


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    i18n.init_i18n(app)
    return app


@pytest.mark.parametrize(
    ("lang", "amount", "day", "text"),
    [
        ("nl", "€\xa069.212,49", "31 dec 2027", "Debiteurenbeheer"),
        ("en", "€69,212.49", "31 Dec 2027", "Credit management"),
    ],
)
def test_amounts_dates_and_texts_follow_the_language(app: Flask, lang: str, amount: str, day: str, text: str) -> None:
    from flask_babel import gettext

    with app.test_request_context(f"/?lang={lang}"):
        assert i18n.money(Decimal("69212.49"), "EUR") == amount, f"amount in {lang}"
        assert i18n.day(date(2027, 12, 31)).replace(".", "") == day, f"date in {lang}"
        assert gettext("Credit management") == text, f"text in {lang}"


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        ({}, "", "nl"),
        ({"Accept-Language": "en-GB,en;q=0.9"}, "", "en"),
        ({"Accept-Language": "fr-FR"}, "", "nl"),
        ({"Accept-Language": "en-GB", "Cookie": "lang=nl"}, "", "nl"),
        ({"Accept-Language": "nl", "Cookie": "lang=nl"}, "?lang=en", "en"),
        ({}, "?lang=de", "nl"),
    ],
)
def test_the_language_is_chosen_by_query_cookie_then_browser(
    app: Flask, headers: dict[str, str], query: str, expected: str
) -> None:
    with app.test_request_context(f"/{query}", headers=headers):
        assert i18n.lang() == expected, f"headers {headers} and query {query!r}"


@pytest.mark.parametrize(
    ("lang", "name", "shown"),
    [
        ("nl", "First reminder", "Eerste herinnering"),
        ("nl", "14-day letter (veertiendagenbrief)", "Veertiendagenbrief"),
        ("nl", "Credit stop", "Kredietstop"),
        ("en", "First reminder", "First reminder"),
        ("nl", "Onze eigen stap", "Onze eigen stap"),  # a name an organisation wrote itself is shown as written
        ("nl", None, ""),
    ],
)
def test_step_names_follow_the_language(app: Flask, lang: str, name: str | None, shown: str) -> None:
    with app.test_request_context(f"/?lang={lang}"):
        assert i18n.step(name) == shown, f"step name {name!r} in {lang}"


def test_every_default_step_name_has_its_translation() -> None:
    import yaml

    from connector import defaults

    names = set()
    for path in defaults.policies_dir().glob("*.yaml"):
        names |= {str(level["name"]) for level in yaml.safe_load(path.read_text(encoding="utf-8"))["levels"]}
    missing = names - set(i18n.STEP_NAMES)
    assert not missing, f"default step names without an entry in dashboard/i18n.py STEP_NAMES: {sorted(missing)}"
