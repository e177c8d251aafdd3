"""Trust I follow-ups

Revision ID: b13e9a0c0005
Revises: a0d17c0e0004
Create Date: 2026-11-28 16:30:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'b13e9a0c0005'
down_revision = 'a0d17c0e0004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
