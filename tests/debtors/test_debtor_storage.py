"""Debtor-management storage on SQLite and PostgreSQL: letter evidence, contact moments, arrangements."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connector import model
from connector.errors import NotFound
from connector.storage import repos


def _org_with_admin(session: Session, name: str = "Org") -> tuple[int, int]:
    org = repos.create_organisation(session, name)
    conn = repos.create_connection(session, org, "moneybird")
    tenant = model.Tenant(provider_tenant_id="1", name="A")
    adm = repos.upsert_administration(session, org, conn.id, "moneybird", tenant)
    return org, adm.id


def test_letter_evidence_is_recorded_once_per_document_and_day(sessions: sessionmaker[Session]) -> None:
    def record(s: Session, org: int, adm: int, sha: str) -> int:
        return repos.record_letter_evidence(
            s,
            org,
            adm,
            debtor_ref="d1",
            invoice_refs=["i1", "i2"],
            kind="fourteen_day_letter",
            sent_on=date(2026, 3, 3),
            channel="post",
            stated_costs_minor=4000,
            currency="EUR",
            sha256=sha * 64,
        )

    with sessions.begin() as s:
        org, adm = _org_with_admin(s)
        first, again, other = record(s, org, adm, "a"), record(s, org, adm, "a"), record(s, org, adm, "b")
    assert first == again != other
    with sessions.begin() as s:
        rows = repos.letter_evidence(s, org, adm, debtor_ref="d1", kind="fourteen_day_letter")
        assert [(r.id, r.invoice_refs, r.stated_costs_minor) for r in rows] == [
            (first, ["i1", "i2"], 4000),
            (other, ["i1", "i2"], 4000),
        ]
        repos.set_letter_received(s, org, first, date(2026, 3, 6))
    with sessions() as s:
        assert repos.letter_evidence(s, org, adm)[0].received_on == date(2026, 3, 6)
        assert repos.letter_evidence(s, org, adm, kind="demand_letter") == []


def test_contact_moments_and_arrangements_are_scoped(sessions: sessionmaker[Session]) -> None:
    at = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
    with sessions.begin() as s:
        org, adm = _org_with_admin(s, "A")
        other_org, _ = _org_with_admin(s, "B")
        moment = repos.record_contact_moment(
            s,
            org,
            adm,
            debtor_ref="d1",
            at=at,
            channel="phone",
            direction="out",
            reason_code="financial_trouble",
            outcome="promise_to_pay",
            promise_date=date(2026, 3, 20),
        )
        plan = repos.create_arrangement(
            s,
            org,
            adm,
            debtor_ref="d1",
            invoice_refs=["i1"],
            agreed_on=date(2026, 3, 4),
            schedule=[(date(2026, 4, 1), 5000), (date(2026, 5, 1), 5050)],
            currency="EUR",
        )
        plan_id = plan.id
    with sessions() as s:
        rows = repos.contact_moments(s, org, adm, debtor_ref="d1")
        assert [(r.id, r.at, r.reason_code, r.promise_date) for r in rows] == [
            (moment, at, "financial_trouble", date(2026, 3, 20))
        ]
        assert repos.contact_moments(s, other_org, adm) == []
        schedule = repos.installments(s, org, [plan_id])[plan_id]
        assert [(i.number, i.due_date, i.amount_minor, i.paid) for i in schedule] == [
            (1, date(2026, 4, 1), 5000, False),
            (2, date(2026, 5, 1), 5050, False),
        ]
        assert repos.installments(s, other_org, [plan_id])[plan_id] == []
        assert [a.id for a in repos.arrangements(s, org, adm, status="active")] == [plan_id]
        with pytest.raises(NotFound):
            repos.get_arrangement(s, other_org, plan_id)
