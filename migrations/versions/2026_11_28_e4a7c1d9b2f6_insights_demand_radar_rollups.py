"""Insights: the demand radar's roll-up (demand_counts per h3 cell/category/day/hour, rollup_marks) and
search_logs.searcher (a salted hash, for counting distinct searchers)

Revision ID: e4a7c1d9b2f6
Revises: c3f9a8d27e54
Create Date: 2026-11-28 13:40:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'e4a7c1d9b2f6'
down_revision = 'c3f9a8d27e54'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('demand_counts',
    sa.Column('res', sa.SmallInteger(), nullable=False),
    sa.Column('cell', sa.BigInteger(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hour', sa.SmallInteger(), nullable=False),
    sa.Column('searches', sa.Integer(), nullable=False),
    sa.Column('zero_results', sa.Integer(), nullable=False),
    sa.Column('few_results', sa.Integer(), nullable=False),
    sa.Column('waitlist_overflows', sa.Integer(), nullable=False),
    sa.Column('searchers', postgresql.ARRAY(sa.BigInteger()), nullable=False),
    sa.CheckConstraint('hour BETWEEN 0 AND 23', name=op.f('ck_demand_counts_hour_of_day')),
    sa.CheckConstraint('res IN (7, 9)', name=op.f('ck_demand_counts_known_resolution')),
    sa.PrimaryKeyConstraint('res', 'cell', 'category', 'day', 'hour', name=op.f('pk_demand_counts'))
    )
    op.create_table('rollup_marks',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_rollup_marks'))
    )
    op.add_column('search_logs', sa.Column('searcher', sa.BigInteger(), nullable=True))


def downgrade():
    op.drop_column('search_logs', 'searcher')
    op.drop_table('rollup_marks')
    op.drop_table('demand_counts')
