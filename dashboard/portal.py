"""The debtor's page: ``/p`` (type a letter's short code), ``/p/<token>`` (the link in every reminder) and
``/p/<token>/invoices/<ref>.pdf`` (an invoice's PDF from the package, through ``connector.portal_pdf``).

A public blueprint beside the creditor's pages: no login (``dashboard.access`` leaves ``/p`` alone), reading through
``connector.portal`` and ``connector.portal_pdf`` only. Whatever is wrong with a link (tampered, unknown, expired,
revoked, another organisation's) gets one neutral page in both languages with status 404, so the page gives no
hint which; too many tries get a 429 page. The page speaks the debtor's language unless the debtor chose the other
one (``?lang=``), is made for a phone first, and is never cached or indexed (docs/portal.md#the-page).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from connector import portal, portal_answers, portal_pdf
from connector.portal_answers import AnswerRefused, Form, Problem
from dashboard.common import services
from dashboard.i18n import COOKIE, DEFAULT_LANGUAGE, LANGUAGES
from dashboard.portal_mail import send_confirmation

bp = Blueprint("portal", __name__, template_folder="templates")
GONE = (
    _l("This link does not work"),
    _l("The link may have expired or been replaced by the one in a newer message."),
    _l("Use the link in our latest e-mail or letter, or contact us: our details are on the invoice."),
    _l("Type the code from a letter"),
)
BUSY = (
    _l("Too many tries"),
    _l("Wait a quarter of an hour and open the link again."),
)
PROBLEMS = {  # why an answer was refused, and what to do
    Problem.NO_INVOICES: _l("Tick the invoice or invoices your answer is about."),
    Problem.PAID_ON: _l("Give the day you paid: today or earlier, in the last year."),
    Problem.AMOUNT: _l("Give the amount you paid, for example 121.50."),
    Problem.REASON: _l("Choose why you dispute the invoice."),
    Problem.MESSAGE: _l("Write your question."),
    Problem.TERMS: _l("Choose in how many instalments you want to pay (2 or more), for invoices in one currency."),
}
DISPUTE_REASONS = {
    "not_received": _l("I did not receive what was invoiced"),
    "amount_wrong": _l("The amount is wrong"),
    "quality": _l("I am not satisfied with the goods or service"),
    "already_paid_or_credited": _l("It was already paid or credited"),
    "other": _l("Another reason"),
}
DONE = {
    "paid": _l("Thank you. We will look for your payment; until then you get no reminders for these invoices."),
    "dispute": _l("Thank you. The invoice is on hold while we look into it; we will contact you."),
    "accepted": _l("Thank you. Your payment arrangement is agreed; the schedule is in our e-mail to you."),
    "awaiting_approval": _l("Thank you. We will look at your proposal and let you know; until then no reminders."),
    "question": _l("Thank you. We will answer your question; until then you get no reminders for these invoices."),
}
NO_PDF = {  # the package could not give the invoice's PDF: what happened, and what to do
    portal_pdf.PdfState.FAILED: (
        502,
        _l("The invoice could not be fetched"),
        _l("Our accounting package did not give us the PDF of invoice %(number)s. Please try again later."),
    ),
    portal_pdf.PdfState.UNAVAILABLE: (
        503,
        _l("The invoice could not be fetched"),
        _l("Our accounting package did not answer in time for invoice %(number)s. Please try again in a few minutes."),
    ),
}
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"}


def _address() -> str:
    return request.remote_addr or "?"


def _answer(template: str, status: int, **context: Any) -> Response:
    body = render_template(template, csrf=generate_csrf(), **context)
    return Response(body, status, headers=HEADERS)


def _in_both(texts: tuple[Any, ...]) -> list[tuple[str, list[str]]]:
    """The texts in Dutch and in English: a refusal cannot know whose language to speak."""
    saved, out = g.get("dunning_lang"), []
    for code in LANGUAGES:
        g.dunning_lang = code
        out.append((code, [str(text) for text in texts]))
    g.dunning_lang = saved or DEFAULT_LANGUAGE
    return out


def _refused(state: portal.Opened) -> Response:
    if state is portal.Opened.TOO_MANY:
        busy = _answer("portal/busy.html", 429, both=_in_both(BUSY))
        busy.headers["Retry-After"] = str(int(portal.WINDOW.total_seconds()))
        return busy
    return _answer("portal/gone.html", 404, both=_in_both(GONE))


def _speak(language: str) -> None:
    """The debtor's language unless the debtor picked one (``?lang=`` or the remembered choice)."""
    if request.args.get("lang") not in LANGUAGES and request.cookies.get(COOKIE) not in LANGUAGES:
        g.dunning_lang = language


