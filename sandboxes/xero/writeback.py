"""The Xero sandbox's write-back endpoints: History notes on invoices and contact groups (the credit stop).

Registered by ``app.py`` next to the read routes of ``api.py``, behind the same gate (token, tenant, scope,
limits). Every accepted write is appended to ``Org.writes`` so tests and the demo can see each write-back the
connector made; History notes honour an ``Idempotency-Key`` for a few minutes like Xero
(docs/providers/xero.md#write-back).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, g, request

from sandboxes.xero import render
from sandboxes.xero.api import API, find_invoice
from sandboxes.xero.records import Org
from sandboxes.xero.render import json_response
from sandboxes.xero.state import XeroSandbox

MAX_GROUPS = 100  # docs/providers/xero.md#write-back
IDEMPOTENCY_WINDOW = timedelta(minutes=6)  # docs/providers/xero.md#write-back (unverified secondary claim)


def register_writeback(app: Flask, sandbox: XeroSandbox) -> None:
    def org() -> Org:
        return sandbox.org(g.tenant)

    @app.route(f"{API}/Invoices/<invoice_id>/History", methods=["PUT", "POST"])
    def add_history(invoice_id: str) -> Response:
        o = org()
        found = find_invoice(o, invoice_id)
        if found is None:
            return Response(status=404)
        replay = _idempotent(sandbox, request.headers.get("Idempotency-Key"))
        if replay is not None:
            return replay
        payload = request.get_json(silent=True) or {}
        records = payload.get("HistoryRecords") or []
        details = [str(r.get("Details") or "") for r in records if isinstance(r, dict)]
        if not details or any(not d or len(d) > 2500 for d in details):
            return json_response(render.validation_error("Details must be between 1 and 2500 characters"), 400)
        with sandbox.lock:
            created = []
            for text in details:
                note = {"Changes": "Note", "DateUTC": sandbox.now(), "User": "System Generated", "Details": text}
                o.history.setdefault(found["InvoiceID"], []).append(note)
                o.writes.append({"kind": "history", "invoice_ids": [found["InvoiceID"]], "text": text})
                created.append(render.history(note))
            sandbox.changed()
        response = json_response(render.envelope(sandbox, "HistoryRecords", created))
        _remember(sandbox, request.headers.get("Idempotency-Key"), response)
        return response

    @app.route(f"{API}/ContactGroups", methods=["PUT", "POST"])
    def create_groups() -> Response:
        o = org()
        wanted = [gr.get("Name", "") for gr in (request.get_json(silent=True) or {}).get("ContactGroups", [])]
        with sandbox.lock:
            active = [gr for gr in o.groups.values() if gr["Status"] == "ACTIVE"]
            if not wanted or any(not n for n in wanted) or len(active) + len(wanted) > MAX_GROUPS:
                return json_response(render.validation_error("A contact group needs a name (max 100 groups)"), 400)
            if any(n.lower() == gr["Name"].lower() for n in wanted for gr in active):
                return json_response(render.validation_error("You have already created this contact group"), 400)
            created = []
            for name in wanted:
                gid = sandbox.new_id()
                o.groups[gid] = {"ContactGroupID": gid, "Name": name, "Status": "ACTIVE", "contact_ids": []}
                o.writes.append({"kind": "contact_group", "action": "create", "group": name, "invoice_ids": []})
                created.append(render.group(o, o.groups[gid], with_contacts=True))
            sandbox.changed()
        return json_response(render.envelope(sandbox, "ContactGroups", created))

    @app.put(f"{API}/ContactGroups/<group_id>/Contacts")
    def add_to_group(group_id: str) -> Response:
        o = org()
        found = o.groups.get(group_id.lower())
        ids = [c.get("ContactID", "") for c in (request.get_json(silent=True) or {}).get("Contacts", [])]
        if found is None or found["Status"] != "ACTIVE":
            return Response(status=404)
        if not ids or any(cid not in o.contacts for cid in ids):
            return json_response(render.validation_error("Contact not found"), 400)
        with sandbox.lock:
            for cid in ids:
                if cid not in found["contact_ids"]:
                    found["contact_ids"].append(cid)
            o.writes.append(
                {
                    "kind": "contact_group",
                    "action": "add",
                    "group": found["Name"],
                    "contact_ids": ids,
                    "invoice_ids": [],
                }
            )
            sandbox.changed()
        return json_response(render.envelope(sandbox, "Contacts", [{"ContactID": cid} for cid in ids]))

    @app.delete(f"{API}/ContactGroups/<group_id>/Contacts/<contact_id>")
    def remove_from_group(group_id: str, contact_id: str) -> Response:
        o = org()
        found = o.groups.get(group_id.lower())
        if found is None or contact_id not in found["contact_ids"]:
            return Response(status=404)
        with sandbox.lock:
            found["contact_ids"].remove(contact_id)
            o.writes.append(
                {
                    "kind": "contact_group",
                    "action": "remove",
                    "group": found["Name"],
                    "contact_ids": [contact_id],
                    "invoice_ids": [],
                }
            )
            sandbox.changed()
        return Response(status=204)


def _idempotent(sandbox: XeroSandbox, key: str | None) -> Response | None:
    if not key:
        return None
    cached = sandbox.idempotency.get((g.tenant, key))
    if cached is None or sandbox.now() - cached[0] > IDEMPOTENCY_WINDOW:
        return None
    return Response(cached[1], status=200, content_type="application/json; charset=utf-8")


def _remember(sandbox: XeroSandbox, key: str | None, response: Response) -> None:
    if key:
        sandbox.idempotency[(g.tenant, key)] = (sandbox.now(), response.get_data())
