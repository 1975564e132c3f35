"""inbox events keep the digest of their signed bytes: a Moneybird replay with a new Idempotency-Key is one event

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:30:00.000000

Moneybird's Idempotency-Key header is not covered by its signature, so a captured delivery sent again within the
five-minute window with another key was stored twice. The digest of what the signature covers is a second unique
key per provider and organisation; rows written before keep NULL (never equal to anything in a unique index).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('inbox_events', sa.Column('signed_digest', sa.String(length=64), nullable=True))
    op.create_index(
        'ix_inbox_events_signed_digest', 'inbox_events', ['provider', 'signed_digest', 'org_id'], unique=True
    )


def downgrade() -> None:
    op.drop_index('ix_inbox_events_signed_digest', table_name='inbox_events')
    with op.batch_alter_table('inbox_events', schema=None) as batch_op:
        batch_op.drop_column('signed_digest')
