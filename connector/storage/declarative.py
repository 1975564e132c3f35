"""The declarative base every table of the schema is declared on, and the two columns every tenant row has.

Below ``connector.storage.tables`` and its section modules (``tables_dunning``, ``tables_api``): one ``Base``, so
the models, the migrations test and Alembic see one metadata; datetimes map to ``UTCDateTime`` (stored in UTC,
read back aware) and JSON columns to ``JSON``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from connector.storage.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def _org() -> Mapped[int]:
    return mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)


def _adm() -> Mapped[int]:
    return mapped_column(ForeignKey("administrations.id", ondelete="CASCADE"), index=True)
