"""Moneybird sandbox: write-back and webhook-management routes (``send_reminders``, pause/resume, notes,
mark-as-*, payments, ``webhooks``).

Registered on the ``/api/v2`` blueprint of ``api.py``; the Moneybird adapter's outbox writes land here.
Each accepted write mutates the invoice through the state object (events, ``updated_at``/``version``, webhook
pushes), is appended to ``writes(adm)`` for the tests, and is persisted. Request validation follows
docs/providers/moneybird.md#write-back, docs/providers/moneybird.md#subscribing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask import Response

from sandboxes.moneybird import mail
from sandboxes.moneybird import webhooks as hooks
from sandboxes.moneybird.api import (
    REMINDABLE,
    REMINDER_KEYS,
    SALES,
    SETTINGS,
    body,
    invalid,
    note_from_body,
    reply,
    route,
    sandbox,
    write,
)
from sandboxes.moneybird.render import (
    NOT_FOUND,
    Record,
    SandboxError,
    render_note,
    render_payment,
    render_webhook,
    stamp,
)


@route("/<digits:adm_id>/sales_invoices/send_reminders", ("POST",), SALES)
def send_reminders(adm_id: str) -> Response:
    """docs/providers/moneybird.md#write-back: batch per contact × workflow × identity × style; 200 with a bare integer
    body."""
    state = sandbox()
    adm = state.administration(adm_id)
    reminders = body().get("sales_invoice_reminders")
    if not isinstance(reminders, list) or not reminders:
        raise SandboxError(
            400, {"error": "sales_invoice_reminders is required", "symbolic": {"sales_invoice_reminders": "required"}}
        )
    planned: list[tuple[Record, list[Record]]] = []
    for reminder in reminders:
        reminder = reminder if isinstance(reminder, dict) else {}
        for key in REMINDER_KEYS:  # required since the spec's first diff (2025-08-14)
            if reminder.get(key) in (None, "", []):
                raise invalid(key)
        references = (
            ("contact_id", adm["contacts"]),
            ("workflow_id", {w["id"] for w in adm["workflows"]}),
            ("document_style_id", {s["id"] for s in adm["document_styles"]}),
            ("identity_id", {i["id"] for i in adm["identities"]}),
        )
        for key, known in references:
            if str(reminder[key]) not in known:
                raise invalid(key, "is invalid", "invalid")
        if reminder.get("delivery_method", "Email") not in ("Email", "Manual"):
            raise invalid("delivery_method", "is not included in the list", "inclusion")
        invoices = []
        for invoice_id in reminder["sales_invoice_ids"]:
            inv = adm["invoices"].get(str(invoice_id))
            if inv is None or inv["contact_id"] != str(reminder["contact_id"]) or inv["state"] not in REMINDABLE:
                raise invalid("sales_invoice_ids", "contains invoices that cannot be reminded", "invalid")
            invoices.append(inv)
        planned.append((reminder, invoices))
    for reminder, invoices in planned:
        method = reminder.get("delivery_method", "Email")
        text = reminder.get("reminder_text")
        if text is None:  # docs/providers/moneybird.md#write-back: defaults to the next workflow step's text
            steps = next(w for w in adm["workflows"] if w["id"] == str(reminder["workflow_id"]))["steps"]
            text = steps[min(invoices[0]["reminder_count"] or 0, len(steps) - 1)]["reminder_text"] or ""
        for inv in invoices:
            state.record_reminder(adm_id, inv, reminder.get("reminder_text"), method)
        contact = adm["contacts"][str(reminder["contact_id"])]
        to = reminder.get("email_address") or contact.get("email")
        mailed = None
        if method == "Email" and state.smtp is not None and to:
            rendered = [state.render(adm_id, inv) for inv in invoices]
            mailed = mail.deliver(state.smtp, mail.reminder_message(adm, contact, rendered, text, to))
        write(
            adm,
            "reminder",
            [inv["id"] for inv in invoices],
            text=reminder.get("reminder_text"),
            delivery_method=method,
            email_address=reminder.get("email_address"),
            **({"mailed": mailed} if mailed is not None else {}),
            **{key: str(reminder[key]) for key in REMINDER_KEYS[:4]},
        )
    state.save()
    return reply(200)


def _invoice(adm_id: str, invoice_id: str) -> Record:
    return sandbox().invoice_record(adm_id, invoice_id)


@route("/<digits:adm_id>/sales_invoices/<digits:invoice_id>/pause", ("POST",), SALES)
def pause(adm_id: str, invoice_id: str) -> Response:
    return _pause(adm_id, invoice_id, paused=True)


@route("/<digits:adm_id>/sales_invoices/<digits:invoice_id>/resume", ("POST",), SALES)
def resume(adm_id: str, invoice_id: str) -> Response:
    return _pause(adm_id, invoice_id, paused=False)


def _pause(adm_id: str, invoice_id: str, *, paused: bool) -> Response:
    state = sandbox()
    inv = _invoice(adm_id, invoice_id)
    state.pause(adm_id, inv, paused)
    write(state.administration(adm_id), "pause" if paused else "resume", [inv["id"]])
    state.save()
    return reply(state.render(adm_id, inv), 201)  # docs/providers/moneybird.md#write-back: pause and resume answer 201


@route("/<digits:adm_id>/sales_invoices/<digits:invoice_id>/notes", ("POST",), SALES)
def invoice_note(adm_id: str, invoice_id: str) -> Response:
    state = sandbox()
    inv = _invoice(adm_id, invoice_id)
    note = note_from_body(adm_id, "SalesInvoice", inv["id"])
    inv["notes"].append(note)
    state.note_pushed(adm_id, inv, note)
    write(
        state.administration(adm_id),
        "note",
        [inv["id"]],
        text=note["note"],
        todo=note["todo"],
        assignee_id=note["assignee_id"],
    )
    state.save()
    return reply(render_note(adm_id, note), 201)


@route("/<digits:adm_id>/sales_invoices/<digits:invoice_id>/mark_as_uncollectible", ("PATCH",), SALES)
def mark_as_uncollectible(adm_id: str, invoice_id: str) -> Response:
    return _mark(adm_id, invoice_id, "uncollectible")


@route("/<digits:adm_id>/sales_invoices/<digits:invoice_id>/mark_as_dubious", ("PATCH",), SALES)
def mark_as_dubious(adm_id: str, invoice_id: str) -> Response:
    return _mark(adm_id, invoice_id, "dubious")


def _mark(adm_id: str, invoice_id: str, kind: str) -> Response:
    state = sandbox()
    inv = _invoice(adm_id, invoice_id)
    if inv["state"] not in REMINDABLE:  # docs/providers/moneybird.md#write-back: only open/late/due invoices
        raise SandboxError(400, {"error": "Invoice is not open", "symbolic": {"invoice": "not_open"}})
    day = str(body().get(f"{kind}_date") or state.today().isoformat())
    inv[f"marked_{kind}_on"] = day
    state.record_event(adm_id, inv, f"sales_invoice_marked_as_{kind}")
    if kind == "uncollectible":  # docs/providers/moneybird.md#write-back: dubious keeps the state `open`
        state.change_state(adm_id, inv, "uncollectible")
    write(state.administration(adm_id), kind, [inv["id"]], date=day)
    state.save()
    return reply(state.render(adm_id, inv))


@route("/<digits:adm_id>/sales_invoices/<digits:invoice_id>/payments", ("POST",), SALES)
def create_payment(adm_id: str, invoice_id: str) -> Response:
    state = sandbox()
    inv = _invoice(adm_id, invoice_id)
    fields = body().get("payment")
    fields = fields if isinstance(fields, dict) else {}
    try:
        amount = Decimal(str(fields.get("price")).replace(",", "."))
    except InvalidOperation:
        raise invalid("price") from None
    if not fields.get("payment_date"):
        raise invalid("payment_date")
    payment_id = state.register_payment(adm_id, inv["id"], amount, date.fromisoformat(str(fields["payment_date"])))
    payment = next(p for p in inv["payments"] if p["id"] == payment_id)
    write(state.administration(adm_id), "payment", [inv["id"]], amount=str(amount))
    state.save()
    return reply(render_payment(adm_id, inv["id"], payment), 201)


# -- webhooks (docs/providers/moneybird.md#subscribing, scope settings) ------------------------------------------------
@route("/<digits:adm_id>/webhooks", ("GET",), SETTINGS)
def list_webhooks(adm_id: str) -> Response:
    return reply([render_webhook(w) for w in sandbox().administration(adm_id)["webhooks"].values()])


@route("/<digits:adm_id>/webhooks", ("POST",), SETTINGS, locked=False)
def create_webhook(adm_id: str) -> Response:
    state = sandbox()
    with state.lock:
        state.administration(adm_id)
    fields = body()  # docs/providers/moneybird.md#subscribing: no envelope
    if "events" in fields:
        raise SandboxError(
            400,
            {
                "error": "'events' has been removed from webhooks, use 'enabled_events'",
                "symbolic": {"events": "removed"},
            },
        )
    url = fields.get("url")
    if not isinstance(url, str) or not url:
        raise SandboxError(400, {"error": "Url is required", "symbolic": {"url": "required"}})
    events = fields.get("enabled_events") or []
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise SandboxError(400, {"error": "Enabled events is invalid", "symbolic": {"enabled_events": "invalid"}})
    if state.probe_webhooks and hooks.probe(url, state.webhook_timeout) != 200:  # unsigned probe, outside lock
        raise SandboxError(400, {"error": "Url did not respond with a 200 HTTP status", "symbolic": {"url": "invalid"}})
    with state.lock:
        webhook = state.create_webhook(adm_id, url, events)
        return reply(render_webhook(webhook, with_secret=True), 201)


@route("/<digits:adm_id>/webhooks/<digits:webhook_id>", ("DELETE",), SETTINGS)
def delete_webhook(adm_id: str, webhook_id: str) -> Response:
    state = sandbox()
    if state.administration(adm_id)["webhooks"].pop(webhook_id, None) is None:
        raise SandboxError(404, NOT_FOUND)
    state.save()
    return Response(status=204)


@route("/<digits:adm_id>/webhooks/<digits:webhook_id>/<any(activate, deactivate):action>", ("PATCH",), SETTINGS)
def toggle_webhook(adm_id: str, webhook_id: str, action: str) -> Response:
    state = sandbox()
    webhook = state.administration(adm_id)["webhooks"].get(webhook_id)
    if webhook is None:
        raise SandboxError(404, NOT_FOUND)
    webhook["deactivated_at"] = None if action == "activate" else webhook.get("deactivated_at") or stamp(state.now())
    state.save()
    return reply(render_webhook(webhook))
