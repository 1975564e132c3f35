"""HTTP for the Xero adapter: URLs, the tenant header, JSON decoding, paging and ID batches.

Sits under ``provider.py``/``writeback.py`` and over ``ApiSession`` (which adds the token, budget and retries).
The ``xero-tenant-id`` and ``Accept: application/json`` headers are set in exactly one place,
``_headers`` (docs/providers/xero.md#requests); ``/connections`` is the only call without a tenant. Amounts are decoded
with ``parse_float=Decimal``. ``calls`` counts the requests this client made (write results report it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from connector.errors import GarbageResponse
from connector.ports import ApiSession, HttpResponse

PAGE_SIZE = 1000  # docs/providers/xero.md#invoices: the maximum
ID_BATCH = 40  # docs/providers/xero.md#requests: ~52+ GUIDs overflow the URL (404)


def if_modified_since(moment: datetime) -> str:
    """``yyyy-mm-ddThh:mm:ss`` in UTC, no milliseconds, no ``Z`` (docs/providers/xero.md#invoices)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class XeroClient:
    def __init__(self, http: ApiSession, api_url: str) -> None:
        self.http = http
        self.root = api_url.rstrip("/")
        self.api = f"{self.root}/api.xro/2.0"
        self.calls = 0

    @staticmethod
    def _headers(tenant: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {"xero-tenant-id": tenant, "Accept": "application/json", **(extra or {})}

    def _decode(self, response: HttpResponse) -> dict[str, Any]:
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise GarbageResponse(f"xero: non-JSON response from {response.url}", provider="xero") from None
        if not isinstance(body, dict):
            raise GarbageResponse(f"xero: unexpected JSON shape from {response.url}", provider="xero")
        return body

    def get(
        self, tenant: str, path: str, params: Mapping[str, Any] | None = None, modified_since: datetime | None = None
    ) -> dict[str, Any]:
        extra = {"If-Modified-Since": if_modified_since(modified_since)} if modified_since else None
        self.calls += 1
        response = self.http.request(
            "GET", f"{self.api}/{path}", tenant=tenant, params=params, headers=self._headers(tenant, extra)
        )
        return self._decode(response)

    def send(
        self, method: str, tenant: str, path: str, body: Any = None, idempotency_key: str | None = None
    ) -> dict[str, Any] | None:
        extra = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        self.calls += 1
        response = self.http.request(
            method, f"{self.api}/{path}", tenant=tenant, json=body, headers=self._headers(tenant, extra)
        )
        return self._decode(response) if response.content else None

    # --- identity ----------------------------------------------------------------------------------------
    def connections(self, auth_event_id: str | None = None) -> list[dict[str, Any]]:
        params = {"authEventId": auth_event_id} if auth_event_id else None
        self.calls += 1
        response = self.http.request(
            "GET", f"{self.root}/connections", params=params, headers={"Accept": "application/json"}
        )
        try:
            body = json.loads(response.content)
        except ValueError:
            raise GarbageResponse("xero: /connections did not return JSON", provider="xero") from None
        if not isinstance(body, list):
            raise GarbageResponse("xero: /connections did not return a list", provider="xero")
        return [c for c in body if isinstance(c, dict)]

    # --- reads -------------------------------------------------------------------------------------------
    def page(
        self,
        tenant: str,
        resource: str,
        page: int,
        *,
        where: str | None = None,
        statuses: Sequence[str] = (),
        modified_since: datetime | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of a paged list; returns the records and Xero's ``pageCount`` when it sent one."""
        params: dict[str, Any] = {"page": page, "pageSize": PAGE_SIZE, **(extra or {})}
        if where:
            params["where"] = where
        if statuses:
            params["Statuses"] = ",".join(statuses)
        body = self.get(tenant, resource, params, modified_since)
        records = body.get(resource)
        if not isinstance(records, list):
            raise GarbageResponse(f"xero: {resource} response without a {resource} list", provider="xero")
        pagination = body.get("pagination") or {}
        count = pagination.get("pageCount")
        return records, int(count) if isinstance(count, int) else None

    def by_ids(self, tenant: str, resource: str, ids: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Records by ``IDs=`` in batches of ``ID_BATCH``; ``page=1`` so Xero returns full records."""
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), ID_BATCH):
            batch = unique[start : start + ID_BATCH]
            records, _count = self.page(tenant, resource, 1, extra={"IDs": ",".join(batch)})
            yield from records

    def organisation(self, tenant: str) -> dict[str, Any]:
        organisations = self.get(tenant, "Organisation").get("Organisations") or [{}]
        first = organisations[0]
        return first if isinstance(first, dict) else {}

    def invoice_reminders(self, tenant: str) -> dict[str, Any]:
        return self.get(tenant, "InvoiceReminders/Settings")

    def online_invoice_url(self, tenant: str, invoice_id: str) -> str | None:
        body = self.get(tenant, f"Invoices/{invoice_id}/OnlineInvoice")
        urls = [o.get("OnlineInvoiceUrl") for o in body.get("OnlineInvoices") or [] if isinstance(o, dict)]
        return next((str(u) for u in urls if u), None)

    def invoice_pdf(self, tenant: str, invoice_id: str) -> bytes:
        """docs/providers/xero.md#invoice-pdf: ``GET Invoices/{InvoiceID}`` with ``Accept: application/pdf``."""
        self.calls += 1
        headers = self._headers(tenant, {"Accept": "application/pdf"})
        path = f"{self.api}/Invoices/{quote(invoice_id, safe='')}"
        return self.http.request("GET", path, tenant=tenant, headers=headers).content

    # --- write-back surfaces -------------------------------------------------------------------------------
    def history(self, tenant: str, invoice_id: str) -> list[dict[str, Any]]:
        return list(self.get(tenant, f"Invoices/{invoice_id}/History").get("HistoryRecords") or [])

    def add_history(self, tenant: str, invoice_id: str, details: str, idempotency_key: str) -> None:
        self.send(
            "PUT", tenant, f"Invoices/{invoice_id}/History", {"HistoryRecords": [{"Details": details}]}, idempotency_key
        )

    def contact_groups(self, tenant: str) -> list[dict[str, Any]]:
        return list(self.get(tenant, "ContactGroups").get("ContactGroups") or [])

    def contact_group(self, tenant: str, group_id: str) -> dict[str, Any]:
        groups = self.get(tenant, f"ContactGroups/{group_id}").get("ContactGroups") or [{}]
        return dict(groups[0])

    def create_contact_group(self, tenant: str, name: str, idempotency_key: str) -> dict[str, Any]:
        body = self.send("PUT", tenant, "ContactGroups", {"ContactGroups": [{"Name": name}]}, idempotency_key) or {}
        groups = body.get("ContactGroups") or []
        if not groups:
            raise GarbageResponse("xero: creating a contact group returned no group", provider="xero")
        return dict(groups[0])

    def add_to_group(self, tenant: str, group_id: str, contact_id: str, idempotency_key: str) -> None:
        self.send(
            "PUT",
            tenant,
            f"ContactGroups/{group_id}/Contacts",
            {"Contacts": [{"ContactID": contact_id}]},
            idempotency_key,
        )

    def remove_from_group(self, tenant: str, group_id: str, contact_id: str) -> None:
        self.send("DELETE", tenant, f"ContactGroups/{group_id}/Contacts/{contact_id}")
