"""Mystery-shopper audits and the auditor role

Revision ID: a0d17c0e0004
Revises: ad31e0c0a003
Create Date: 2026-11-28 16:30:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'a0d17c0e0004'
down_revision = 'ad31e0c0a003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
