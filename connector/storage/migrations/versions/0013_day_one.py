"""day one: how an administration's history enters the ladder, and the organisation's onboarding

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 12:10:00.000000

Per administration the day-one choice (reminder_1, by_age, skip_history) and the day dunning started, which
makes the invoices due before it history (docs/onboarding.md#day-one-choices); per organisation when its
onboarding finished (null: the home page shows the way back to it).
"""
from __future__ import annotations

import sqlalchemy as sa

import connector.storage.types
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('day_one', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('day_one_from', sa.Date(), nullable=True))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('onboarded_at', connector.storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('onboarded_at')
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.drop_column('day_one_from')
        batch_op.drop_column('day_one')
