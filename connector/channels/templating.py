"""Jinja rendering for every channel: one environment per language, money and date filters, and the legal checks.

E-mail, letters, phone scripts and the hand-over dossier all render their words through :func:`render` from the
files under ``templates/<language>/``; Python code builds no user-facing sentences. Amounts are formatted with
babel in the debtor's locale (``nl_NL``: ``€ 1.234,56``; ``en_GB``: ``€1,234.56``), dates likewise. Before a
message is rendered, :func:`check_context` refuses contexts that would produce a legally wrong text: costs in a
consumer reminder, a 14-day letter without the cost amount or with a wrongly counted term. After a 14-day letter is
rendered, its text itself is checked (:func:`check_fourteen_day_text`): it must give the 14 days counted from the
day after receipt, say nothing that counts from today, and state the costs; a template edited into another
wording is refused, at render and when the rules are loaded (:func:`check_fourteen_day_templates`).
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from connector.channels.context import (
    SUPPORTED_LANGUAGES,
    DebtorInfo,
    InvoiceLine,
    MessageContext,
    MessageKind,
    Organisation,
)
from connector.errors import ConnectorError
from connector.rules.calendar import is_working_day
from connector.rules.letter import letter_dates, term_wording_defect
from connector.rules.snapshot import LetterChannel

TEMPLATE_DIR = Path(__file__).parent / "templates"
LOCALES = {"nl": "nl_NL", "en": "en_GB"}
FOURTEEN_DAYS = 14
_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
_TAGS = re.compile(r"<[^>]+>")

# Kinds that may state collection costs or interest to a consumer: the 14-day letter states the costs that will
# be charged (docs/law.md#the-14-day-letter); a final notice or hand-over notice comes after it. The rules decide
# whether the term has run.
_CONSUMER_COST_KINDS = frozenset(
    {MessageKind.FOURTEEN_DAY_LETTER, MessageKind.FINAL_NOTICE, MessageKind.HAND_OVER_NOTICE}
)


class LegalCheckFailed(ConnectorError):
    """The context or the template would produce a text that is wrong under Dutch law; nothing is sent."""


def locale_for(language: str) -> str:
    return LOCALES.get(language, LOCALES["en"])


def money(amount: Decimal | None, currency: str = "EUR", language: str = "nl") -> str:
    """``format_currency`` in the language's locale; ``None`` renders as an empty string."""
    if amount is None:
        return ""
    return str(format_currency(amount, currency, locale=locale_for(language)))


@cache
def environment(language: str) -> Environment:
    """The Jinja environment for one language: strict undefined, HTML autoescape, locale-bound filters."""
    locale = locale_for(language)
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

    def _money(amount: Decimal | None, currency: str = "EUR") -> str:
        return money(amount, currency, language)

    def _date(value: date | None, fmt: str = "long") -> str:
        return "" if value is None else str(format_date(value, format=fmt, locale=locale))

    def _datetime(value: datetime | None) -> str:
        return "" if value is None else str(format_datetime(value, format="short", locale=locale))

    def _number(value: Decimal | int | None) -> str:
        return "" if value is None else str(format_decimal(value, locale=locale))

    def _cell(value: object) -> str:
        # a table cell in the PDF line markup (see pdf.py): a "|" in data would split the cell
        return " ".join(str(value).replace("|", "/").split())

    env.filters.update(money=_money, date=_date, datetime=_datetime, number=_number, cell=_cell)
    env.globals.update(language=language)
    return env


def template_path(language: str, kind: str, part: str) -> str:
    return f"{language}/{kind}/{part}"


def render(language: str, name: str, **values: Any) -> str:
    """Render ``templates/<language>/<name>`` with ``values``; text output gets at most one blank line in a row."""
    text = environment(language).get_template(f"{language}/{name}").render(**values)
    if name.endswith(".html"):
        return text
    if name.endswith("subject.txt"):
        return " ".join(text.split())
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"


def render_part(kind: MessageKind, part: str, ctx: MessageContext, **values: Any) -> str:
    """Render one part (``subject.txt``, ``body.txt``, ``body.html``, ``letter.txt``) of a message kind."""
    check_context(kind, ctx)
    language = ctx.language
    text = render(language, f"{kind.value}/{part}", ctx=ctx, kind=kind.value, **values)
    if kind is MessageKind.FOURTEEN_DAY_LETTER:
        check_fourteen_day_text(text, part, ctx)
    return text


