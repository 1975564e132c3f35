"""Statutory interest (wettelijke rente, docs/law.md#statutory-interest) from an effective-dated rate table, compounded
yearly.

The table is data (packaged as ``connector/defaults/legal/statutory_interest.yaml``, replaceable with
``DUNNING_INTEREST_RATES_FILE``), never constants; ``load_rate_table`` reads
the path it is given. ``statutory_interest`` splits a period at every rate change and at every anniversary of the
start date (art. 6:119 lid 2 / 6:119a lid 3 BW: after each year the interest is added to the principal).
Conventions (ours, docs/law.md#statutory-interest leaves them open): interest for the half-open range ``[start, end)``,
day count actual/365, sums kept exact in ``Decimal`` and rounded once to the cent, half up; a start on 29 February has
its anniversary on 1 March.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from connector.errors import ConfigurationError, ConnectorError

DAYS_IN_YEAR = Decimal(365)


class InterestPeriodError(ConnectorError):
    """Interest was asked for a period the rate table does not cover (before its first row)."""


class InterestKind(str, enum.Enum):
    COMMERCIAL = "commercial"  # art. 6:119a BW (B2B; public bodies 6:119b use the same rate)
    CONSUMER = "consumer"  # art. 6:119 BW (non-commercial)


class RateRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_date: date = Field(alias="from")
    consumer: Decimal  # percent per year
    commercial: Decimal
    unverified: tuple[InterestKind, ...] = ()  # columns not yet checked against an official source
    source: str | None = None  # where the row's rates were checked
    note: str | None = None

    @field_validator("consumer", "commercial", mode="before")
    @classmethod
    def _decimal_string(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError('write rates as quoted decimal strings, e.g. "8.05"')
        return value

    def rate(self, kind: InterestKind) -> Decimal:
        return self.consumer if kind is InterestKind.CONSUMER else self.commercial


class RateTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=1)
    day_count: str = "actual/365"
    rates: tuple[RateRow, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> RateTable:
        if self.day_count != "actual/365":
            raise ValueError("only day_count actual/365 is implemented")
        dates = [row.from_date for row in self.rates]
        if dates != sorted(set(dates)):
            raise ValueError("rate rows must have strictly increasing 'from' dates")
        return self

    @property
    def first_date(self) -> date:
        return self.rates[0].from_date

    def row_on(self, day: date) -> RateRow:
        current: RateRow | None = None
        for row in self.rates:
            if row.from_date <= day:
                current = row
        if current is None:
            raise InterestPeriodError(
                f"the statutory interest table starts on {self.first_date.isoformat()}: there is no rate for "
                f"{day.isoformat()}; compute from {self.first_date.isoformat()} or later"
            )
        return current

    def change_dates(self, start: date, end: date) -> list[date]:
        """Rate-change dates strictly inside ``(start, end)``."""
        return [row.from_date for row in self.rates if start < row.from_date < end]


def load_rate_table(path: Path | str) -> RateTable:
    """Read ``statutory_interest.yaml``; ``ConfigurationError`` naming the file when it is invalid."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return RateTable.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"{path}: invalid statutory interest table: {exc}") from exc


@dataclass(frozen=True)
class InterestPeriod:
    start: date
    end: date  # exclusive
    days: int
    rate: Decimal  # percent
    principal: Decimal  # base including interest compounded at earlier anniversaries
    interest: Decimal  # exact, unrounded
    unverified: bool
    rate_from: date  # the rate table row the rate comes from


@dataclass(frozen=True)
class InterestResult:
    amount: Decimal  # rounded to the cent
    periods: tuple[InterestPeriod, ...]

    @property
    def uses_unverified_rate(self) -> bool:
        return any(period.unverified for period in self.periods)


def anniversary(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February in a non-leap year
        return date(start.year + years, 3, 1)


def statutory_interest(
    principal: Decimal, start: date, end: date, kind: InterestKind, rates: RateTable
) -> InterestResult:
    """Statutory interest on ``principal`` for ``[start, end)``, split per rate and compounded yearly.

    Raises ``InterestPeriodError`` when ``start`` lies before the table's first row.
    """
    if principal <= 0 or end <= start:
        return InterestResult(amount=Decimal("0.00"), periods=())
    rates.row_on(start)  # refuses a period before the table with a clear message
    periods: list[InterestPeriod] = []
    base = principal
    total = Decimal(0)
    year_start, years = start, 0
    while year_start < end:
        years += 1
        year_end = min(anniversary(start, years), end)
        year_interest = Decimal(0)
        cursor = year_start
        for boundary in [*rates.change_dates(year_start, year_end), year_end]:
            row = rates.row_on(cursor)
            days = (boundary - cursor).days
            interest = base * row.rate(kind) / 100 * days / DAYS_IN_YEAR
            periods.append(
                InterestPeriod(
                    cursor, boundary, days, row.rate(kind), base, interest, kind in row.unverified, row.from_date
                )
            )
            year_interest += interest
            cursor = boundary
        total += year_interest
        base += year_interest  # compounded at the end of each full year (only matters if another year follows)
        year_start = year_end
    return InterestResult(amount=total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), periods=tuple(periods))
