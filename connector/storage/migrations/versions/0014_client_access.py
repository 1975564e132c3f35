"""client access: a membership restricted to some of the organisation's administrations

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 16:30:00.000000

A client's own staff, invited by the practice to just their administration (docs/cockpit.md#client-access):
``memberships.restricted`` and the administrations such a membership may see. Existing memberships stay
unrestricted.
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restricted', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('membership_administrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('administration_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['administration_id'], ['administrations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('membership_id', 'administration_id')
    )
    with op.batch_alter_table('membership_administrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_administrations_administration_id'), ['administration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_administrations_membership_id'), ['membership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_administrations_org_id'), ['org_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('membership_administrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_administrations_org_id'))
        batch_op.drop_index(batch_op.f('ix_membership_administrations_membership_id'))
        batch_op.drop_index(batch_op.f('ix_membership_administrations_administration_id'))
    op.drop_table('membership_administrations')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('restricted')
