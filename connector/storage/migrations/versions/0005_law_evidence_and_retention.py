"""14-day letter evidence from the posting date and the rendered text; when default starts; retention

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 09:00:00.000000

A letter queued for post has no sending date until a person marks it posted (``sent_on`` becomes nullable), and
the evidence keeps the end date it printed, what the check of its rendered text found and the SMTP server's
acceptance of an e-mail. Debtors record whether their payment term is a fatal term; reminder states the day our
notice of default went out; administrations when they were first seen disconnected (for the 30-day purge).
Rows written before keep NULL in the new columns: the law's checks treat that as "not on record".
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.storage.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('letter_evidence', schema=None) as batch_op:
        batch_op.alter_column('sent_on', existing_type=sa.Date(), nullable=True)
        batch_op.add_column(sa.Column('outbox_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('queued_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('dates_assume_sent_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('printed_term_ends', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('text_counts_from_receipt', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('delivery_proof', sa.Text(), nullable=True))
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_needs_notice', sa.Boolean(), nullable=True))
    with op.batch_alter_table('reminder_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_of_default_on', sa.Date(), nullable=True))
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('disconnected_at', connector.storage.types.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.drop_column('disconnected_at')
    with op.batch_alter_table('reminder_states', schema=None) as batch_op:
        batch_op.drop_column('notice_of_default_on')
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.drop_column('default_needs_notice')
    op.execute("DELETE FROM letter_evidence WHERE sent_on IS NULL")
    with op.batch_alter_table('letter_evidence', schema=None) as batch_op:
        batch_op.drop_column('delivery_proof')
        batch_op.drop_column('text_counts_from_receipt')
        batch_op.drop_column('printed_term_ends')
        batch_op.drop_column('dates_assume_sent_on')
        batch_op.drop_column('queued_on')
        batch_op.drop_column('outbox_id')
        batch_op.alter_column('sent_on', existing_type=sa.Date(), nullable=False)
