"""Write endpoints of the API for the worklist: approve, skip and snooze an item (keys with the write scope).

Each calls the service the web pages use (``connector.worklist_actions``); an item in the wrong state is a 409.
"""

from __future__ import annotations

from flask import g

from connector import worklist_actions
from dashboard.api.models import SkipBody, SnoozeBody
from dashboard.api.spec import endpoint
from dashboard.common import services


@endpoint("POST", "/worklist/{item_id}/approve", summary="Approve a step that waits for approval", tag="worklist",
          response=None, status=204, errors=(409,))  # fmt: skip
def approve(item_id: int) -> None:
    worklist_actions.approve(services().runtime, g.api_caller.org_id, item_id)


@endpoint("POST", "/worklist/{item_id}/skip", summary="Close an open item without doing it", tag="worklist",
          response=None, body=SkipBody, status=204, errors=(409,))  # fmt: skip
def skip(item_id: int, body: SkipBody) -> None:
    worklist_actions.skip(services().runtime, g.api_caller.org_id, item_id, body.reason)


@endpoint("POST", "/worklist/{item_id}/snooze", summary="Keep a waiting item back until a later day",
          tag="worklist", response=None, body=SnoozeBody, status=204, errors=(409,))  # fmt: skip
def snooze(item_id: int, body: SnoozeBody) -> None:
    worklist_actions.snooze(services().runtime, g.api_caller.org_id, item_id, body.until)
