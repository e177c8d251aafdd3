"""Favourites: saved experiences and followed stores

Revision ID: f0a1b2c3d402
Revises: c0c1a5e0f001
Create Date: 2026-11-28 16:30:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'f0a1b2c3d402'
down_revision = 'c0c1a5e0f001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
