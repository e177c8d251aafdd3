"""Performance: indexes for the hot paths

Revision ID: 9e4f0a170006
Revises: b13e9a0c0005
Create Date: 2026-11-28 16:30:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '9e4f0a170006'
down_revision = 'b13e9a0c0005'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
