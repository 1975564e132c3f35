"""The debtor portal: personal links (signed tokens bound to one debtor, expiring, revocable) and the answers given

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 08:30:00.000000

Every reminder carries a fresh link; a link row holds the SHA-256 of the token's random part and of the letter's
short code (never the token itself), its debtor, its end and its revocation. Answers (paid, dispute, arrangement,
question) are kept with the link they came through (docs/portal.md).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import connector.storage.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'portal_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('administration_id', sa.Integer(), nullable=False),
        sa.Column('debtor_ref', sa.String(length=100), nullable=False),
        sa.Column('lookup', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('outbox_key', sa.String(length=200), nullable=True),
        sa.Column('created_at', connector.storage.types.UTCDateTime(), nullable=False),
        sa.Column('expires_at', connector.storage.types.UTCDateTime(), nullable=False),
        sa.Column('revoked_at', connector.storage.types.UTCDateTime(), nullable=True),
        sa.Column('last_used_at', connector.storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['administration_id'], ['administrations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code_hash'),
        sa.UniqueConstraint('lookup'),
    )
    with op.batch_alter_table('portal_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_links_administration_id'), ['administration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_links_debtor_ref'), ['debtor_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_links_org_id'), ['org_id'], unique=False)
    op.create_table(
        'portal_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('administration_id', sa.Integer(), nullable=False),
        sa.Column('link_id', sa.Integer(), nullable=False),
        sa.Column('debtor_ref', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('invoice_refs', sa.JSON(), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('paid_on', sa.Date(), nullable=True),
        sa.Column('amount_minor', sa.BigInteger(), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('terms', sa.Integer(), nullable=True),
        sa.Column('arrangement_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('check_on', sa.Date(), nullable=True),
        sa.Column('created_at', connector.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['administration_id'], ['administrations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['link_id'], ['portal_links.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('portal_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_answers_administration_id'), ['administration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_answers_debtor_ref'), ['debtor_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_answers_link_id'), ['link_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_answers_org_id'), ['org_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('portal_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_answers_org_id'))
        batch_op.drop_index(batch_op.f('ix_portal_answers_link_id'))
        batch_op.drop_index(batch_op.f('ix_portal_answers_debtor_ref'))
        batch_op.drop_index(batch_op.f('ix_portal_answers_administration_id'))
    op.drop_table('portal_answers')
    with op.batch_alter_table('portal_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_links_org_id'))
        batch_op.drop_index(batch_op.f('ix_portal_links_debtor_ref'))
        batch_op.drop_index(batch_op.f('ix_portal_links_administration_id'))
    op.drop_table('portal_links')
