"""The web app's languages: Flask-Babel with gettext catalogues in Dutch, English as the source language.

Sits beside ``create_app`` (``dashboard/__init__.py``), which calls ``init_i18n``. Every string a user reads is
written in English in the template or code (``{{ _("Open invoices") }}``, ``gettext("...")``) and translated by
the Dutch catalogues in ``dashboard/translations/nl/LC_MESSAGES/<area>.po``, one file per area of the app
(``messages`` for the shell and home, ``worklist``, ``reports``, ``portal``) so that areas are translated
side by side without touching each other's file (docs/architecture.md#languages). The ``.po`` files are read at
run time with babel (package data, no compile step), merged per language and cached. The language comes from
``?lang=``, then the remembered cookie, then the browser's Accept-Language; Dutch when none of those says.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, Response, g, has_request_context, request
from flask_babel import Babel, Domain, format_currency, format_date, format_decimal, get_locale
from flask_babel import lazy_gettext as _l

from dashboard.security import cookie_flags

TRANSLATIONS = Path(__file__).parent / "translations"
DOMAINS = (
    "messages",
    "worklist",
    "reports",
    "portal",
    "integrations",
    "policies",
    "cockpit",
    "onboarding",
)  # one catalogue per area of the app
LANGUAGES = {"nl": "nl_NL", "en": "en_GB"}  # the language a user picks -> the locale for amounts and dates
DEFAULT_LANGUAGE = "nl"
COOKIE = "lang"


@cache
def catalogue(language: str) -> NullTranslations:
    """All areas' ``.po`` files for ``language`` merged into one translations object (English needs none)."""
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    files = [folder / f"{domain}.po" for domain in DOMAINS if (folder / f"{domain}.po").exists()]
    if not files:
        return NullTranslations()
    merged = Catalog(locale=language)
    for path in files:
        with path.open("rb") as fp:
            for message in read_po(fp, locale=language, domain=path.stem):
                if message.id and message.string and not message.fuzzy:
                    merged[message.id] = message
    buffer = BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(fp=buffer)


class _PoDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's domain, fed from the ``.po`` files instead of compiled ``.mo`` files."""

    def get_translations(self) -> NullTranslations:
        if not has_request_context():
            return NullTranslations()
        return catalogue(lang())


class _Babel(Babel):  # type: ignore[misc]
    @property
    def domain_instance(self) -> Domain:
        return _DOMAIN


_DOMAIN = _PoDomain(domain=";".join(DOMAINS))


def lang() -> str:
    """The language of this request: ``nl`` or ``en``."""
    if "dunning_lang" not in g:
        chosen = request.args.get("lang") or request.cookies.get(COOKIE)
        if chosen not in LANGUAGES:
            chosen = request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE
        g.dunning_lang = chosen
    return str(g.dunning_lang)


def _remember_language(response: Response) -> Response:
    if request.args.get("lang") in LANGUAGES and request.cookies.get(COOKIE) != request.args["lang"]:
        response.set_cookie(COOKIE, request.args["lang"], max_age=365 * 86400, **cookie_flags())
    return response


def money(amount: Any, currency: str | None = "EUR") -> str:
    """An amount as the user reads it: ``€ 69.212,49`` in Dutch, ``€69,212.49`` in English."""
    if amount in (None, ""):
        return ""
    return str(format_currency(Decimal(str(amount)), currency or "EUR"))


def number(value: Any) -> str:
    """A number as the user reads it: ``30,5`` in Dutch, ``30.5`` in English."""
    if value in (None, ""):
        return ""
    return str(format_decimal(Decimal(str(value))))


def day(value: Any, form: str = "medium") -> str:
    """A date as the user reads it: ``4 dec 2026`` in Dutch, ``4 Dec 2026`` in English."""
    if value in (None, ""):
        return ""
    return str(format_date(value, form))


# The names of the default policies' steps (connector/defaults/policies/*.yaml), shown in the user's language; a
# name an organisation wrote itself in its own policy is shown as written (docs/policies.md).
STEP_NAMES = {
    "Friendly notice": _l("Friendly notice"),
    "First reminder": _l("First reminder"),
    "Second reminder": _l("Second reminder"),
    "Notice of default": _l("Notice of default"),
    "Phone call": _l("Phone call"),
    "Demand letter (aanmaning)": _l("Demand letter (aanmaning)"),
    "14-day letter (veertiendagenbrief)": _l("14-day letter (veertiendagenbrief)"),
    "Final notice": _l("Final notice"),
    "Final notice with costs": _l("Final notice with costs"),
    "Credit stop": _l("Credit stop"),
    "Hand-over to collection": _l("Hand-over to collection"),
}


def step(name: Any) -> str:
    """A step's name as the user reads it: a default step in the page's language, an own name as written."""
    if name in (None, ""):
        return ""
    known = STEP_NAMES.get(str(name))
    return str(known) if known is not None else str(name)


def init_i18n(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = LANGUAGES[DEFAULT_LANGUAGE]
    _Babel(app, locale_selector=lambda: LANGUAGES[lang()])
    app.after_request(_remember_language)
    app.add_template_filter(money, "money")
    app.add_template_filter(day, "day")
    app.add_template_filter(number, "number")
    app.add_template_filter(step, "step")
    app.add_template_global(lang, "lang")


__all__ = ["catalogue", "day", "get_locale", "init_i18n", "lang", "money", "number", "step"]
