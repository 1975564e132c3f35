"""Write endpoints of the API for the worklist: approve, skip with a reason and snooze an item (write keys).

Each calls the worklist's one implementation (``connector.worklist``), the same the web pages use, inside
``acting_as`` so the audit trail names the key (``api key <prefix>``); an item in the wrong state, or one a drain
is sending right now, is a 409 (docs/api.md#worklist-actions).
"""

from __future__ import annotations

from flask import g

from connector import worklist
from dashboard.api.models import SkipBody, SnoozeBody
from dashboard.api.spec import endpoint
from dashboard.common import services


def who() -> str:
    """How the audit trail names the caller: its key's prefix (never the key)."""
    return f"api key {g.api_caller.prefix}"


@endpoint("POST", "/worklist/{item_id}/approve", summary="Approve a step that waits for approval", tag="worklist",
          response=None, status=204, errors=(409,))  # fmt: skip
def approve(item_id: int) -> None:
    with worklist.acting_as(who()):
        worklist.approve(services().runtime, g.api_caller.org_id, item_id)


@endpoint("POST", "/worklist/{item_id}/skip", summary="Close an open item without doing it, saying why",
          tag="worklist", response=None, body=SkipBody, status=204, errors=(409,))  # fmt: skip
def skip(item_id: int, body: SkipBody) -> None:
    with worklist.acting_as(who()):
        worklist.skip(services().runtime, g.api_caller.org_id, item_id, body.reason)


@endpoint("POST", "/worklist/{item_id}/snooze", summary="Keep an open item back until a later day",
          tag="worklist", response=None, body=SnoozeBody, status=204, errors=(409,))  # fmt: skip
def snooze(item_id: int, body: SnoozeBody) -> None:
    with worklist.acting_as(who()):
        worklist.snooze(services().runtime, g.api_caller.org_id, item_id, body.until)
