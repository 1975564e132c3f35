"""The four onboarding steps of a new organisation, as services the ``/onboarding`` wizard calls: choose the
administrations to dun, a policy per administration and segment, the day-one choice after a plan of what each
choice would send first, then switch sending on (safe mode off). Every step is stored as it is made, so the
wizard resumes where it was left (docs/onboarding.md#the-four-steps). Also the account each administration's
debtors transfer to when an invoice has no payment link (docs/portal.md#paying).

Beside ``connector.services`` in the layers: reads and writes through ``connector.storage.repos`` scoped to the
organisation, policies through ``connector.policies``, counts with the pure ``connector.rules.dayone``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from connector.model import Segment, bank
from connector.model.bank import BankDetails
from connector.policies import assign_policy, available_policies, packaged_policies, policy_defaults, policy_for
from connector.rules.dayone import DayOne, DayOneSetting, first_step
from connector.runtime import Runtime
from connector.snapshots import build_snapshots
from connector.storage import repos
from connector.storage.db import transaction

STEPS = ("administrations", "policies", "plan", "sending")
DEFAULTS = {Segment.B2B: "b2b", Segment.B2C: "b2c"}


@dataclass(frozen=True)
class AdministrationStep:
    id: int
    name: str
    chosen: bool  # not paused: dunned once sending is on
    safe_mode: bool
    day_one: str | None
    policies: dict[str, str]  # segment -> policy name


@dataclass(frozen=True)
class State:
    administrations: list[AdministrationStep]
    policies: dict[str, list[str]]  # segment -> the names to choose from
    done: bool
    resume: str = field(default="administrations")  # the first step not yet made


def state(rt: Runtime, org_id: int, only: set[int] | None = None) -> State:
    """``only``: the administrations a later connect added (the wizard for them leaves the others alone)."""
    with rt.sessions() as s:
        steps = [
            AdministrationStep(
                a.id,
                a.name,
                not a.paused,
                a.safe_mode,
                a.day_one,
                {seg.value: policy_defaults(s, org_id, a.id).get(seg, DEFAULTS[seg]) for seg in Segment},
            )
            for a in repos.list_administrations(s, org_id)
            if only is None or a.id in only
        ]
        names: dict[str, list[str]] = {seg.value: [] for seg in Segment}
        for p in available_policies(s, org_id):
            if p.segment is not None and p.policy is not None:
                names[Segment(p.segment).value].append(p.name)
        done = repos.onboarded_at(s, org_id) is not None
    chosen = [a for a in steps if a.chosen]
    resume = "administrations"
    if chosen and all(a.day_one for a in chosen):
        resume = "sending"
    elif any(a.day_one for a in steps):
        resume = "plan"
    return State(steps, names, done, resume)


def choose_administrations(rt: Runtime, org_id: int, chosen: set[int], only: set[int] | None = None) -> None:
    """Those not chosen are paused (synced and shown, nothing sent or previewed) until resumed; with ``only``, just
    those administrations are looked at."""
    with transaction(rt.sessions) as s:
        for adm in repos.list_administrations(s, org_id):
            if only is not None and adm.id not in only:
                continue
            paused = adm.id not in chosen
            if adm.paused != paused:
                adm.paused = paused
                kind = "dunning_paused" if paused else "dunning_resumed"
                repos.audit(s, org_id, kind, f"onboarding: dunning {kind[8:]}", administration_id=adm.id)


def choose_policy(rt: Runtime, org_id: int, administration_id: int, segment: str, name: str, who: str) -> None:
    """Raises ``PolicyChoiceError`` (a ``ConnectorError``) for a policy that does not fit the segment."""
    with transaction(rt.sessions) as s:
        assign_policy(s, org_id, administration_id, Segment(segment), name, who)


def day_one_plan(rt: Runtime, org_id: int, administration_id: int) -> dict[str, list[tuple[str, int]]]:
    """Per choice: (step name, how many invoices get their first message at it) in ladder order, and ("", n) for
    those that get none today; only invoices that had no step yet count."""
    today = rt.today(org_id)
    with rt.sessions() as s:
        adm = repos.get_administration(s, org_id, administration_id)
        choose = policy_for(s, org_id, administration_id, packaged_policies())
    undunned = [snap for snap in build_snapshots(rt, adm) if snap.current_level is None and snap.open_amount > 0]
    plans: dict[str, list[tuple[str, int]]] = {}
    for choice in DayOne:
        setting = DayOneSetting(choice, today)
        counts: Counter[tuple[int, str]] = Counter()
        for snap in undunned:
            policy = choose(snap)
            index = first_step(policy, snap.due_date, today, setting)
            counts[(index, policy.levels[index].name) if index is not None else (999, "")] += 1
        plans[choice.value] = [(name, n) for (_, name), n in sorted(counts.items())]
    return plans


def choose_day_one(rt: Runtime, org_id: int, administration_id: int, choice: str) -> None:
    """Store the choice with today as the day dunning starts: invoices due before it are the history."""
    DayOne(choice)  # ValueError for anything else
    with transaction(rt.sessions) as s:
        repos.set_day_one(s, org_id, administration_id, choice, rt.today(org_id))
        repos.audit(s, org_id, "day_one", f"day one: {choice}", administration_id=administration_id)


def switch_on(rt: Runtime, org_id: int, administration_ids: set[int]) -> None:
    """Safe mode off for these (chosen) administrations, and the onboarding done."""
    with transaction(rt.sessions) as s:
        for adm in repos.list_administrations(s, org_id):
            if adm.id in administration_ids and not adm.paused and adm.safe_mode:
                adm.safe_mode = False
                repos.audit(s, org_id, "safe_mode", "safe mode off (onboarding)", administration_id=adm.id)
        repos.set_onboarded(s, org_id, rt.clock())


def not_started(rt: Runtime, org_id: int) -> set[int]:
    """The administrations without a day-one choice yet: those a connect adds go through the wizard."""
    with rt.sessions() as s:
        return {a.id for a in repos.list_administrations(s, org_id) if a.day_one is None}


def finished(rt: Runtime, org_id: int) -> bool:
    with rt.sessions() as s:
        return repos.onboarded_at(s, org_id) is not None


@dataclass(frozen=True)
class BankAccount:
    """One administration and the account its debtors transfer to (None: not set, the page says "on the invoice")."""

    id: int
    name: str
    provider: str
    bank: BankDetails | None


def bank_accounts(rt: Runtime, org_id: int) -> list[BankAccount]:
    with rt.sessions() as s:
        return [
            BankAccount(adm.id, adm.name, adm.provider, repos.bank_details(adm))
            for adm in repos.list_administrations(s, org_id)
        ]


def set_bank_account(rt: Runtime, org_id: int, administration_id: int, holder: str, iban: str, bic: str) -> None:
    """Check and store the account letters, e-mails and the debtor's page name (docs/portal.md#paying); all three
    fields empty clears it. Raises ``InvalidBankDetails`` naming each bad field, ``NotFound`` for another
    organisation's administration."""
    details = None if not (holder.strip() or iban.strip() or bic.strip()) else bank.parse(holder, iban, bic)
    with transaction(rt.sessions) as s:
        repos.set_bank_details(s, org_id, administration_id, details)
