"""Operator's console: merchant verification, warnings, suspension and the admin audit log

Revision ID: ad31e0c0a003
Revises: f0a1b2c3d402
Create Date: 2026-11-28 16:30:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'ad31e0c0a003'
down_revision = 'f0a1b2c3d402'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