def check_fourteen_day_text(text: str, part: str, ctx: MessageContext) -> None:
    """Refuse a rendered 14-day letter (or its e-mail) whose words would make the costs unclaimable."""
    plain = html.unescape(_TAGS.sub(" ", text)) if part.endswith(".html") else text
    defect = term_wording_defect(plain, ctx.language, must_count_from_receipt=part != "subject.txt")
    where = f"the 14-day letter template {ctx.language}/{MessageKind.FOURTEEN_DAY_LETTER.value}/{part}"
    if defect is not None:
        raise LegalCheckFailed(f"{where} is refused: {defect}")
    if part != "subject.txt" and money(ctx.collection_costs, ctx.currency, ctx.language) not in plain:
        raise LegalCheckFailed(f"{where} is refused: it does not state the amount of the collection costs")


def check_fourteen_day_templates() -> None:
    """Render the 14-day letter in every language on a sample and check its words; ``LegalCheckFailed`` names the
    template at fault. Run when the rules are loaded, so an edited template stops a run before anything is sent."""
    dates = letter_dates(date(2026, 3, 3), LetterChannel.POST)
    for language in SUPPORTED_LANGUAGES:
        ctx = MessageContext(
            organisation=Organisation(name="Sample B.V."),
            debtor=DebtorInfo(name="A. Sample", language=language, consumer=True),
            invoices=(InvoiceLine("F-1", date(2026, 1, 1), date(2026, 1, 31), Decimal(100), Decimal(100), 31),),
            level_name="14-day letter",
            issued_on=dates.sent,
            collection_costs=Decimal("40.00"),
            receipt_date=dates.received,
            deadline=dates.term_ends,
            default_since=date(2026, 2, 1),
        )
        for part in ("subject.txt", "body.txt", "body.html", "letter.txt"):
            render_part(MessageKind.FOURTEEN_DAY_LETTER, part, ctx)


def check_context(kind: MessageKind, ctx: MessageContext) -> None:
    """Refuse contexts that would make a legally wrong text (docs/law.md#the-14-day-letter,
    docs/law.md#engine-rules-for-costs-and-interest) or an empty message."""
    if not ctx.invoices:
        raise LegalCheckFailed(f"{kind.value}: a message needs at least one invoice")
    if kind is MessageKind.FRIENDLY_REMINDER and ctx.charges_costs:
        raise LegalCheckFailed("a friendly reminder before the due date never charges costs or interest")
    if ctx.debtor.consumer and ctx.charges_costs and kind not in _CONSUMER_COST_KINDS:
        raise LegalCheckFailed(
            f"{kind.value}: costs or interest may be stated to a consumer only in the 14-day letter and after it"
        )
    if kind is MessageKind.FOURTEEN_DAY_LETTER:
        _check_fourteen_day_letter(ctx)
    if ctx.notice_of_default and (ctx.deadline is None or ctx.receipt_date is None or ctx.charges_costs):
        raise LegalCheckFailed("a notice of default names its receipt date and deadline and charges nothing yet")
    if kind is MessageKind.INSTALLMENT_REMINDER and (ctx.installment is None or ctx.charges_costs):
        raise LegalCheckFailed("an installment reminder names its installment and charges nothing extra")


def _check_fourteen_day_letter(ctx: MessageContext) -> None:
    if ctx.collection_costs is None or ctx.collection_costs <= 0:
        raise LegalCheckFailed("the 14-day letter must state the amount of the collection costs")
    if ctx.receipt_date is None or ctx.deadline is None:
        raise LegalCheckFailed("the 14-day letter needs the presumed receipt date and the deadline")
    if ctx.receipt_date < ctx.issued_on:
        raise LegalCheckFailed("the letter cannot be received before it is issued")
    if (ctx.deadline - ctx.receipt_date).days < FOURTEEN_DAYS:
        # 14 days counted from the day after receipt: the last day is receipt + 14 at the earliest
        raise LegalCheckFailed(
            f"deadline {ctx.deadline} leaves fewer than 14 days after the day of receipt {ctx.receipt_date}"
        )
    if not is_working_day(ctx.deadline):
        raise LegalCheckFailed(
            f"deadline {ctx.deadline} falls on a weekend or a public holiday: the term ends on the next working day"
        )
