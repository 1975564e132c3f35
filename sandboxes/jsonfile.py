"""A sandbox's state as one JSON file (``state_path``), so a demo's books survive a restart of the emulator.

Used by the state objects of every sandbox. ``dumps``/``loads`` tag Decimals, dates and datetimes so they come
back with their exact types (never through float); ``write_atomic`` replaces the file in one step (temporary
file + rename), so a crash mid-write leaves the previous state whole.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

_DECODERS: dict[str, Any] = {
    "__dec": Decimal,
    "__dt": datetime.fromisoformat,
    "__date": date.fromisoformat,
    # the tags an earlier Exact sandbox wrote: a demo's saved state still loads
    "$dec": Decimal,
    "$dt": datetime.fromisoformat,
    "$d": date.fromisoformat,
}


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
            if tag in _DECODERS and isinstance(raw, str):
                return _DECODERS[tag](raw)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(data: Any) -> str:
    """JSON text of ``data`` with Decimals, dates and datetimes tagged."""
    return json.dumps(_encode(data), separators=(",", ":"))


def loads(text: str) -> Any:
    """The value ``dumps`` wrote, with its Decimals, dates and datetimes back."""
    return _decode(json.loads(text))


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (parent folders are created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
