"""Policy models: the credit-management ladder as validated data (docs/credit-management.md#one-ladder-for-every-debtor,
docs/credit-management.md#escalation, OCA ``credit_control_policy``).

A policy is loaded from YAML by ``connector.rules.loader`` and handed to ``connector.rules.engine``; nothing here
does I/O. Cross-field rules (ordered levels, the B2C 14-day letter before any costs (docs/law.md#the-14-day-letter),
costs only when switched on (docs/credit-management.md#costs-and-interest-are-a-choice), hand-over only with approval
(docs/credit-management.md#hand-over)) raise ``PolicyRuleViolation`` carrying the location of the field at fault, so the
loader can name the YAML line.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from connector.model import Currency, Segment
from connector.rules.interest import InterestKind
from connector.rules.law import vat_applies

Loc = tuple[str | int, ...]
CHECK_RULES = "check_rules"  # validation context key: False validates the fields only (the loader lists the rules)


class PolicyRuleViolation(ValueError):
    """A cross-field rule failed; ``loc`` is the path (relative to the policy root) of the field at fault."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc


class Computation(str, enum.Enum):
    """How a level's date is computed (OCA ``computation_mode``)."""

    NET_DAYS = "net_days"  # due date + days
    END_OF_MONTH = "end_of_month"  # last day of the month of (due date + days)
    PREVIOUS_DATE = "previous_date"  # date the previous level was reached + days; not on the first level


class Channel(str, enum.Enum):
    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"  # a task for a person, not a message
    PROVIDER = "provider"  # the accounting package sends it (e.g. Moneybird send_reminders)


MESSAGE_CHANNELS = frozenset({Channel.EMAIL, Channel.LETTER, Channel.PROVIDER})


class Action(str, enum.Enum):
    FRIENDLY_REMINDER = "friendly_reminder"
    REMINDER = "reminder"
    DEMAND_LETTER = "demand_letter"
    FOURTEEN_DAY_LETTER = "fourteen_day_letter"
    FINAL_NOTICE = "final_notice"
    PHONE_TASK = "phone_task"
    CREDIT_STOP = "credit_stop"
    HAND_OVER = "hand_over"


class CatchUp(str, enum.Enum):
    """What to do when several levels became due during downtime (docs/credit-management.md#catch-up-after-downtime);
    never more than one level per run."""

    SEND = "send"  # send the next level; later levels follow on later runs
    SKIP = "skip"  # a passed intermediate level is recorded as skipped without a message


class ChaseOwner(str, enum.Enum):
    """Who chases when the accounting package's own reminders are active (docs/credit-management.md#double-chasing)."""

    US = "us"
    PROVIDER = "provider"


