"""A small real invoice PDF for the sandboxes' download endpoints (Xero's ``Accept: application/pdf``, Moneybird's
``download_pdf``): the package's own PDF stands behind the link on the debtor's page (docs/portal.md#paying).

Shared by the emulators like ``runner.py``; it knows nothing of any provider's records, only the words to print.
"""

from __future__ import annotations

from fpdf import FPDF


def invoice_pdf(seller: str, number: str, amount: str, currency: str) -> bytes:
    """One A4 page: the seller, the invoice number and its amount (Helvetica, so ASCII-safe text only)."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {number}")
    pdf.set_creator("sandbox")
    pdf.set_compression(False)  # the words stay readable in the bytes, for the tests that look for them
    pdf.add_page()
    pdf.set_font("Helvetica", size=16)
    pdf.cell(text=_plain(seller), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text=_plain(f"Invoice {number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(text=_plain(f"Amount {currency} {amount}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _plain(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")
