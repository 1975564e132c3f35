"""Exact sandbox: the write endpoints (notes, documents with attachments, the Blocked flag, webhook subscriptions).

``WRITES`` maps ``(method, endpoint)`` to a handler returning ``(status, payload)``; ``app.py`` dispatches every
POST/PUT/DELETE to it after the gate. Each accepted write mutates the division's books, is appended to
``writes(division)`` for the tests and the demo, echoes back as a webhook event where Exact sends one, and is
persisted. A new webhook subscription is validated first with the empty POST Exact sends
(docs/providers/exact.md#subscribing).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any

import requests

from sandboxes.exact.render import new_id
from sandboxes.exact.state import ExactState

Handler = Callable[[ExactState, str, str | None, dict[str, Any]], tuple[int, Any]]


def _when(value: Any, state: ExactState) -> datetime:
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=state.now().tzinfo) if value else state.now()
    except ValueError:
        return state.now()


def _post_note(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    div = state.division(division)
    account = str(body.get("Account") or "").lower()
    if account not in div["accounts"]:
        return 400, "Account: Mandatory field, or the account does not exist."
    note = {
        "ID": new_id(state.rng),
        "Account": account,
        "Contact": body.get("Contact"),
        "Subject": body.get("Subject"),
        "Notes": body.get("Notes"),
        "Date": _when(body.get("Date"), state),
        "Created": state.now(),
        "Creator": state.db["user"]["UserID"],
    }
    div["notes"][note["ID"]] = note
    state.record_write(division, "note", f"{note['Subject']}\n{note['Notes']}", account=account, id=note["ID"])
    state.save()
    return 201, note


def _post_document(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    div = state.division(division)
    if not body.get("Subject") or body.get("Type") is None:
        return 400, "Subject, Type: Mandatory fields."
    doc = {
        "ID": new_id(state.rng),
        "Subject": body["Subject"],
        "Type": int(body["Type"]),
        "Account": str(body.get("Account") or "").lower() or None,
        "Body": body.get("Body"),
        "DocumentDate": _when(body.get("DocumentDate"), state),
        "Created": state.now(),
    }
    div["documents"][doc["ID"]] = doc
    # our own writes echo back (docs/providers/exact.md#retries-and-duplicates)
    state.queue_event(division, "Documents", doc["ID"], "Create")
    state.save()
    return 201, doc


def _post_attachment(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    div = state.division(division)
    doc = div["documents"].get(str(body.get("Document") or "").lower())
    if doc is None or not body.get("FileName"):
        return 400, "Document, FileName: Mandatory fields."
    try:
        content = base64.b64decode(str(body.get("Attachment") or ""), validate=True)
    except binascii.Error:
        return 400, "Attachment: not valid base64."
    att = {
        "ID": new_id(state.rng),
        "Document": doc["ID"],
        "FileName": body["FileName"],
        "FileSize": len(content),
        "Url": f"/docs/SysAttachment.aspx?ID={doc['ID']}",
    }
    div["attachments"][att["ID"]] = att
    state.record_write(
        division,
        "document",
        f"{doc['Subject']}\n{doc['Body']}",
        account=doc["Account"],
        id=doc["ID"],
        file_name=att["FileName"],
        size=len(content),
        pdf=content.startswith(b"%PDF"),
    )
    state.save()
    return 201, att


_ACCOUNT_WRITABLE = frozenset({"Blocked", "CreditLineSales", "Remarks", "Email", "Phone", "Name"})


def _put_account(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    account = state.division(division)["accounts"].get(key or "")
    if account is None:
        return 404, "Account not found."
    if set(body) - _ACCOUNT_WRITABLE:
        return 400, f"Property not writable: {sorted(set(body) - _ACCOUNT_WRITABLE)[0]}"
    account.update(body, Modified=state.now(), Timestamp=state.bump())
    if "Blocked" in body:
        state.record_write(
            division, "blocked", f"Blocked={body['Blocked']}", account=key, blocked=bool(body["Blocked"])
        )
    state.queue_event(division, "Accounts", str(key), "Update")
    state.save()
    return 204, None


def _post_subscription(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    url, topic = body.get("CallbackURL"), body.get("Topic")
    if not url or not topic:
        return 400, "CallbackURL, Topic: Mandatory fields."
    try:  # docs/providers/exact.md#subscribing: an empty POST validates the callback before the subscription exists
        status = requests.post(str(url), data=b"", timeout=10).status_code
    except requests.RequestException:
        status = 599
    if status >= 300:
        return 500, f"Invalid: Post to callback URL endpoint returns {status}"
    sub = state.subscribe(division, str(url), str(topic))
    state.save()
    return 201, sub


def _delete_subscription(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    if state.division(division)["subscriptions"].pop(key or "", None) is None:
        return 404, "Subscription not found."
    state.save()
    return 204, None


WRITES: dict[tuple[str, str], Handler] = {
    ("POST", "activities/CommunicationNotes"): _post_note,
    ("POST", "documents/Documents"): _post_document,
    ("POST", "documents/DocumentAttachments"): _post_attachment,
    ("PUT", "crm/Accounts"): _put_account,
    ("POST", "webhooks/WebhookSubscriptions"): _post_subscription,
    ("DELETE", "webhooks/WebhookSubscriptions"): _delete_subscription,
}
