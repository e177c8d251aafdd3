"""d: an index on offerings.rating_score: "Best match" reads the highest rating score on every search

Revision ID: d1e2a3b4c009
Revises: c3ad0a4c0008
Create Date: 2026-11-29 00:30:00.000000
"""
from alembic import op

revision = 'd1e2a3b4c009'
down_revision = 'c3ad0a4c0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f("ix_offerings_rating_score"), "offerings", ["rating_score"])


def downgrade():
    op.drop_index(op.f("ix_offerings_rating_score"), table_name="offerings")
