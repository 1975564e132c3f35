"""Exact sandbox: how rows and errors leave the emulator, in Exact's wire format.

Used by every route (``app.py``, ``api.py``, ``writeback.py``) and by the webhook bodies of ``webhooks.py``. Rows
are plain dicts of typed values (``Decimal``, ``date``, aware ``datetime``, ``bool``, ``int``, ``str``); dates go
out as ``/Date(ms)/`` wall-clock CET/CEST (docs/providers/exact.md#dates), numbers as JSON numbers with their exact
decimal text, errors in the OData error envelope (docs/providers/exact.md#errors).
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response

CET = ZoneInfo("Europe/Amsterdam")
_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - wall-clock arithmetic


def new_id(rng: random.Random) -> str:
    """A GUID (version 4) from the sandbox's seeded random source, so seeded books are reproducible."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def wall_ms(value: date | datetime) -> int:
    """Epoch milliseconds of the CET/CEST wall-clock time (docs/providers/exact.md#dates: 'CET, not GMT')."""
    if isinstance(value, datetime):
        wall = value.astimezone(CET).replace(tzinfo=None)
    else:
        wall = datetime(value.year, value.month, value.day)  # noqa: DTZ001
    return (wall - _EPOCH) // timedelta(milliseconds=1)  # integer arithmetic: no float rounding


def ms_date(value: date | datetime) -> str:
    return f"/Date({wall_ms(value)})/"


def to_wire(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, date):
            out[key] = ms_date(value)
        elif isinstance(value, Decimal):
            out[key] = f"__DEC__{value}__"
        else:
            out[key] = value
    return out


_DEC = re.compile(r'"__DEC__(-?\d+(?:\.\d+)?)__"')


def dumps(payload: Any) -> str:
    """JSON with Decimals written as exact JSON numbers (never through float)."""
    return _DEC.sub(r"\1", json.dumps(payload, separators=(",", ":")))


def error_body(message: str) -> str:
    """docs/providers/exact.md#errors: ``{"error":{"code":"","message":{"lang":"","value":"…"}}}``."""
    return dumps({"error": {"code": "", "message": {"lang": "", "value": message}}})


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(payload), status=status, headers=headers or {}, content_type="application/json")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(error_body(message), status=status, headers=headers or {}, content_type="application/json")
