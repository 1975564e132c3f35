"""The two things every repository shares: the clock rows are stamped with, and the organisation scope.

Every query of an organisation's rows starts from ``scoped`` (or ``where_scoped`` for counts and updates): the
rows of one organisation, and of one administration when one is given. Nothing here is a repository function of
its own; ``tests/storage`` checks that each of those takes the organisation right after the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from connector.clock import utcnow
from connector.storage.tables import Base

R = TypeVar("R", bound=Base)


def now(session: Session) -> datetime:
    """Now (UTC) by the clock the session was made with (``session_factory(engine, clock=...)``: the runtime's,
    so a simulated day stamps its rows with that day), else the one clock (``connector.clock``)."""
    clock = session.info.get("clock")
    return cast(datetime, clock()) if clock is not None else utcnow()


Administrations = int | Sequence[int] | None


def where_scoped(
    table: type[Base], org_id: int, administration_id: Administrations = None
) -> list[ColumnElement[bool]]:
    """The conditions that keep a query to ``org_id`` and, when given, to one administration or to several."""
    columns = cast(Any, table)
    conditions: list[ColumnElement[bool]] = [columns.org_id == org_id]
    if isinstance(administration_id, int):
        conditions.append(columns.administration_id == administration_id)
    elif administration_id is not None:
        conditions.append(columns.administration_id.in_(list(administration_id)))
    return conditions


def scoped(table: type[R], org_id: int, administration_id: Administrations = None) -> Select[R]:
    """``SELECT`` of ``table``'s rows of one organisation (and one administration when given)."""
    return select(table).where(*where_scoped(table, org_id, administration_id))
