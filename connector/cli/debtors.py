"""Working on one debtor or invoice: ``hold``, ``release``, ``promise``, ``call``, ``credit-stop``,
``uncollectible``, ``hand-over`` and ``debtor`` (segment, status, insolvency, credit limit, how default starts, export,
erasure); the post queue (``letters``) is in ``connector.cli.letters``.

Each command names its invoice by number (or provider reference) and its debtor by customer number (or
reference), lets ``connector.debtors`` resolve the administration (``--administration`` when a reference is
ambiguous) and calls one service; a refusal (unknown reference, missing confirmation, a date in the past) ends
in the shared error handler with what to do instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from connector.cli import output
from connector.cli.shared import (
    Org,
    app,
    fail,
    organisation,
    parse_amount,
    parse_choice,
    parse_date,
    required_date,
    runtime,
)

if TYPE_CHECKING:
    from connector.runtime import Runtime

Administration = Annotated[
    int | None, typer.Option("--administration", help="Administration id, when the reference is ambiguous.")
]
HOLD_REASONS = "dispute|complaint|awaiting_credit_note|payment_claimed|talk_first|insolvency|factored|other"
CALL_OUTCOMES = (
    "promise_to_pay|payment_arrangement|dispute|already_paid|call_back|no_answer|voicemail|wrong_number|refused"
)


def context(org: str | None, ref: str, administration: int | None, *, debtor: bool) -> tuple[Runtime, int, int]:
    """The runtime, the organisation and the administration holding ``ref`` (an invoice, or a debtor)."""
    from connector import debtors

    rt = runtime()
    org_id = organisation(rt, org)
    resolve = debtors.resolve_debtor if debtor else debtors.resolve_invoice
    return rt, org_id, resolve(rt, org_id, ref, administration)


@app.command(rich_help_panel="Debtors and invoices")
def hold(
    ref: Annotated[str, typer.Argument(help="Invoice number (or reference), or debtor with --debtor.")],
    reason: Annotated[str, typer.Option(help=HOLD_REASONS)],
    until: Annotated[
        str | None, typer.Option(help="Last day of the hold (YYYY-MM-DD); default: until released.")
    ] = None,
    debtor: Annotated[bool, typer.Option("--debtor", help="REF is a debtor: hold all its invoices.")] = False,
    administration: Administration = None,
    org: Org = None,
) -> None:
    """Put an invoice (or a debtor) on hold with a reason: no reminders; a note goes to the accounting package."""
    from connector import debtors

    last_day = parse_date(until, "--until")
    rt, org_id, adm_id = context(org, ref, administration, debtor=debtor)
    fn = debtors.hold_debtor if debtor else debtors.hold_invoice
    changed = fn(rt, org_id, adm_id, ref, reason, until=last_day)
    output.say(f"{ref} on hold ({reason})" if changed else f"{ref} was already on hold ({reason})")


@app.command(rich_help_panel="Debtors and invoices")
def release(
    ref: Annotated[str, typer.Argument(help="Invoice, or debtor with --debtor.")],
    debtor: Annotated[bool, typer.Option("--debtor", help="REF is a debtor.")] = False,
    administration: Administration = None,
    org: Org = None,
) -> None:
    """Lift a hold: the reminder sequence resumes on the next run (a note goes to the accounting package)."""
    from connector import debtors

    rt, org_id, adm_id = context(org, ref, administration, debtor=debtor)
    fn = debtors.release_debtor if debtor else debtors.release_invoice
    output.say(f"{ref} released" if fn(rt, org_id, adm_id, ref) else f"{ref} was not on hold")


@app.command(rich_help_panel="Debtors and invoices")
def promise(
    ref: Annotated[str, typer.Argument(help="Invoice, or debtor with --debtor.")],
    on: Annotated[str, typer.Option("--date", help="Promised payment date YYYY-MM-DD.")],
    debtor: Annotated[
        bool, typer.Option("--debtor", help="REF is a debtor: the promise covers all its invoices.")
    ] = False,
    administration: Administration = None,
    org: Org = None,
) -> None:
    """Record a promise to pay: reminders pause through that date and resume by themselves after it."""
    from connector import debtors

    promised = required_date(on, "--date")
    rt, org_id, adm_id = context(org, ref, administration, debtor=debtor)
    fn = debtors.promise_debtor if debtor else debtors.promise_invoice
    fn(rt, org_id, adm_id, ref, promised)
    output.say(f"{ref}: promise to pay by {promised}")


@app.command(rich_help_panel="Debtors and invoices")
def call(
    debtor: Annotated[str, typer.Argument(help="Debtor customer number (or reference).")],
    outcome: Annotated[str, typer.Option(help=CALL_OUTCOMES)],
    reason: Annotated[
        str | None,
        typer.Option(help="Late-payment reason: miscommunication|dissatisfied|financial_trouble|negligence|other"),
    ] = None,
    promise_on: Annotated[str | None, typer.Option("--promise", help="Promised date (promise_to_pay).")] = None,
    invoice: Annotated[str | None, typer.Option(help="The invoice the call was about.")] = None,
    note: str = "",
    administration: Administration = None,
    org: Org = None,
) -> None:
    """Record a phone call with its outcome and the late-payment reason; a promise pauses, a dispute holds."""
    from connector import debtors

    promised = parse_date(promise_on, "--promise")
    rt, org_id, adm_id = context(org, debtor, administration, debtor=True)
    moment = debtors.record_call_outcome(
        rt,
        org_id,
        adm_id,
        debtor,
        outcome,
        reason=reason,
        promise_date=promised,
        invoice_ref=invoice,
        note=note,
    )
    output.say(f"contact moment {moment} recorded ({outcome})")


@app.command("credit-stop", rich_help_panel="Debtors and invoices")
def credit_stop(
    debtor: Annotated[str, typer.Argument(help="Debtor customer number (or reference).")],
    lift: Annotated[bool, typer.Option("--lift", help="Lift the credit stop.")] = False,
    reason: str = "by hand",
    administration: Administration = None,
    org: Org = None,
) -> None:
    """Set (or --lift) a credit stop by hand: no deliveries on credit; written back to the accounting package."""
    from connector import debtors

    rt, org_id, adm_id = context(org, debtor, administration, debtor=True)
    changed = debtors.set_credit_stop(rt, org_id, adm_id, debtor, stop=not lift, reason=reason)
    state = "lifted" if lift else "set"
    output.say(f"credit stop {state} for {debtor}" if changed else f"credit stop was already {state} for {debtor}")


@app.command(rich_help_panel="Debtors and invoices")
def uncollectible(
    invoice: Annotated[str, typer.Argument(help="Invoice number (or reference).")],
    confirm: Annotated[bool, typer.Option("--confirm", help="Yes, write it off at the package.")] = False,
    administration: Administration = None,
    org: Org = None,
) -> None:
    """Mark an invoice uncollectible: reminders stop and the package is told. Needs --confirm."""
    from connector import debtors

    rt, org_id, adm_id = context(org, invoice, administration, debtor=False)
    debtors.mark_invoice_uncollectible(rt, org_id, adm_id, invoice, confirm=confirm)
    output.say(f"{invoice} marked uncollectible")


@app.command("hand-over", rich_help_panel="Debtors and invoices")
def hand_over_cmd(
    debtor: Annotated[str, typer.Argument(help="Debtor customer number (or reference).")],
    out: Annotated[str, typer.Option("--out", help="Directory for the dossier PDF and CSV.")],
    agency: Annotated[str | None, typer.Option(help="Collection agency name.")] = None,
    registration: Annotated[str | None, typer.Option(help="The agency's Justis registration number.")] = None,
    administration: Administration = None,
    org: Org = None,
    as_json: output.Json = False,
) -> None:
    """Hand a debtor over to a collection agency: a dossier as PDF and CSV, and our reminders stop."""
    from pathlib import Path

    from connector import debtors

    rt, org_id, adm_id = context(org, debtor, administration, debtor=True)
    result = debtors.hand_over(rt, org_id, adm_id, debtor, Path(out), agency=agency, agency_registration=registration)
    data: dict[str, Any] = {
        "pdf": str(result.pdf_path),
        "csv": str(result.csv_path),
        "invoices": list(result.invoices),
        "total_claim": str(result.total_claim),
        "currency": result.currency,
        "pdf_sha256": result.pdf_sha256,
    }
    output.emit(
        data,
        as_json,
        lambda: output.print_fields(
            [
                ("invoices", len(data["invoices"])),
                ("total claim", output.money(data["total_claim"], data["currency"])),
                ("dossier (PDF)", data["pdf"]),
                ("invoices (CSV)", data["csv"]),
                ("PDF checksum (SHA-256)", data["pdf_sha256"]),
            ],
            title=f"{debtor} handed over" + (f" to {agency}" if agency else ""),
        ),
    )


@app.command("debtor", rich_help_panel="Debtors and invoices")
def debtor_cmd(
    debtor: Annotated[str, typer.Argument(help="Debtor customer number (or reference).")],
    segment: Annotated[str | None, typer.Option(help="b2b | b2c | auto (back to what the package says).")] = None,
    status: Annotated[
        str | None, typer.Option(help="collectible | doubtful | uncollectible (needs --confirm).")
    ] = None,
    insolvent: Annotated[
        bool | None, typer.Option("--insolvent/--solvent", help="Insolvency: reminders stop, the claim is filed.")
    ] = None,
    credit_limit: Annotated[
        str | None, typer.Option("--credit-limit", help="Credit granted, e.g. 5000.00; 'none' removes it.")
    ] = None,
    default_starts: Annotated[
        str | None,
        typer.Option(
            "--default-starts",
            help="Consumer: notice (default needs a notice of default) | fatal-term | policy (as the policy says).",
        ),
    ] = None,
    export: Annotated[
        str | None, typer.Option("--export", help="Write everything we hold about the debtor into this directory.")
    ] = None,
    erase: Annotated[
        bool, typer.Option("--erase", help="Erase everything we hold about the debtor (needs --confirm).")
    ] = False,
    confirm: Annotated[bool, typer.Option("--confirm", help="Confirm writing off or erasing the debtor.")] = False,
    administration: Administration = None,
    org: Org = None,
) -> None:
    """Classify a debtor by hand (segment, collection status, insolvency, credit limit, how default starts), or
    export or erase everything we hold about them."""
    from connector import debtors

    if default_starts is not None:
        parse_choice(default_starts, "--default-starts", ("notice", "fatal-term", "policy"))
    if erase and (export or segment or status or insolvent is not None or credit_limit or default_starts):
        fail("--erase goes alone", "erase the debtor in a command of its own")
    if export is not None or erase:
        _export_or_erase(debtor, export, erase, confirm, administration, org)
        return
    if segment is not None:
        parse_choice(segment, "--segment", ("b2b", "b2c", "auto"))
    if status is not None:
        parse_choice(status, "--status", tuple(s.value for s in debtors.CollectionStatus))
    limit = None
    if credit_limit is not None and credit_limit.lower() != "none":
        limit = parse_amount(credit_limit, "--credit-limit")
    rt, org_id, adm_id = context(org, debtor, administration, debtor=True)
    if segment is not None:
        debtors.set_segment(rt, org_id, adm_id, debtor, None if segment == "auto" else segment)
    if status is not None:
        debtors.set_collection_status(rt, org_id, adm_id, debtor, status, confirm=confirm)
    if insolvent is not None:
        debtors.set_insolvent(rt, org_id, adm_id, debtor, insolvent)
    if credit_limit is not None:
        debtors.set_credit_limit(rt, org_id, adm_id, debtor, limit)
    if default_starts is not None:
        needs_notice = {"notice": True, "fatal-term": False, "policy": None}[default_starts]
        debtors.set_default_start(rt, org_id, adm_id, debtor, needs_notice)
    output.say(f"{debtor} updated")


def _export_or_erase(
    debtor: str, export: str | None, erase: bool, confirm: bool, administration: int | None, org: str | None
) -> None:
    from pathlib import Path

    from connector import debtors

    rt, org_id, adm_id = context(org, debtor, administration, debtor=True)
    if export is not None:
        result = debtors.export_debtor(rt, org_id, adm_id, debtor, Path(export))
        output.say(f"{debtor}: {sum(result.counts.values())} records in {result.path}, {len(result.files)} letter(s)")
    if erase:
        counts = debtors.erase_debtor(rt, org_id, adm_id, debtor, confirm=confirm)
        output.say(
            f"{debtor} erased: {sum(counts.values())} records. Erase them in the accounting package too, "
            "or the next sync copies them again"
        )
