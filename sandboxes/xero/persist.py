"""Saves and loads the Xero sandbox's state as one JSON file (``state_path``), so a demo survives restarts.

Only called by the state object after mutations and by ``create_app`` at start. Decimals, dates and datetimes
are tagged so they come back with their exact types; the write is atomic (temp file + rename).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandboxes.xero.state import XeroSandbox

_FIELDS = (
    "codes",
    "access_tokens",
    "refresh_tokens",
    "connections",
    "webhook_url",
    "webhook_key",
    "webhook_status",
    "event_queue",
    "event_sequence",
)


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__dec": str(value)}
    if isinstance(value, datetime):
        return {"__dt": value.isoformat()}
    if isinstance(value, date):
        return {"__date": value.isoformat()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, raw),) = value.items()
            if tag == "__dec":
                return Decimal(raw)
            if tag == "__dt":
                return datetime.fromisoformat(raw)
            if tag == "__date":
                return date.fromisoformat(raw)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def save_state(sandbox: XeroSandbox, path: Path) -> None:
    with sandbox.lock:
        data = {
            "orgs": {tid: asdict(org) for tid, org in sandbox.orgs.items()},
            **{name: getattr(sandbox, name) for name in _FIELDS},
        }
        text = json.dumps(_encode(data))
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def load_state(sandbox: XeroSandbox, path: Path) -> bool:
    """Load ``path`` into ``sandbox``; False when there is no file yet."""
    from sandboxes.xero.state import Org

    if not path.exists():
        return False
    data = _decode(json.loads(path.read_text(encoding="utf-8")))
    with sandbox.lock:
        sandbox.orgs = {tid: Org(**org) for tid, org in data["orgs"].items()}
        for name in _FIELDS:
            setattr(sandbox, name, data[name])
    return True
