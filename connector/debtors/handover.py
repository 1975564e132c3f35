"""Hand-over to a collection agency (docs/credit-management.md#hand-over, docs/credit-management.md#the-debtor-file,
docs/law.md#collection-agencies): the frozen dossier of one debtor, and our reminders stop.

The last step a person takes for a debtor, after the outbox has sent the demand letters. ``hand_over`` gathers
the debtor's open invoices, the claim on today's open amounts (collection costs and statutory interest from
``connector.rules.charges``, the same functions the engine charges with), every contact moment, every letter with
its evidence and the audit trail, renders it with ``connector.channels.dossier`` as PDF and CSV into a directory,
marks the invoices ``handed_over`` in ``reminder_states`` (the engine then stops), queues a note for the
accounting package and records hashes of both files in the audit log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from connector.channels.context import DebtorInfo, InvoiceLine, Organisation
from connector.channels.dossier import Agency, ContactMoment, Dossier, LetterRecord, render_dossier
from connector.debtors.common import debtor_row, queue_writeback, today_for
from connector.decide import load_rules
from connector.errors import PermanentError, PolicyError
from connector.model import Money, Segment
from connector.model.outbox import OutboxAction
from connector.policies import policy_defaults, usable_policies
from connector.rules.charges import chargeable_costs, interest_due, interest_kind, interest_start
from connector.rules.interest import RateTable
from connector.rules.law import CostLine, combine_costs
from connector.rules.loader import select_policy
from connector.rules.policy import Policy
from connector.rules.snapshot import InvoiceSnapshot
from connector.runtime import Runtime
from connector.snapshots import build_snapshots
from connector.storage import repos, tables
from connector.storage.db import transaction

# internal previews, and entries that duplicate a contact moment already listed, stay out of the debtor's file
INTERNAL_AUDIT_KINDS = frozenset({"preview", "non_decision", "call", "contact"})
LETTER_TITLES = {
    "fourteen_day_letter": "14-day letter (veertiendagenbrief)",
    "demand_letter": "Demand letter (aanmaning)",
    "final_notice": "Final notice",
}


@dataclass(frozen=True)
class Claim:
    costs: CostLine | None
    interest: Decimal | None
    basis: str


@dataclass(frozen=True)
class HandOverResult:
    pdf_path: Path
    csv_path: Path
    pdf_sha256: str
    csv_sha256: str
    invoices: tuple[str, ...]
    total_claim: Decimal
    currency: str


def claim(
    snapshots: list[InvoiceSnapshot],
    policies: Mapping[str, Policy],
    rates: RateTable,
    today: date,
    defaults: Mapping[Segment, str] | None = None,
) -> Claim:
    """Costs and interest on the current open amounts of ``snapshots``, computed exactly as the engine does (with
    the administration's assigned policies, ``defaults``, docs/policies.md#which-policy-applies)."""
    lines: list[CostLine] = []
    interest: Decimal | None = None
    notes: list[str] = []
    for snap in snapshots:
        try:
            policy = select_policy(snap, policies, defaults)
        except PolicyError as exc:
            notes.append(f"{snap.invoice_ref}: no policy ({exc})")
            continue
        line, why = chargeable_costs(snap, policy, today)
        if line is not None:
            lines.append(line)
        elif why:
            notes.append(f"{snap.invoice_ref}: no costs ({why})")
        if policy.interest.enabled:
            amount = interest_due(snap, policy, today, rates).amount
            interest = (interest or Decimal("0.00")) + amount
            start = interest_start(snap, policy)
            since = f"from {start.isoformat()}" if start else "(not in default yet)"
            notes.append(
                f"{snap.invoice_ref}: {interest_kind(snap, policy).value} statutory interest on {snap.open_amount} "
                f"{since} to {today.isoformat()} = {amount}"
            )
    costs = combine_costs(lines)
    if costs is not None:
        notes.insert(
            0,
            f"collection costs {costs.basis.value} on principal {costs.principal}: fee {costs.fee}"
            f" + VAT {costs.vat}" + (f" (capped at the letter's {costs.cap})" if costs.cap else ""),
        )
    return Claim(costs=costs, interest=interest, basis="; ".join(notes))


def hand_over(
    rt: Runtime,
    org_id: int,
    administration_id: int,
    debtor_ref: str,
    out_dir: Path,
    *,
    agency: str | None = None,
    agency_registration: str | None = None,
    today: date | None = None,
) -> HandOverResult:
    """Write the dossier (PDF + CSV) of ``debtor_ref`` into ``out_dir`` and stop our reminders for its invoices."""
    policies, rates = load_rules(rt)
    with rt.sessions() as s:
        adm = repos.get_administration(s, org_id, administration_id)
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        policies = usable_policies(s, org_id, policies)
        defaults = policy_defaults(s, org_id, administration_id)
    day = today or today_for(rt, adm)
    snapshots = [snap for snap in build_snapshots(rt, adm) if snap.debtor_ref == debtor.provider_ref]
    if not snapshots:
        raise PermanentError(f"debtor {debtor_ref} has no open invoices to hand over")
    currencies = {snap.currency for snap in snapshots}
    if len(currencies) > 1:
        raise PermanentError(f"debtor {debtor_ref} has open invoices in {sorted(currencies)}: hand over per currency")
    currency = currencies.pop()
    refs = [snap.invoice_ref for snap in snapshots]
    amounts = claim(snapshots, policies, rates, day, defaults)
    firm = Agency(agency, agency_registration) if agency else None
    dossier = _dossier(rt, adm, debtor, refs, currency, amounts, day, firm)
    rendered = render_dossier(dossier)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path, csv_path = out_dir / rendered.pdf_filename, out_dir / rendered.csv_filename
    pdf_path.write_bytes(rendered.pdf)
    csv_bytes = rendered.csv.encode("utf-8")
    csv_path.write_bytes(csv_bytes)
    pdf_sha, csv_sha = hashlib.sha256(rendered.pdf).hexdigest(), hashlib.sha256(csv_bytes).hexdigest()
    with transaction(rt.sessions) as s:
        adm = repos.get_administration(s, org_id, administration_id)
        for ref in refs:
            state = repos.reminder_state(s, org_id, administration_id, ref)
            state.handed_over, state.updated_at = True, repos.now(s)
        text = "Overgedragen aan incassobureau" + (f" {agency}" if agency else "")
        queue_writeback(
            s,
            adm,
            action=OutboxAction.NOTE,
            kind="hand_over",
            debtor_ref=debtor.provider_ref,
            invoice_refs=refs,
            subject=f"debtor:{debtor.provider_ref}",
            text=text,
            today=day,
        )
        repos.audit(
            s,
            org_id,
            "hand_over",
            f"handed over {len(refs)} invoice(s)" + (f" to {agency}" if agency else ""),
            administration_id=administration_id,
            debtor_ref=debtor.provider_ref,
            data={
                "invoices": refs,
                "pdf": str(pdf_path),
                "pdf_sha256": pdf_sha,
                "csv": str(csv_path),
                "csv_sha256": csv_sha,
                "total_claim": str(dossier.total_claim),
                "currency": currency,
                "agency": agency,
                "agency_registration": agency_registration,
            },
        )
    return HandOverResult(pdf_path, csv_path, pdf_sha, csv_sha, tuple(refs), dossier.total_claim, currency)


def _dossier(
    rt: Runtime,
    adm: tables.Administration,
    debtor: tables.Debtor,
    refs: list[str],
    currency: str,
    amounts: Claim,
    today: date,
    agency: Agency | None,
) -> Dossier:
    with rt.sessions() as s:
        invoices = repos.get_invoices(s, adm.org_id, adm.id, refs)
        moments = repos.contact_moments(s, adm.org_id, adm.id, debtor_ref=debtor.provider_ref)
        letters = repos.letter_evidence(s, adm.org_id, adm.id, debtor_ref=debtor.provider_ref)
        trail = repos.debtor_audit(s, adm.org_id, adm.id, debtor.provider_ref, refs)
    contacts = [
        ContactMoment(
            at=m.at,
            channel=m.channel,
            direction=m.direction,
            summary=" ".join(x for x in (m.outcome, m.note) if x) or m.channel,
            level_name=f"level {m.level}" if m.level is not None else None,
            reason=m.reason_code,
            reference=m.document_sha256,
        )
        for m in moments
    ] + [
        ContactMoment(
            at=e.created_at,
            channel="note",
            direction="out",
            summary=f"[{e.kind}] {e.message}"[:300],
            reference=f"audit:{e.id}",
        )
        for e in trail
        if e.kind not in INTERNAL_AUDIT_KINDS
    ]
    address = debtor.address or {}
    city = " ".join(p for p in (address.get("postcode"), address.get("city")) if p)
    segment = Segment(debtor.segment_override or debtor.segment)
    costs = amounts.costs
    return Dossier(
        organisation=Organisation.of(adm.name, repos.bank_details(adm)),
        debtor=DebtorInfo(
            name=debtor.company_name or debtor.name,
            address_lines=tuple(
                p for p in (address.get("line1"), address.get("line2"), city, address.get("country")) if p
            ),
            email=debtor.email,
            phone=debtor.phone,
            language=debtor.language,
            consumer=segment is Segment.B2C,
            customer_number=debtor.customer_number,
        ),
        debtor_ref=debtor.provider_ref,
        invoices=tuple(
            InvoiceLine(
                number=row.number or row.provider_ref,
                invoice_date=row.invoice_date,
                due_date=row.due_date,
                total=Money.from_minor(row.total_minor, row.currency).amount,
                open_amount=Money.from_minor(row.open_minor, row.currency).amount,
                days_overdue=max(0, (today - row.due_date).days),
                payment_link=row.payment_url,
            )
            for row in invoices
        ),
        prepared_on=today,
        currency=currency,
        collection_costs=costs.fee if costs else None,
        vat_on_costs=costs.vat if costs else None,
        interest=amounts.interest,
        interest_until=today if amounts.interest is not None else None,
        cost_basis=amounts.basis or None,
        contacts=tuple(contacts),
        letters=tuple(
            LetterRecord(
                title=LETTER_TITLES.get(x.kind, x.kind),
                sent_on=x.sent_on,
                channel=x.channel,
                filename=x.document_ref or f"{x.kind}-{x.sent_on.isoformat()}",
                sha256=x.sha256,
                received_on=x.received_on,
                costs_stated=(
                    Money.from_minor(x.stated_costs_minor, x.currency).amount
                    if x.stated_costs_minor is not None
                    else None
                ),
            )
            for x in letters
            if x.sent_on is not None  # a letter still waiting for the post was never sent
        ),
        agency=agency,
        reference=f"{adm.id}/{debtor.provider_ref}",
        language=adm.language or "nl",
    )
