"""b: conversations and favourites follow-ups

Revision ID: c2f0a1b2c007
Revises: c1a0d17c0006
Create Date: 2026-11-28 20:10:00.000000
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'c2f0a1b2c007'
down_revision = 'c1a0d17c0006'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
