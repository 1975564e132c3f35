"""The two things every repository shares: the clock rows are stamped with, and the organisation scope.

Every query of an organisation's rows starts from ``scoped`` (or ``where_scoped`` for counts and updates): the
rows of one organisation, and of one administration when one is given. The organisation may come as an
``OrgScope``: its id together with the administrations a member restricted to some clients may see
(docs/cockpit.md#client-access); then every query also keeps to those, and their connections, so a page never has
to. Nothing here is a repository function of its own; ``tests/storage`` checks that each of those takes the
organisation right after the session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from connector.clock import utcnow
from connector.storage.tables import Administration, Base, Connection, InboxEvent

R = TypeVar("R", bound=Base)


def now(session: Session) -> datetime:
    """Now (UTC) by the clock the session was made with (``session_factory(engine, clock=...)``: the runtime's,
    so a simulated day stamps its rows with that day), else the one clock (``connector.clock``)."""
    clock = session.info.get("clock")
    return cast(datetime, clock()) if clock is not None else utcnow()


Administrations = int | Sequence[int] | None


class OrgScope(int):
    """An organisation id that carries the administrations its holder may see: ``None`` all of them (an owner, a
    member of the whole organisation), else only these (a client's own staff). It is an ``int``, so it travels
    through every service as the organisation id does; storage reads ``administrations`` in ``where_scoped``."""

    administrations: frozenset[int] | None

    def __new__(cls, org_id: int, administrations: Iterable[int] | None = None) -> OrgScope:
        scope = super().__new__(cls, int(org_id))
        scope.administrations = None if administrations is None else frozenset(int(a) for a in administrations)
        return scope

    def __repr__(self) -> str:
        return f"OrgScope({int(self)}, {sorted(self.administrations) if self.administrations is not None else None})"


def allowed_administrations(org_id: int) -> frozenset[int] | None:
    """The administrations ``org_id`` is restricted to, or None when it may see all of the organisation's."""
    return org_id.administrations if isinstance(org_id, OrgScope) else None


def where_scoped(
    table: type[Base], org_id: int, administration_id: Administrations = None
) -> list[ColumnElement[bool]]:
    """The conditions that keep a query to ``org_id`` and, when given, to one administration or to several; and,
    for an ``OrgScope`` restricted to some administrations, to those (an administration's rows, the
    administrations themselves and the connections that reach them; a row of no administration is not theirs)."""
    columns = cast(Any, table)
    conditions: list[ColumnElement[bool]] = [columns.org_id == int(org_id)]
    allowed = allowed_administrations(org_id)
    if allowed is not None:
        ids = sorted(allowed)
        if table is Administration:
            conditions.append(Administration.id.in_(ids))
        elif table is Connection:
            reach = select(Administration.connection_id).where(Administration.id.in_(ids))
            conditions.append(Connection.id.in_(reach))
        elif table is InboxEvent:  # a webhook delivery belongs to the tenant it names
            tenants = select(Administration.provider_tenant_id).where(Administration.id.in_(ids))
            conditions.append(InboxEvent.provider_tenant_id.in_(tenants))
        elif hasattr(columns, "administration_id"):
            conditions.append(columns.administration_id.in_(ids))
    if isinstance(administration_id, int):
        conditions.append(columns.administration_id == administration_id)
    elif administration_id is not None:
        conditions.append(columns.administration_id.in_(list(administration_id)))
    return conditions


def scoped(table: type[R], org_id: int, administration_id: Administrations = None) -> Select[R]:
    """``SELECT`` of ``table``'s rows of one organisation (and one administration when given)."""
    return select(table).where(*where_scoped(table, org_id, administration_id))
