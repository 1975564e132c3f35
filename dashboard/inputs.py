"""Text that no database can store, refused where a request comes in: the one check of every query string, form
and API body for NUL characters and unpaired surrogates.

PostgreSQL refuses a NUL in any text value and psycopg cannot encode a lone surrogate (``"\\ud800"`` in JSON), so
such a value, written or only searched for, would end as a 500 on PostgreSQL while SQLite stores it. ``create_app``
registers ``refuse_unstorable_text`` before every page's view (a 400 page in the user's language); the API's route
registry (``dashboard.api.spec``) calls ``unstorable_fields`` after the key check and answers a 422 problem naming
the fields; the debtor's page (``dashboard.portal``) answers such a link or code with its neutral 404, as any
unknown one (it never stores them). The webhook receivers are left out: a signed delivery is checked after its
signature and a bad field becomes a dead letter (docs/operations.md#exposing-the-web-app, docs/api.md#errors).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, request
from flask_babel import gettext as _

from dashboard.common import page

CHECKED_ELSEWHERE = ("api", "webhooks", "portal", "static")  # blueprints (and the static files) that check their own


def storable(text: str) -> bool:
    """False when ``text`` holds a NUL or a surrogate code point (valid UTF-8 never decodes to one)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unstorable_fields(value: object, where: str = "") -> list[str]:
    """The dotted names of every string in ``value`` (a JSON document or a query string's dict), keys included,
    that a database cannot store; empty when all can be."""
    found: list[str] = []
    items: Iterable[tuple[object, object]]
    if isinstance(value, str):
        return [] if storable(value) else [where or "body"]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    for key, item in items:
        name = f"{where}.{key}" if where else str(key)
        if isinstance(key, str) and not storable(key):
            found.append(where or "body")
        else:
            found.extend(unstorable_fields(item, name))
    return found


def refuse_unstorable_text() -> Any:
    """Before a page's view: a path, query string or form with text no database can store is a 400 page."""
    if (request.blueprint or request.endpoint or "static") in CHECKED_ELSEWHERE:
        return None
    in_path = [(name, value) for name, value in (request.view_args or {}).items() if isinstance(value, str)]
    fields = [*in_path, *request.args.items(multi=True), *request.form.items(multi=True)]
    if all(storable(key) and storable(value) for key, value in fields):
        return None
    return page(
        "message.html",
        title=_("This request could not be handled"),
        detail=_(
            "What you sent contains a character that cannot be stored (a NUL character or a broken one). "
            "Remove it and try again."
        ),
    ), 400


def init_inputs(app: Flask) -> None:
    app.before_request(refuse_unstorable_text)


__all__ = ["init_inputs", "refuse_unstorable_text", "storable", "unstorable_fields"]
