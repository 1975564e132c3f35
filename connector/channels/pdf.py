"""Lay out template-rendered text as an A4 PDF with fpdf2; shared by letters and the hand-over dossier.

Templates produce plain text with a tiny line markup, so every word stays in a Jinja file and this module only
does layout: ``# Title`` is a heading, ``> text`` is right-aligned (the letterhead), consecutive ``| a | b |``
lines form a table (first row is the header; a header cell written ``>Label`` right-aligns its column),
``**bold**`` works inside a line, ``[qr] text`` draws a QR code of the text (the debtor's personal link on a letter,
docs/portal.md#links), and a blank line is paragraph space. Output is deterministic: the creation date
comes from the document date, never the clock, so the same input gives the same bytes (and the same hash in the
audit trail). The built-in Helvetica font is used with the Windows-1252 encoding (``€``, curly quotes, accents);
characters outside it are transliterated, so no font file has to be shipped.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import qrcode
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

PDF_ENCODING = "windows-1252"
FONT = "helvetica"
BODY_SIZE = 10.5
LINE_HEIGHT = 5.2
CREATOR = "dunning-connector"
QR_SIZE = 28.0  # mm: scans from a printed page at arm's length
QR_MARKUP = "[qr] "
# Letters that Unicode does not decompose into a base letter plus accent (NFKD leaves them alone).
_TRANSLITERATE = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ħ": "h", "Ħ": "H", "ŧ": "t"})


@dataclass(frozen=True)
class PdfMeta:
    """Document metadata; ``document_date`` fixes the PDF creation date so output is reproducible."""

    title: str
    author: str
    subject: str
    document_date: date
    language: str = "nl"


def pdf_safe(text: str) -> str:
    """Text the core font can show: Windows-1252 as is, other characters transliterated (``ł`` -> ``l``) or ``?``."""
    out: list[str] = []
    for char in text.translate(_TRANSLITERATE):
        try:
            char.encode(PDF_ENCODING)
            out.append(char)
        except UnicodeEncodeError:
            stripped = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            try:
                stripped.encode(PDF_ENCODING)
                out.append(stripped or "?")
            except UnicodeEncodeError:
                out.append("?")
    return "".join(out)


class _Document(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align=Align.R)


def _blocks(text: str) -> Iterator[tuple[str, list[str]]]:
    """Group lines into ('table', rows) and ('line', [line]) blocks."""
    table: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            yield "table", table
            table = []
        yield "line", [line]
    if table:
        yield "table", table


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _write_table(pdf: FPDF, rows: list[str]) -> None:
    header = _cells(rows[0])
    aligns = tuple(Align.R if h.startswith(">") else Align.L for h in header)
    header = [h.lstrip(">").strip() for h in header]
    pdf.set_font(FONT, size=BODY_SIZE - 1.5)
    with pdf.table(text_align=aligns, first_row_as_headings=True, line_height=LINE_HEIGHT) as table:
        for cells in [header, *(_cells(r) for r in rows[1:])]:
            row = table.row()
            for i in range(len(header)):
                row.cell(pdf_safe(cells[i] if i < len(cells) else ""))
    pdf.set_font(FONT, size=BODY_SIZE)
    pdf.ln(2)


def _write_qr(pdf: FPDF, text: str) -> None:
    """A QR code of ``text`` drawn as filled squares (vector, no image library), left-aligned."""
    code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    module = QR_SIZE / len(matrix)
    if pdf.get_y() + QR_SIZE > pdf.h - pdf.b_margin:
        pdf.add_page()
    x0, y0 = pdf.l_margin, pdf.get_y() + 1
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                pdf.rect(x0 + col * module, y0 + row * module, module, module, style="F")
    pdf.set_y(y0 + QR_SIZE + 2)


def _write_line(pdf: FPDF, line: str) -> None:
    if line.startswith(QR_MARKUP):
        _write_qr(pdf, line[len(QR_MARKUP) :].strip())
        return
    if not line.strip():
        pdf.ln(LINE_HEIGHT * 0.7)
        return
    if line.startswith("# "):
        pdf.ln(2)
        pdf.set_font(FONT, style="B", size=BODY_SIZE + 3)
        pdf.multi_cell(0, LINE_HEIGHT + 1.5, pdf_safe(line[2:]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, size=BODY_SIZE)
        return
    align = Align.L
    if line.startswith("> "):
        align, line = Align.R, line[2:]
    pdf.multi_cell(
        0, LINE_HEIGHT, pdf_safe(line), align=align, markdown="**" in line, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )


def render_pdf(text: str, meta: PdfMeta) -> tuple[bytes, int]:
    """Lay out ``text`` (see the module docstring for the markup); returns the PDF bytes and the page count."""
    pdf = _Document(format="A4")
    pdf.core_fonts_encoding = PDF_ENCODING
    pdf.set_creation_date(datetime.combine(meta.document_date, time(0, 0), tzinfo=UTC))
    pdf.set_title(pdf_safe(meta.title))
    pdf.set_author(pdf_safe(meta.author))
    pdf.set_subject(pdf_safe(meta.subject))
    pdf.set_creator(CREATOR)
    pdf.set_producer(CREATOR)
    pdf.set_lang(meta.language)
    pdf.set_margins(22, 18, 22)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font(FONT, size=BODY_SIZE)
    for kind, lines in _blocks(text):
        if kind == "table":
            _write_table(pdf, lines)
        else:
            _write_line(pdf, lines[0])
    return bytes(pdf.output()), pdf.pages_count
