"""Discovery: a coarse cluster grid for city-wide map views

Revision ID: eff91d6fdee3
Revises: 28849dbee176
Create Date: 2026-11-22 15:36:56.520085
"""
from alembic import op



revision = 'eff91d6fdee3'
down_revision = '28849dbee176'
branch_labels = None
depends_on = None


def upgrade():
    # ~1.7 km cells (1/64 degree) summed from offering_grid: a whole-city map reads ~2k rows, not ~35k.
    op.execute("""
        CREATE MATERIALIZED VIEW offering_grid_coarse AS
        SELECT floor(gx / 4.0)::int AS gx, floor(gy / 4.0)::int AS gy, category,
               sum(n)::int AS n, sum(sum_lng) AS sum_lng, sum(sum_lat) AS sum_lat
        FROM offering_grid
        GROUP BY 1, 2, 3
    """)
    op.execute("CREATE UNIQUE INDEX ux_offering_grid_coarse_cell ON offering_grid_coarse (gx, gy, category)")


def downgrade():
    op.execute("DROP MATERIALIZED VIEW IF EXISTS offering_grid_coarse")
