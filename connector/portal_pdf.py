"""The invoice PDF behind the debtor's page: ``/p/<token>/invoices/<ref>.pdf`` fetched from the package and passed on.

Called by ``dashboard.portal``; sits above ``connector.portal`` (whose throttle and token check it reuses, so
every download counts against the token like a view). Only an invoice the page shows (open, of the link's own
debtor, in the link's administration) is fetched; any other reference gets the same ``NOT_FOUND`` as a bad link.
The PDF comes through the adapter of the administration's connection (``Runtime.adapter_for``: the
``TokenManager``'s token, the shared rate budget), so the debtor never sees a package URL or our credentials, and
nothing is cached. A package without the ``INVOICE_PDF`` capability (Exact) has no PDF to give. A failure is
logged with the organisation, link and invoice (never the token) and comes back as ``FAILED`` (the package
answered wrong or has no PDF) or ``UNAVAILABLE`` (try later: timeouts, limits, a lapsed grant)
(docs/portal.md#the-invoice-pdf).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import requests
import structlog

from connector import portal
from connector.channels.context import language_for
from connector.errors import ConnectorError, ReauthRequired, TransientError
from connector.model import Capability, InvoiceStatus
from connector.registry import adapter_class
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import Session, transaction

log = structlog.get_logger(__name__)
PDF_MAGIC = b"%PDF-"


class PdfState(enum.StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # a bad link, or an invoice that is not on this link's page: one answer for all
    TOO_MANY = "too_many"
    FAILED = "failed"  # the package answered with an error, no PDF, or something that is not a PDF
    UNAVAILABLE = "unavailable"  # the package could not be reached in time, throttled us, or the grant lapsed


@dataclass(frozen=True)
class InvoicePdf:
    state: PdfState
    content: bytes = b""
    number: str = ""
    language: str = "nl"  # the debtor's, for the page that explains a failure


def offers_pdf(provider: str) -> bool:
    """Whether the page links to the package's PDF for an administration of ``provider``."""
    return Capability.INVOICE_PDF in adapter_class(provider).capabilities


def fetch(rt: Runtime, token: str, address: str, invoice_ref: str) -> InvoicePdf:
    """The PDF of ``invoice_ref`` for the debtor behind ``token``, or why not."""
    with transaction(rt.sessions) as s:
        state, link = portal.check(s, rt, token, address)
        if link is None:
            return InvoicePdf(PdfState.TOO_MANY if state is portal.Opened.TOO_MANY else PdfState.NOT_FOUND)
        adm = repos.get_administration(s, link.org_id, link.administration_id)
        row = _shown_invoice(s, link, invoice_ref[:100])
        if row is None or not offers_pdf(adm.provider):
            return InvoicePdf(PdfState.NOT_FOUND)
        debtor = repos.get_debtors(s, link.org_id, adm.id, [link.debtor_ref]).get(link.debtor_ref)
        language = language_for(debtor.language if debtor else None)
        connection = repos.get_connection(s, link.org_id, adm.connection_id)
        tenant, number, link_id = adm.provider_tenant_id, row.number or row.provider_ref, link.id
    where = {"org_id": link.org_id, "link_id": link_id, "invoice": row.provider_ref, "provider": adm.provider}
    try:  # outside the transaction: the package's answer does not hold a database connection
        content = rt.adapter_for(connection).invoice_pdf(tenant, row.provider_ref)
    except (TransientError, ReauthRequired, requests.RequestException) as exc:
        log.warning("portal.invoice_pdf_unavailable", error=type(exc).__name__, **where)
        return InvoicePdf(PdfState.UNAVAILABLE, number=number, language=language)
    except ConnectorError as exc:
        log.warning("portal.invoice_pdf_failed", error=type(exc).__name__, **where)
        return InvoicePdf(PdfState.FAILED, number=number, language=language)
    if not content.startswith(PDF_MAGIC):
        log.warning("portal.invoice_pdf_failed", error="not a PDF", size=len(content), **where)
        return InvoicePdf(PdfState.FAILED, number=number, language=language)
    return InvoicePdf(PdfState.OK, content, number, language)


def _shown_invoice(s: Session, link: tables.PortalLink, invoice_ref: str) -> tables.Invoice | None:
    """The invoice if the link's page shows it: open, with something to pay, of this debtor in this administration."""
    for row in repos.debtor_invoices(s, link.org_id, link.administration_id, link.debtor_ref):
        if row.provider_ref == invoice_ref and row.status == InvoiceStatus.OPEN.value and row.open_minor > 0:
            return row
    return None
