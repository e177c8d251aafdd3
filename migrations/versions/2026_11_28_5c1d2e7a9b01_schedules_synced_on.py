"""Schedules remember the store-local day of their last slot sync (the sweep rolls only those behind).

Revision ID: 5c1d2e7a9b01
Revises: eff91d6fdee3
Create Date: 2026-11-28 11:05:00
"""
from alembic import op
import sqlalchemy as sa

revision = '5c1d2e7a9b01'
down_revision = 'eff91d6fdee3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('synced_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.drop_column('synced_on')
