"""e: a GiST index on offerings (category, location): a one-category nearby search walks that category nearest first

"Best match" and nearest-first searches narrowed to one category (the explore page's chips, the API's
category=) order by distance; with the location index alone the walk steps over every other category's rows
and reads each from the heap. btree_gist lets the category be an index condition of the same GiST walk.

Revision ID: e2f3a4b5c010
Revises: d1e2a3b4c009
Create Date: 2026-11-29 09:00:00.000000
"""
from alembic import op

revision = 'e2f3a4b5c010'
down_revision = 'd1e2a3b4c009'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")  # trusted: a database owner may create it
    op.execute("CREATE INDEX ix_offerings_category_location ON offerings USING gist (category, location)")


def downgrade():
    op.execute("DROP INDEX ix_offerings_category_location")  # the extension stays, as postgis and pg_trgm do
