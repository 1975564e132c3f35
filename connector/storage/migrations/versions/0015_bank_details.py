"""bank details: the account the debtor transfers to when an invoice has no payment link

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 16:40:00.000000

Per administration the account holder's name, the IBAN (compact, mod-97 checked) and the BIC the owner sets; the
letters, e-mails and the debtor's page show them beside the payment reference (docs/portal.md#paying).
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bank_holder', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('bank_iban', sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column('bank_bic', sa.String(length=11), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('administrations', schema=None) as batch_op:
        batch_op.drop_column('bank_bic')
        batch_op.drop_column('bank_iban')
        batch_op.drop_column('bank_holder')
