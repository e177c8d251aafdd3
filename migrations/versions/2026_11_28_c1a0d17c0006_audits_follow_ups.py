"""a: audits and score follow-ups

Revision ID: c1a0d17c0006
Revises: b13e9a0c0005
Create Date: 2026-11-28 20:10:00.000000
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'c1a0d17c0006'
down_revision = 'b13e9a0c0005'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
