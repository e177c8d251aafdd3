"""Conversations: store and booking threads, messages, read marks, blocks, quick replies

Revision ID: c0c1a5e0f001
Revises: a9d14e7c3b58
Create Date: 2026-11-28 16:30:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'c0c1a5e0f001'
down_revision = 'a9d14e7c3b58'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
