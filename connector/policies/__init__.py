"""Which dunning policy each administration uses, and the organisation's own (edited) policies.

Sits between the pipeline steps and storage: ``connector.decide`` asks ``policy_for`` which policy applies to each
invoice of an administration (override → the administration's assignment for the segment → the packaged default)
and hands that choice to the pure engine; onboarding and the policy editor call ``assign_policy`` and
``save_policy``. A policy is either packaged (the YAML files of ``DUNNING_POLICIES_DIR`` or ``connector/defaults``)
or the organisation's own: a copy of one, edited in the browser, stored as numbered versions (storage owns the
queries, ``repos/policies.py``). Every document goes through the loader's one validator (``validate_policy``), so
the browser and the YAML files refuse the same things (docs/policies.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.channels.context import MessageKind
from connector.errors import ConnectorError, PolicyError
from connector.model import Segment
from connector.model.policies import PolicyAssignmentRecord, PolicyVersion
from connector.rules.loader import load_policies, select_policy, validate_policy
from connector.rules.policy import Policy
from connector.rules.snapshot import InvoiceSnapshot
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import Session

TEMPLATES = frozenset(kind.value for kind in MessageKind)  # the template sets a level may name
NAME_MAX = 100  # the stored column's length
PACKAGED = "packaged"
OWN = "organisation"


class PolicyChoiceError(ConnectorError):
    """A policy cannot be assigned or saved; the message says what to do instead."""


@dataclass(frozen=True)
class AvailablePolicy:
    """A policy an administration may use: packaged, or the organisation's own at its latest version. ``policy`` is
    None (and ``problem`` says why) when a stored version no longer passes the validator."""

    name: str
    segment: Segment | None
    description: str
    source: str  # PACKAGED | OWN
    version: int | None
    policy: Policy | None
    problem: str | None = None


_PACKAGED_CACHE: dict[tuple[str, tuple[tuple[str, int], ...]], dict[str, Policy]] = {}


def packaged_policies(directory: Path | None = None) -> dict[str, Policy]:
    """The YAML policies (``DUNNING_POLICIES_DIR`` or the packaged defaults), read again only when a file changes."""
    folder = Path(directory or Settings().policies_dir)
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.y*ml"))) if folder.is_dir() else ()
    key = (str(folder.resolve()), stamp)
    if key not in _PACKAGED_CACHE:
        _PACKAGED_CACHE.clear()
        _PACKAGED_CACHE[key] = load_policies(folder, templates=TEMPLATES)
    return dict(_PACKAGED_CACHE[key])


def _own(version: PolicyVersion) -> AvailablePolicy:
    try:
        policy: Policy | None = validate_policy(version.document, TEMPLATES)
        problem = None
    except PolicyError as exc:
        policy, problem = None, str(exc)
    segment = policy.segment if policy else _segment_of(version.document)
    description = policy.description if policy else str(version.document.get("description", ""))
    return AvailablePolicy(version.name, segment, description, OWN, version.version, policy, problem)


def _segment_of(document: Mapping[str, Any]) -> Segment | None:
    try:
        return Segment(document.get("segment"))
    except ValueError:
        return None


def available_policies(
    session: Session, org_id: int, packaged: Mapping[str, Policy] | None = None
) -> list[AvailablePolicy]:
    """Every policy the organisation's administrations may use, packaged ones first, each list by name. The
    organisation's own policy wins over a packaged one of the same name (``save_policy`` refuses such names)."""
    base = packaged if packaged is not None else packaged_policies()
    own = {name: _own(version) for name, version in repos.latest_policy_versions(session, org_id).items()}
    shipped = [
        AvailablePolicy(name, policy.segment, policy.description, PACKAGED, None, policy)
        for name, policy in sorted(base.items())
        if name not in own
    ]
    return shipped + [own[name] for name in sorted(own)]


def usable_policies(session: Session, org_id: int, packaged: Mapping[str, Policy] | None = None) -> dict[str, Policy]:
    """The valid available policies by name: what overrides and assignments may name."""
    return {p.name: p.policy for p in available_policies(session, org_id, packaged) if p.policy is not None}


def policy_defaults(session: Session, org_id: int, administration_id: int) -> dict[Segment, str]:
    """The administration's assigned policy per segment (segments without one use the packaged default)."""
    return {a.segment: a.policy_name for a in repos.policy_assignments(session, org_id, administration_id)}


