"""The webhook receiver blueprint: ``POST /webhooks/<provider>`` verifies, records, enqueues and answers fast."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from connector.inbox import receive
from connector.registry import ADAPTERS

bp = Blueprint("webhooks", __name__)
RETRY_AFTER_SECONDS = 60


def _body(limit: int) -> bytes:
    """The body, or its first ``limit + 1`` bytes when it is longer: a chunked body (no Content-Length) is read from
    the server's de-chunked input directly, since werkzeug's own stream would stop at the limit without saying so
    and a cut body must be a 413, never a silent truncation (docs/operations.md#exposing-the-web-app)."""
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        return request.get_data(cache=True)
    stream, raw = request.environ["wsgi.input"], b""
    while len(raw) <= limit:
        part = stream.read(limit + 1 - len(raw))
        if not part:
            break
        raw += part
    return raw


@bp.post("/webhooks/<provider>")
def webhook(provider: str) -> Response:
    if provider not in ADAPTERS:
        return Response(status=404)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        return Response(status=413)  # before reading the body or doing any HMAC work
    raw = _body(limit)  # the exact bytes: signatures are over these, never re-serialised JSON
    if len(raw) > limit:
        return Response(status=413)
    services = current_app.extensions["dunning"]
    rt = services.runtime
    receipt = receive(rt, provider, raw, dict(request.headers), rt.clock())
    for org_id, event_id in receipt.stored:
        try:
            services.queue.enqueue("process_event", f"event:{event_id}", {"org_id": org_id, "event_id": event_id})
        except Exception:  # noqa: BLE001 - stored already: the sweeper re-enqueues it
            current_app.logger.warning("enqueue failed for inbox event %s; the sweeper will retry", event_id)
    if receipt.status in (400, 503):  # say why; the 503 is temporary (a key missing here), the provider retries
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if receipt.status == 503 else {}
        return Response(f"{receipt.reason}\n", status=receipt.status, mimetype="text/plain", headers=headers)
    return Response(status=receipt.status)  # empty body, no cookies (Xero ITR)
