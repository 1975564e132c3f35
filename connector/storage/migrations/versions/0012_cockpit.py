"""cockpit: dunning paused per administration

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 11:30:00.000000

A practice pauses dunning for a client administration from the cockpit: a paused administration is evaluated but
gets no decisions sent (docs/cockpit.md#bulk-actions).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.drop_column('paused')
