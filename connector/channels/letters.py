"""Render the written demands (aanmaning, the consumer 14-day letter, the final notice) to PDF.

The outbox calls :func:`render_letter` when a level's channel is a letter: the result is attached to the e-mail
(``connector.channels.email``), queued for post, or written back as a document where the provider allows
(``WriteAction.DOCUMENT``). Words come from ``templates/<language>/<kind>/letter.txt``; :mod:`.pdf` lays them out.
The rendered text is kept next to the PDF and its SHA-256 so the evidence of what the debtor was told
(docs/law.md#the-14-day-letter, docs/law.md#engine-rules-for-costs-and-interest: the 14-day letter's cost amount and
term) can be stored and shown later.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from connector.channels.context import LETTER_KINDS, MessageContext, MessageKind
from connector.channels.pdf import PdfMeta, render_pdf
from connector.channels.templating import render_part

# The only words built in Python: the file name the debtor sees, one small mapping per language.
_FILE_STEMS = {
    "nl": {
        MessageKind.DEMAND_LETTER: "aanmaning",
        MessageKind.FOURTEEN_DAY_LETTER: "laatste-herinnering",
        MessageKind.FINAL_NOTICE: "sommatie",
    },
    "en": {
        MessageKind.DEMAND_LETTER: "demand-for-payment",
        MessageKind.FOURTEEN_DAY_LETTER: "final-reminder",
        MessageKind.FINAL_NOTICE: "final-notice",
    },
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class RenderedLetter:
    """A letter as sent: the exact text laid out, the PDF bytes, and what identifies it in the audit trail."""

    kind: MessageKind
    language: str
    title: str
    text: str
    pdf: bytes
    pages: int
    filename: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def letter_filename(kind: MessageKind, ctx: MessageContext) -> str:
    stem = _FILE_STEMS[ctx.language][kind]
    ref = ctx.reference or "-".join(i.number for i in ctx.invoices[:3])
    return f"{_UNSAFE.sub('-', f'{stem}-{ref}-{ctx.issued_on.isoformat()}').strip('-')}.pdf"


def render_letter(kind: MessageKind, ctx: MessageContext) -> RenderedLetter:
    """Render one letter kind for ``ctx`` in the debtor's language. Raises ``LegalCheckFailed`` (see templating)."""
    if kind not in LETTER_KINDS:
        raise ValueError(f"{kind.value} is not a letter; letters are {sorted(k.value for k in LETTER_KINDS)}")
    title = render_part(kind, "subject.txt", ctx)
    text = render_part(kind, "letter.txt", ctx)
    meta = PdfMeta(
        title=title,
        author=ctx.organisation.name,
        subject=ctx.level_name,
        document_date=ctx.issued_on,
        language=ctx.language,
    )
    pdf, pages = render_pdf(text, meta)
    return RenderedLetter(
        kind=kind,
        language=ctx.language,
        title=title,
        text=text,
        pdf=pdf,
        pages=pages,
        filename=letter_filename(kind, ctx),
    )


def letter_pdf(kind: MessageKind, ctx: MessageContext) -> bytes:
    """Just the PDF bytes of :func:`render_letter`."""
    return render_letter(kind, ctx).pdf
