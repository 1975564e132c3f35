"""outbox claims; provider- and user-supplied text that fits

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:30:00.000000

Every drain claims an outbox item before it sends (``claimed_by``, ``claimed_until``), so two processes at once
never send one step twice. Provider- and user-supplied strings become text: Xero's versions are 68-70
characters and Exact's five webhook subscription ids take 184, more than the 64 and 100 PostgreSQL enforced
(SQLite never did, so only PostgreSQL refused them).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.storage.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TO_TEXT = {
    'connections': {'display_name': 200, 'parked_reason': 200, 'site_url': 200},
    'administrations': {'name': 200, 'provider_reminders_detail': 300, 'webhook_ref': 100},
    'debtors': {
        'name': 300,
        'company_name': 300,
        'email': 300,
        'phone': 64,
        'kvk_number': 32,
        'vat_number': 32,
        'customer_number': 64,
        'provider_version': 64,
    },
    'invoices': {'number': 64, 'provider_version': 64, 'payment_url': 500, 'reference': 200},
    'credit_notes': {'number': 64, 'provider_version': 64},
    'payments': {'provider_version': 64},
    'letter_evidence': {'document_ref': 300, 'message_id': 300},
}


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', connector.storage.types.UTCDateTime(), nullable=True))
    for table, columns in TO_TEXT.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, length in columns.items():
                batch_op.alter_column(column, existing_type=sa.String(length=length), type_=sa.Text())


def downgrade() -> None:
    for table, columns in TO_TEXT.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, length in columns.items():
                batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=length))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
