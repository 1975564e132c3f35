"""The debtor portal's tables: the personal links in every reminder and the answers debtors give on the page.

Part of the schema in ``connector.storage.tables`` (same ``Base`` and conventions: every row carries ``org_id``,
datetimes in UTC, money in integer minor units). A link row is what makes a signed token usable: it binds the
token to one debtor of one administration, expires, and can be revoked; the token itself is never stored, only
the SHA-256 of its random part (and of the short code printed on letters). Only storage reads or writes them
(``repos/portal.py``); the flow is docs/portal.md.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from connector.storage.declarative import Base, _adm, _org


class PortalLink(Base):
    """One personal link (docs/portal.md#links): a fresh one per reminder, bound to one debtor, expiring, revocable."""

    __tablename__ = "portal_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    debtor_ref: Mapped[str] = mapped_column(String(100), index=True)
    lookup: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the token's random part
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # sha256 of the letter's short code
    outbox_key: Mapped[str | None] = mapped_column(String(200))  # the reminder that carried it
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class PortalAnswer(Base):
    """What a debtor answered on the page (docs/portal.md#answers): paid, dispute, arrangement or question, over
    one or more invoices; ``status`` is ``open`` until a person resolves it (or, for a payment, it arrives)."""

    __tablename__ = "portal_answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = _org()
    administration_id: Mapped[int] = _adm()
    link_id: Mapped[int] = mapped_column(ForeignKey("portal_links.id", ondelete="CASCADE"), index=True)
    debtor_ref: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # paid|dispute|arrangement|question
    invoice_refs: Mapped[list[Any]] = mapped_column(default=list)
    reason: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    paid_on: Mapped[date | None] = mapped_column(Date)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    terms: Mapped[int | None] = mapped_column(Integer)
    arrangement_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open|accepted|awaiting_approval|task|resolved
    check_on: Mapped[date | None] = mapped_column(Date)  # a claimed payment is looked for until this day
    created_at: Mapped[datetime]
