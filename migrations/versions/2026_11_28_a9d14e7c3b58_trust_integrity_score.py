"""Trust II: the merchant integrity score (business_integrity) and its score per ISO week (integrity_weeks)

Revision ID: a9d14e7c3b58
Revises: e4a7c1d9b2f6
Create Date: 2026-11-28 13:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = 'a9d14e7c3b58'
down_revision = 'e4a7c1d9b2f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('business_integrity',
    sa.Column('business_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('parts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('counts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('score IS NULL OR score BETWEEN 0 AND 100', name=op.f('ck_business_integrity_score_range')),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_business_integrity_business_id_businesses'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('business_id', name=op.f('pk_business_integrity'))
    )
    op.create_index('ix_business_integrity_score', 'business_integrity', ['score'], unique=False)
    op.create_table('integrity_weeks',
    sa.Column('business_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('parts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score IS NULL OR score BETWEEN 0 AND 100', name=op.f('ck_integrity_weeks_score_range')),
    sa.CheckConstraint('extract(isodow FROM week) = 1', name=op.f('ck_integrity_weeks_week_starts_monday')),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_integrity_weeks_business_id_businesses'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('business_id', 'week', name=op.f('pk_integrity_weeks'))
    )


def downgrade():
    op.drop_table('integrity_weeks')
    op.drop_index('ix_business_integrity_score', table_name='business_integrity')
    op.drop_table('business_integrity')
