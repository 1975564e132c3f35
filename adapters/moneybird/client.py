"""HTTP calls to Moneybird API v2 for one connection; paths per docs/providers/moneybird.md.

Every path is ``{base_url}/api/v2/{administration_id}/{resource}.json``; the administration id is the provider
tenant and is passed as the budget key. Retrying, token refresh and throttling are the core's job
(``connector.http``); this module only builds requests and unwraps JSON without ever going through float.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from connector.errors import GarbageResponse
from connector.ports import ApiSession, HttpResponse, KnownVersions

SYNC_BATCH = 100  # docs/providers/moneybird.md#incremental-sync: POST synchronization returns at most 100 records


class MoneybirdClient:
    def __init__(self, http: ApiSession, base_url: str) -> None:
        self.http = http
        self.base = base_url.rstrip("/") + "/api/v2"
        self._first_ids: dict[tuple[str, str], str | None] = {}

    def _json(self, response: HttpResponse, expect: type) -> Any:
        try:
            body = response.json(parse_float=Decimal)
        except ValueError as exc:
            raise GarbageResponse(f"Moneybird answered non-JSON for {response.url}", provider="moneybird") from exc
        if not isinstance(body, expect):
            raise GarbageResponse(
                f"Moneybird answered a {type(body).__name__} where a {expect.__name__} was expected",
                provider="moneybird",
            )
        return body

    def get(self, tenant: str | None, path: str, params: Mapping[str, Any] | None = None, expect: type = list) -> Any:
        url = f"{self.base}/{tenant}/{path}" if tenant else f"{self.base}/{path}"
        return self._json(self.http.request("GET", url, tenant=tenant, params=params), expect)

    def post(self, tenant: str, path: str, body: Any, expect: type = dict) -> Any:
        response = self.http.request("POST", f"{self.base}/{tenant}/{path}", tenant=tenant, json=body)
        return self._json(response, expect) if response.content.strip() else None

    def patch(self, tenant: str, path: str, body: Any) -> Any:
        response = self.http.request("PATCH", f"{self.base}/{tenant}/{path}", tenant=tenant, json=body)
        return self._json(response, dict)

    def download_pdf(self, tenant: str, invoice_id: str) -> bytes:
        """docs/providers/moneybird.md#invoice-pdf: a 302 to a download URL valid for 30 seconds, followed at once (the
        token is not sent on to another host)."""
        url = f"{self.base}/{tenant}/sales_invoices/{quote(invoice_id, safe='')}/download_pdf"
        return self.http.request("GET", url, tenant=tenant).content

    def delete_webhook(self, tenant: str, webhook_id: str) -> None:
        # docs/providers/moneybird.md#subscribing: DELETE /{administration_id}/webhooks/{id} answers 204
        self.http.request("DELETE", f"{self.base}/{tenant}/webhooks/{webhook_id}.json", tenant=tenant)

    def administrations(self) -> list[dict[str, Any]]:
        return list(self.get(None, "administrations.json"))

    def versions(self, tenant: str, resource: str) -> dict[str, str]:
        """All ``{id: version}`` of a resource (no paging, no default period:
        docs/providers/moneybird.md#incremental-sync)."""
        listed = self.get(tenant, f"{resource}/synchronization.json")
        versions: dict[str, str] = {}
        for item in listed:
            if not isinstance(item, dict) or "id" not in item or "version" not in item:
                raise GarbageResponse("synchronization list item without id/version", provider="moneybird")
            versions[str(item["id"])] = str(item["version"])
        return versions

    def fetch(self, tenant: str, resource: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for start in range(0, len(ids), SYNC_BATCH):
            chunk = list(ids[start : start + SYNC_BATCH])
            records.extend(self.post(tenant, f"{resource}/synchronization.json", {"ids": chunk}, expect=list))
        return records

    def changed_records(
        self, tenant: str, resource: str, known: KnownVersions
    ) -> Iterator[tuple[list[dict[str, Any]], int]]:
        """Batches of records whose version differs from what the core stored (``!=``: versions are seconds)."""
        versions = self.versions(tenant, resource)
        stored = known(list(versions))
        changed = [ref for ref, version in versions.items() if stored.get(ref) != version]
        calls = 1
        if not changed:
            yield [], calls
            return
        for start in range(0, len(changed), SYNC_BATCH):
            chunk = changed[start : start + SYNC_BATCH]
            batch = self.post(tenant, f"{resource}/synchronization.json", {"ids": chunk}, expect=list)
            yield [r for r in batch if isinstance(r, dict)], calls + 1
            calls = 0

    def workflows(self, tenant: str) -> list[dict[str, Any]]:
        return list(self.get(tenant, "workflows.json"))

    def first_id(self, tenant: str, path: str) -> str | None:
        """The default (else first) id of a settings list such as identities; cached per client."""
        if (tenant, path) not in self._first_ids:
            self._first_ids[(tenant, path)] = self._first_id(tenant, path)
        return self._first_ids[(tenant, path)]

    def _first_id(self, tenant: str, path: str) -> str | None:
        items = self.get(tenant, path)
        default = next((i for i in items if isinstance(i, dict) and i.get("default")), None)
        chosen = default or (items[0] if items else None)
        return str(chosen["id"]) if isinstance(chosen, dict) and "id" in chosen else None

    def create_webhook(self, tenant: str, url: str, events: list[str]) -> dict[str, Any]:
        # docs/providers/moneybird.md#subscribing: body without envelope, `enabled_events` (the old `events` key is
        # rejected)
        created = self.post(tenant, "webhooks.json", {"url": url, "enabled_events": events})
        if not isinstance(created, dict) or "id" not in created:
            raise GarbageResponse("webhook creation answered without an id", provider="moneybird")
        return created
