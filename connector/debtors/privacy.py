"""A debtor's personal data (AVG/GDPR): an export of everything we hold about one debtor, and its erasure.

``dunning debtor REF --export DIR`` writes one JSON file with every row that concerns the debtor (the synced copies
and our own dunning records: levels, holds, contact moments, letters with their evidence, arrangements, outbox
steps, the audit trail) plus copies of the letter PDFs. ``--erase --confirm`` deletes all of it, letter PDFs
included, and is refused while the debtor still has an open invoice: the evidence is needed as long as the claim
can be enforced (GDPR art. 17(3)(e)). The erasure itself is logged without personal data. The accounting package
stays the system of record: a debtor erased here but still present there is copied again by the next sync (our
dunning history of them stays erased).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from connector.debtors.common import debtor_row
from connector.errors import PermanentError
from connector.model import InvoiceStatus, Money
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction


@dataclass(frozen=True)
class ExportResult:
    path: Path
    files: tuple[Path, ...]
    counts: dict[str, int]


def export_debtor(rt: Runtime, org_id: int, administration_id: int, debtor_ref: str, out_dir: Path) -> ExportResult:
    """Write everything we hold about one debtor into ``out_dir``: ``debtor-<ref>.json`` and the letter PDFs."""
    with rt.sessions() as s:
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        ref = debtor.provider_ref
        rows = repos.debtor_rows(s, org_id, administration_id, ref)
        data = {name: [repos.row_values(row) for row in found] for name, found in rows.items()}
        documents = [row.document_ref for row in rows["letters"] if row.document_ref]
    out_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in ref)
    path = out_dir / f"debtor-{safe}.json"
    payload = {"debtor_ref": ref, "administration_id": administration_id, "exported_at": rt.clock().isoformat()}
    path.write_text(json.dumps({**payload, "records": data}, indent=2, sort_keys=True), encoding="utf-8")
    copied: list[Path] = []
    for document in documents:
        source = Path(document)
        if source.is_file():
            target = out_dir / "letters" / source.name
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(source, target)
            copied.append(target)
    counts = {name: len(found) for name, found in data.items()}
    with transaction(rt.sessions) as s:
        repos.audit(
            s,
            org_id,
            "debtor_export",
            f"exported the data of a debtor ({sum(counts.values())} records, {len(copied)} letters)",
            administration_id=administration_id,
            debtor_ref=ref,
            data={"counts": counts},
        )
    return ExportResult(path, tuple(copied), counts)


def erase_debtor(
    rt: Runtime, org_id: int, administration_id: int, debtor_ref: str, *, confirm: bool = False
) -> dict[str, int]:
    """Delete everything we hold about one debtor, letter PDFs included; refused while a claim is open."""
    with transaction(rt.sessions) as s:
        debtor = debtor_row(s, org_id, administration_id, debtor_ref)
        ref = debtor.provider_ref
        rows = repos.debtor_rows(s, org_id, administration_id, ref)
        open_rows = [inv for inv in rows["invoices"] if inv.status == InvoiceStatus.OPEN.value and inv.open_minor > 0]
        if open_rows:
            total = sum(inv.open_minor for inv in open_rows)
            amount = Money.from_minor(total, open_rows[0].currency)
            raise PermanentError(
                f"debtor {debtor_ref} still has {len(open_rows)} open invoice(s) ({amount.currency} {amount.amount}): "
                "the records are evidence for that claim; erase them once it is paid, credited or written off"
            )
        if not confirm:
            raise PermanentError(
                f"erasing deletes everything we hold about debtor {debtor_ref}, letters included: add --confirm"
            )
        documents = [row.document_ref for row in rows["letters"] if row.document_ref]
        counts = repos.erase_debtor_rows(s, org_id, administration_id, ref)
        repos.audit(
            s,
            org_id,
            "debtor_erased",
            f"erased the data of a debtor on request ({sum(counts.values())} records)",
            administration_id=administration_id,
            data={"counts": counts},  # no name, no reference: nothing left that points at the person
        )
    for document in documents:
        Path(document).unlink(missing_ok=True)
    return counts
