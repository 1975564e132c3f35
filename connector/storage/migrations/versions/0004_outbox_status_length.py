"""outbox status holds 'awaiting_approval'

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 16:30:00.000000

The status column was 16 characters, one short of ``awaiting_approval``: PostgreSQL refused every step that
waits for a person's approval (a hand-over); SQLite does not enforce the length, so nothing showed there.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=16), type_=sa.String(length=32))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=32), type_=sa.String(length=16))