@bp.route("/p", methods=["GET", "POST"])
def enter() -> Response:
    """The page a letter names: type the short code, go to the debtor's page."""
    if request.method == "GET" and "code" not in request.args:
        return _answer("portal/enter.html", 200, error=False)
    code = (request.form.get("code") or request.args.get("code") or "")[:40]
    state, token = portal.open_code(services().runtime, code, _address())
    if state is portal.Opened.TOO_MANY:
        return _refused(state)
    if token is None:
        return _answer("portal/enter.html", 404, error=True)
    return redirect(f"/p/{token}", 303)  # type: ignore[return-value]


def _show(token: str, status: int = 200, **context: Any) -> Response:
    result = portal.open_token(services().runtime, token, _address())
    if result.page is None:
        return _refused(result.state)
    _speak(result.page.language)
    return _answer("portal/page.html", status, page=result.page, reasons=DISPUTE_REASONS, token=token, **context)


@bp.route("/p/<path:token>")
def view(token: str) -> Response:
    done = DONE.get(request.args.get("done", ""))
    return _show(token, done=done)


@bp.route("/p/<path:token>/invoices/<ref>.pdf")
def invoice_pdf(token: str, ref: str) -> Response:
    """The package's PDF of one invoice on the page, streamed through us and never cached
    (docs/portal.md#the-invoice-pdf)."""
    found = portal_pdf.fetch(services().runtime, token, _address(), ref)
    if found.state is portal_pdf.PdfState.TOO_MANY:
        return _refused(portal.Opened.TOO_MANY)
    if found.state is portal_pdf.PdfState.NOT_FOUND:
        return _refused(portal.Opened.NOT_FOUND)
    _speak(found.language)
    if found.state is not portal_pdf.PdfState.OK:
        status, title, text = NO_PDF[found.state]
        back = f"/p/{token}"
        return _answer("portal/no_pdf.html", status, title=title, text=str(text) % {"number": found.number}, back=back)
    name = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in found.number)[:80] or "invoice"
    headers = {**HEADERS, "Content-Disposition": f'inline; filename="{name}.pdf"', "X-Content-Type-Options": "nosniff"}
    return Response(found.content, 200, headers=headers, mimetype="application/pdf")


@bp.route("/p/<path:token>", methods=["POST"])
def answer(token: str) -> Response:
    """One answer over the ticked invoices; refused fields come back on the page with what to do."""
    form = Form(
        kind=request.form.get("kind", "")[:20],
        invoices=tuple(ref[:100] for ref in request.form.getlist("invoice")[:200]),
        paid_on=request.form.get("paid_on", "")[:20],
        amount=request.form.get("amount", "")[:20],
        reason=request.form.get("reason", "")[:40],
        message=request.form.get(f"message_{request.form.get('kind', '')[:20]}", "")[
            : portal_answers.MESSAGE_CHARS + 100
        ],
        terms=request.form.get("terms", "")[:4],
    )
    rt = services().runtime
    try:
        done = portal_answers.answer(rt, token, _address(), form)
    except AnswerRefused as refused:
        if refused.problem is None:
            return _refused(refused.state)
        return _show(token, 400, problem=PROBLEMS[refused.problem], posted=form)
    _speak(done.language)
    send_confirmation(rt, done)
    status = done.status if done.kind == "arrangement" else done.kind.value
    return redirect(f"/p/{token}?done={status}", 303)  # type: ignore[return-value]