class B2BCostMode(str, enum.Enum):
    # the WIK scale as the default B2B clause (docs/law.md#wik-collection-costs, docs/law.md#costs-for-business-debtors)
    WIK = "wik"
    EU_FIXED_40 = "eu_fixed_40"  # Directive 2011/7/EU art. 6 fixed EUR 40 (docs/law.md#costs-for-business-debtors)
    NONE = "none"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MinOpenAmount(_Strict):
    """Tolerance: open amounts at or below it are not chased (docs/credit-management.md#reminders-for-paid-invoices; OCA
    default 0.10)."""

    amount: Decimal = Decimal("0.10")
    currency: Currency = "EUR"

    @field_validator("amount", mode="before")
    @classmethod
    def _decimal_string(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError('write amounts as quoted decimal strings, e.g. "0.10"')
        return value

    @field_validator("amount")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("must not be negative")
        return value


class CostsConfig(_Strict):
    """Collection costs (opt-in). VAT is added only when both VAT conditions hold (Besluit art. 2 lid 3)."""

    enabled: bool = False
    creditor_can_deduct_vat: bool = True  # a VAT-registered creditor deducts the VAT it pays: then never VAT
    collector_charges_vat: bool = False  # the costs are those of a collector who charges VAT on its work
    b2b_mode: B2BCostMode = B2BCostMode.WIK

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "vat_reclaimable" in data:
            raise ValueError(
                "vat_reclaimable is replaced by two settings: creditor_can_deduct_vat and collector_charges_vat "
                "(VAT is added to the costs only when the creditor cannot deduct it AND a collector charges it)"
            )
        return data

    @property
    def charge_vat(self) -> bool:
        return vat_applies(
            creditor_can_deduct_vat=self.creditor_can_deduct_vat, collector_charges_vat=self.collector_charges_vat
        )


class InterestConfig(_Strict):
    enabled: bool = False
    kind: InterestKind = InterestKind.COMMERCIAL


class Level(_Strict):
    level: int = Field(ge=0)
    name: str = Field(min_length=1)
    days: int
    computation: Computation = Computation.NET_DAYS
    channel: Channel
    action: Action
    template: str = Field(min_length=1)
    charge_costs: bool = False
    charge_interest: bool = False
    terminal: bool = False
    requires_approval: bool = False
    email_may_replace_letter: bool = False  # a letter level: e-mail (with the letter as PDF) instead of post
    notice_of_default: bool = False  # this message is the notice of default (ingebrekestelling, art. 6:82 BW)

    @property
    def sends_message(self) -> bool:
        return self.channel in MESSAGE_CHANNELS


class Policy(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    segment: Segment
    catch_up: CatchUp = CatchUp.SEND
    min_open_amount: MinOpenAmount = Field(default_factory=MinOpenAmount)
    min_days_between_messages: int = Field(default=0, ge=0)
    who_chases_when_provider_reminders_on: ChaseOwner = ChaseOwner.US
    arrangement_grace_days: int = Field(default=3, ge=0)  # a missed instalment counts after due + these days
    # what a debtor may agree on its own page (docs/portal.md#answers); beyond it a person approves
    arrangement_max_terms: int = Field(default=6, ge=0, le=60)
    arrangement_min_term: Decimal = Field(default=Decimal("25"), ge=0)  # the least per instalment
    # "I have paid" on the debtor's page: the days a sync has to show the payment before a person looks
    paid_claim_check_days: int = Field(default=7, ge=1, le=60)
    # Consumers: a payment term that is not a fatal term puts the debtor in default only after a notice of default
    # and its term (art. 6:82 BW); a fatal term does so the day after the due date (art. 6:83 sub a). Per debtor
    # a person can record either; this is what applies when nothing is recorded.
    default_needs_notice: bool = True
    notice_term_days: int = Field(default=14, ge=1, le=60)  # the term the notice of default gives to pay
    costs: CostsConfig = Field(default_factory=CostsConfig)
    interest: InterestConfig = Field(default_factory=InterestConfig)
    levels: list[Level] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_rules(self, info: ValidationInfo) -> Policy:
        if info.context and info.context.get(CHECK_RULES) is False:
            return self  # the loader lists every rule's problem itself (``policy_field_problems``)
        problems = policy_problems(self)
        if problems:
            raise problems[0]
        return self

    def level_index(self, level: int) -> int | None:
        for index, candidate in enumerate(self.levels):
            if candidate.level == level:
                return index
        return None


def nominal_offsets(levels: list[Level]) -> list[int]:
    """Days after the due date at which each level nominally falls (previous_date chains add up)."""
    offsets: list[int] = []
    for index, level in enumerate(levels):
        if level.computation is Computation.PREVIOUS_DATE and index > 0:
            offsets.append(offsets[-1] + level.days)
        else:
            offsets.append(level.days)
    return offsets


def policy_problems(policy: Policy) -> list[PolicyRuleViolation]:
    """Every cross-field rule violation of ``policy``, first one first."""
    problems: list[PolicyRuleViolation] = []
    levels = policy.levels
    offsets = nominal_offsets(levels)
    seen: set[int] = set()
    for index, level in enumerate(levels):
        where: Loc = ("levels", index)
        if level.level in seen:
            problems.append(PolicyRuleViolation((*where, "level"), f"duplicate level number {level.level}"))
        elif index and level.level < levels[index - 1].level:
            problems.append(PolicyRuleViolation((*where, "level"), "level numbers must increase down the list"))
        seen.add(level.level)
        if index == 0 and level.computation is Computation.PREVIOUS_DATE:
            problems.append(
                PolicyRuleViolation((*where, "computation"), "previous_date is not allowed on the first level")
            )
        if level.computation is Computation.PREVIOUS_DATE and index and level.days <= 0:
            problems.append(PolicyRuleViolation((*where, "days"), "previous_date levels need days > 0"))
        if index and offsets[index] <= offsets[index - 1]:
            problems.append(
                PolicyRuleViolation(
                    (*where, "days"),
                    f"levels must be strictly increasing in days ({offsets[index]} after {offsets[index - 1]})",
                )
            )
        if level.terminal and index != len(levels) - 1:
            problems.append(PolicyRuleViolation((*where, "terminal"), "only the last level can be terminal"))
        if level.charge_costs and not policy.costs.enabled:
            problems.append(PolicyRuleViolation((*where, "charge_costs"), "charge_costs while costs.enabled is false"))
        if level.charge_interest and not policy.interest.enabled:
            problems.append(
                PolicyRuleViolation((*where, "charge_interest"), "charge_interest while interest.enabled is false")
            )
        if level.action is Action.HAND_OVER and not level.requires_approval:
            problems.append(
                PolicyRuleViolation(
                    (*where, "requires_approval"),
                    "a hand_over level needs requires_approval: true (a person approves a hand-over)",
                )
            )
        if level.email_may_replace_letter and level.channel is not Channel.LETTER:
            problems.append(
                PolicyRuleViolation(
                    (*where, "email_may_replace_letter"),
                    "email_may_replace_letter is only for a level on the letter channel",
                )
            )
        if level.notice_of_default:
            if level.channel is not Channel.EMAIL:
                problems.append(
                    PolicyRuleViolation(
                        (*where, "channel"), "a notice of default goes by email (our own text, with its date on record)"
                    )
                )
            if level.charge_costs or level.charge_interest or offsets[index] < 1:
                problems.append(
                    PolicyRuleViolation(
                        (*where, "notice_of_default"),
                        "a notice of default comes after the due date and charges nothing "
                        "(the default starts after its term)",
                    )
                )
        if level.action is Action.FOURTEEN_DAY_LETTER:
            if policy.segment is Segment.B2C and policy.default_needs_notice:
                if not any(levels[i].notice_of_default for i in range(index)):
                    problems.append(
                        PolicyRuleViolation(
                            (*where, "action"),
                            "default_needs_notice is true, so a level before the 14-day letter must be the notice "
                            "of default (notice_of_default: true); or set default_needs_notice: false for fatal terms",
                        )
                    )
            if offsets[index] < 1:
                problems.append(
                    PolicyRuleViolation((*where, "days"), "the 14-day letter must be sent after the due date")
                )
            if level.channel not in (Channel.LETTER, Channel.EMAIL):
                problems.append(PolicyRuleViolation((*where, "channel"), "the 14-day letter needs letter or email"))
        if policy.segment is Segment.B2C and level.charge_costs:
            problems.extend(_b2c_letter_problems(levels, offsets, index))
    if policy.segment is Segment.B2C and policy.interest.kind is InterestKind.COMMERCIAL and policy.interest.enabled:
        problems.append(
            PolicyRuleViolation(
                ("interest", "kind"), "a b2c policy charges the consumer rate of statutory interest (kind: consumer)"
            )
        )
    return problems


def _b2c_letter_problems(levels: list[Level], offsets: list[int], index: int) -> list[PolicyRuleViolation]:
    letters = [i for i in range(index) if levels[i].action is Action.FOURTEEN_DAY_LETTER]
    where: Loc = ("levels", index, "charge_costs")
    if not letters:
        message = "a b2c level charges costs with no fourteen_day_letter level before it (consumers get it first)"
        return [PolicyRuleViolation(where, message)]
    gap = offsets[index] - offsets[letters[-1]]
    if gap < 15:
        return [
            PolicyRuleViolation(
                ("levels", index, "days"),
                f"costs come only from day 15 after the 14-day letter; this level is {gap} days after it",
            )
        ]
    return []
