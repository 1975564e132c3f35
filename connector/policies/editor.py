"""The policy editor's work: the ladder as form fields and back, the preview of a change on today's invoices, and
the history of an administration's policies.

Called by the dashboard's policy pages (``dashboard.policies``). A form becomes a policy document validated by the
loader's one validator (``policy_field_problems``: every problem at its field); the preview runs the pure engine
over the administration's snapshots twice, with the policy in use and with the edited one, so nothing is sent and
the outbox is not read (docs/policies.md#the-editor).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.errors import PolicyError
from connector.model import Segment
from connector.policies import TEMPLATES, available_policies, packaged_policies, policy_for, policy_versions
from connector.rules.decisions import Decision
from connector.rules.engine import evaluate_invoice
from connector.rules.interest import RateTable
from connector.rules.loader import format_loc, policy_field_problems
from connector.rules.policy import Action, Channel, Computation, Policy
from connector.runtime import Runtime
from connector.snapshots import build_snapshots
from connector.storage import repos

LEVEL_SWITCHES = (
    "charge_costs",
    "charge_interest",
    "requires_approval",
    "email_may_replace_letter",
    "notice_of_default",
    "terminal",
)
LEVEL_TEXTS = ("name", "days", "computation", "channel", "action", "template")
CHOICES = {
    "computation": [c.value for c in Computation],
    "channel": [c.value for c in Channel],
    "action": [a.value for a in Action],
    "template": sorted(TEMPLATES),
}
PREVIEW_ROWS = 200  # the preview lists the first this many invoices whose step changes


def document_from_form(form: Mapping[str, str], current: Policy) -> dict[str, Any]:
    """The edited policy document: ``current`` with the form's fields (``levels-<i>-<field>``, ``costs_enabled``,
    ``interest_enabled``, ``min_days_between_messages``, ``description``); a number that is not one stays text, so
    the validator names its field."""
    document = current.model_dump(mode="json")
    document["description"] = form.get("description", "").strip()
    document["min_days_between_messages"] = _number(form.get("min_days_between_messages", ""))
    document["costs"]["enabled"] = form.get("costs_enabled") == "on"
    document["interest"]["enabled"] = form.get("interest_enabled") == "on"
    for index, level in enumerate(document["levels"]):
        for name in LEVEL_TEXTS:
            value = form.get(f"levels-{index}-{name}", "").strip()
            level[name] = _number(value) if name == "days" else value
        for name in LEVEL_SWITCHES:
            level[name] = form.get(f"levels-{index}-{name}") == "on"
    return document


def _number(value: str) -> int | str:
    try:
        return int(value.strip())
    except ValueError:
        return value


def problems_by_field(document: Mapping[str, Any]) -> dict[str, str]:
    """Every problem of an edited document by form field (``levels-2-days``), first message per field."""
    found: dict[str, str] = {}
    for loc, message in policy_field_problems(document, TEMPLATES):
        field = format_loc(loc).replace("[", "-").replace("].", "-").replace("]", "").replace(".", "_")
        found.setdefault(field, message)
    return found


@dataclass(frozen=True)
class PreviewRow:
    invoice_ref: str
    debtor_ref: str
    currency: str
    open_amount: Decimal
    before: str | None  # the step today under the policy in use (None: no step today)
    after: str | None  # ... under the edited policy


def _step(outcome: Any) -> str | None:
    if isinstance(outcome, Decision):
        return f"{outcome.level} {outcome.level_name} ({outcome.channel.value})"
    return None


def preview(
    rt: Runtime, org_id: int, administration_id: int, old: Policy, new: Policy, today: date, rates: RateTable
) -> tuple[list[PreviewRow], int]:
    """Today's step for each invoice of the administration that uses ``old``, under ``old`` and under ``new``: the
    rows whose step differs (at most ``PREVIEW_ROWS``) and how many invoices the policy covers."""
    with rt.sessions() as s:
        adm = repos.get_administration(s, org_id, administration_id)
        choose = policy_for(s, org_id, administration_id, packaged_policies(rt.settings.policies_dir))
    rows: list[PreviewRow] = []
    covered = 0
    for snapshot in build_snapshots(rt, adm):
        try:
            if choose(snapshot).name != old.name:
                continue
        except PolicyError:
            continue  # an invoice with a broken override is not this policy's
        covered += 1
        before = _step(evaluate_invoice(snapshot, old, today, rates=rates))
        after = _step(evaluate_invoice(snapshot, new, today, rates=rates))
        if before != after and len(rows) < PREVIEW_ROWS:
            rows.append(
                PreviewRow(
                    snapshot.invoice_ref, snapshot.debtor_ref, snapshot.currency, snapshot.open_amount, before, after
                )
            )
    return rows, covered


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    who: str
    what: str  # "assigned" | "saved"
    policy: str
    version: int | None
    changes: tuple[str, ...]  # "levels[2].days: 14 -> 10"


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """What changed between two policy documents, one line per field."""
    old, new = _flatten(dict(before)), _flatten(dict(after))
    return tuple(
        f"{key}: {old.get(key, '—')} -> {new.get(key, '—')}"
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    )


def history(rt: Runtime, org_id: int, administration_id: int) -> list[HistoryEntry]:
    """Who assigned which policy to the administration, and every saved version of the organisation's policies it
    has used, with what changed against the version before; newest first."""
    with rt.sessions() as s:
        repos.get_administration(s, org_id, administration_id)
        trail = [
            e
            for e in repos.audit_trail(s, org_id, kind="policy_assigned", limit=500)
            if e.administration_id == administration_id
        ]
        names = {str(e.data.get("to")) for e in trail} | {str(e.data.get("from")) for e in trail if e.data.get("from")}
        versions = [v for name in sorted(names) for v in policy_versions(s, org_id, name)]
    entries = [
        HistoryEntry(
            e.created_at,
            str(e.data.get("by", "")),
            "assigned",
            str(e.data.get("to")),
            None,
            (f"{e.data.get('segment')}: {e.data.get('from') or 'default'} -> {e.data.get('to')}",),
        )
        for e in trail
    ]
    previous: dict[str, Mapping[str, Any]] = {}
    for version in versions:
        before = previous.get(version.name)
        delta = changes(before, version.document) if before is not None else (f"copy of {version.based_on}",)
        entries.append(
            HistoryEntry(version.created_at, version.created_by, "saved", version.name, version.version, delta)
        )
        previous[version.name] = version.document
    return sorted(entries, key=lambda e: e.at, reverse=True)


def policy_in_use(rt: Runtime, org_id: int, administration_id: int, segment: Segment) -> Policy:
    """The policy the administration's ``segment`` debtors get today (its assignment, else the packaged default)."""
    packaged = packaged_policies(rt.settings.policies_dir)
    with rt.sessions() as s:
        repos.get_administration(s, org_id, administration_id)
        usable = {p.name: p.policy for p in available_policies(s, org_id, packaged) if p.policy is not None}
        assigned = {a.segment: a.policy_name for a in repos.policy_assignments(s, org_id, administration_id)}
    name = assigned.get(segment, segment.value)
    return usable.get(name) or packaged[segment.value]
