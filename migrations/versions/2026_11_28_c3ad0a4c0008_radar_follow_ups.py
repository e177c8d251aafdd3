"""c: demand radar follow-ups

Revision ID: c3ad0a4c0008
Revises: c2f0a1b2c007
Create Date: 2026-11-28 20:10:00.000000
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'c3ad0a4c0008'
down_revision = 'c2f0a1b2c007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
