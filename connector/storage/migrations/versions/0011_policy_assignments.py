"""policy assignments per administration and segment; organisation-owned policy versions

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 08:10:00.000000

Which policy each administration uses for business and for consumer debtors (absent: the packaged default of the
segment), and the organisation's own policies: a copy of a packaged policy, edited in the browser, one row per
saved version with who saved it (docs/policies.md#storage).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.storage.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('org_policy_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('based_on', sa.String(length=100), nullable=True),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', connector.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'name', 'version', name='uq_org_policy_versions_version')
    )
    with op.batch_alter_table('org_policy_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_policy_versions_org_id'), ['org_id'], unique=False)

    op.create_table('policy_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('administration_id', sa.Integer(), nullable=False),
    sa.Column('segment', sa.String(length=8), nullable=False),
    sa.Column('policy_name', sa.String(length=100), nullable=False),
    sa.Column('assigned_by', sa.String(length=254), nullable=False),
    sa.Column('assigned_at', connector.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['administration_id'], ['administrations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('administration_id', 'segment', name='uq_policy_assignments_segment')
    )
    with op.batch_alter_table('policy_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_assignments_administration_id'), ['administration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_policy_assignments_org_id'), ['org_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('policy_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_assignments_org_id'))
        batch_op.drop_index(batch_op.f('ix_policy_assignments_administration_id'))

    op.drop_table('policy_assignments')
    with op.batch_alter_table('org_policy_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_policy_versions_org_id'))

    op.drop_table('org_policy_versions')