def policy_for(
    session: Session, org_id: int, administration_id: int, packaged: Mapping[str, Policy] | None = None
) -> Callable[[InvoiceSnapshot], Policy]:
    """The policy choice for one administration's invoices, for ``connector.rules.engine.evaluate``: the invoice's
    or debtor's override, else the administration's assignment for the invoice's segment, else the packaged
    default of the segment. The choice raises ``PolicyError`` (the engine records it as a non-decision) when a
    name it needs is unknown."""
    policies = usable_policies(session, org_id, packaged)
    defaults = policy_defaults(session, org_id, administration_id)

    def choose(snapshot: InvoiceSnapshot) -> Policy:
        return select_policy(snapshot, policies, defaults)

    return choose


def assign_policy(
    session: Session,
    org_id: int,
    administration_id: int,
    segment: Segment,
    policy_name: str,
    who: str,
    packaged: Mapping[str, Policy] | None = None,
) -> str | None:
    """Make ``policy_name`` the policy of ``segment`` debtors in the administration, audited with ``who``; returns
    the policy it replaces (None: the packaged default). Raises ``PolicyChoiceError`` for an unknown or broken
    policy, a policy of the other segment, or an administration of another organisation."""
    segment = Segment(segment)
    repos.get_administration(session, org_id, administration_id)  # NotFound outside the organisation
    chosen = {p.name: p for p in available_policies(session, org_id, packaged)}.get(policy_name)
    if chosen is None:
        raise PolicyChoiceError(f"there is no policy '{policy_name}': choose one of the available policies")
    if chosen.policy is None:
        raise PolicyChoiceError(f"policy '{policy_name}' does not pass validation; fix it first ({chosen.problem})")
    if chosen.policy.segment is not segment:
        raise PolicyChoiceError(
            f"policy '{policy_name}' is for {chosen.policy.segment.value} debtors; choose a {segment.value} policy"
        )
    previous = repos.set_policy_assignment(session, org_id, administration_id, segment, policy_name, who=who)
    if previous != policy_name:
        repos.audit(
            session,
            org_id,
            "policy_assigned",
            f"{segment.value} policy: {previous or 'default'} -> {policy_name}",
            administration_id=administration_id,
            data={"segment": segment.value, "from": previous, "to": policy_name, "by": who},
        )
    return previous


def assignments(session: Session, org_id: int, administration_id: int | None = None) -> list[PolicyAssignmentRecord]:
    """The stored assignments (of one administration when given)."""
    return repos.policy_assignments(session, org_id, administration_id)


def save_policy(
    session: Session,
    org_id: int,
    name: str,
    document: Mapping[str, Any],
    who: str,
    *,
    based_on: str | None = None,
    packaged: Mapping[str, Policy] | None = None,
) -> int:
    """Validate ``document`` (``PolicyError`` names the field at fault) and store it as the next version of the
    organisation's policy ``name``; returns the version number. A new policy is a copy: ``based_on`` names the
    policy it started from, and its name may not be a packaged policy's."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise PolicyError(f"give the policy a name of 1 to {NAME_MAX} characters", field="name")
    base = packaged if packaged is not None else packaged_policies()
    versions = repos.policy_versions(session, org_id, name)
    if not versions and name in base:
        raise PolicyError(f"'{name}' is the name of a packaged policy: choose another name for your copy", field="name")
    policy = validate_policy({**document, "name": name}, TEMPLATES)
    stored = policy.model_dump(mode="json")
    if versions and versions[-1].document == stored:
        return versions[-1].version  # nothing changed: no new version
    version = repos.add_policy_version(
        session, org_id, name, stored, based_on=based_on if not versions else versions[0].based_on, who=who
    )
    repos.audit(
        session,
        org_id,
        "policy_saved",
        f"policy {name} version {version}",
        data={"policy": name, "version": version, "by": who},
    )
    return version


def validate_policy_document(document: Mapping[str, Any]) -> Policy:
    """A policy document as the editor or onboarding hands it in, through the one validator (``PolicyError``)."""
    return validate_policy(document, TEMPLATES)


def policy_versions(session: Session, org_id: int, name: str) -> list[PolicyVersion]:
    """Every saved version of the organisation's policy ``name``, oldest first."""
    return repos.policy_versions(session, org_id, name)
