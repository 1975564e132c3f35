"""Saves and loads the Xero sandbox's state as one JSON file (``state_path``), so a demo survives restarts.

Only called by the state object after mutations and by ``create_app`` at start: which fields of the state
object make up the file (the books of every organisation, OAuth grants, webhook settings and queue); the
encoding and the atomic write are ``sandboxes.jsonfile``'s.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from sandboxes import jsonfile
from sandboxes.xero.records import Org

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


def save_state(sandbox: XeroSandbox, path: Path) -> None:
    with sandbox.lock:
        data = {
            "orgs": {tid: asdict(org) for tid, org in sandbox.orgs.items()},
            **{name: getattr(sandbox, name) for name in _FIELDS},
        }
        text = jsonfile.dumps(data)
    jsonfile.write_atomic(path, text)


def load_state(sandbox: XeroSandbox, path: Path) -> bool:
    """Load ``path`` into ``sandbox``; False when there is no file yet."""
    if not path.exists():
        return False
    data = jsonfile.loads(path.read_text(encoding="utf-8"))
    with sandbox.lock:
        sandbox.orgs = {tid: Org(**org) for tid, org in data["orgs"].items()}
        for name in _FIELDS:
            setattr(sandbox, name, data[name])
    return True
