"""Discovery: text search column and index, ratings, the search log, the cluster grid.

Revision ID: 3ea6294ba685
Revises: 435462ea0f5d
Create Date: 2026-11-22 13:50:48.762582
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '3ea6294ba685'
down_revision = '435462ea0f5d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('search_logs',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('searched_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lng', sa.Float(), nullable=False),
    sa.Column('radius_m', sa.Integer(), nullable=True),
    sa.Column('categories', postgresql.ARRAY(sa.String(length=24)), nullable=False),
    sa.Column('q', sa.String(length=200), nullable=True),
    sa.Column('result_count', sa.SmallInteger(), nullable=False),
    sa.Column('has_more', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_logs'))
    )
    with op.batch_alter_table('search_logs', schema=None) as batch_op:
        batch_op.create_index('ix_search_logs_searched_at', ['searched_at'], unique=False, postgresql_using='brin')

    with op.batch_alter_table('offerings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('rating_avg', sa.Numeric(precision=3, scale=2), nullable=True))
        batch_op.add_column(sa.Column('rating_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(op.f('ck_offerings_rating_range'), 'rating_avg BETWEEN 1 AND 5')

    # Backfill what text search matches (app.offerings.models.search_text_for does the same in Python).
    op.execute("""
        UPDATE offerings o SET search_text = lower(concat_ws(' ', o.title, s.name,
            CASE o.category
                WHEN 'beauty_makeup' THEN 'Beauty & make-up trial' WHEN 'fitness_coaching' THEN 'Fitness coaching'
                WHEN 'class_workshop' THEN 'Class & workshop' WHEN 'food_tasting' THEN 'Food & tasting'
                WHEN 'wellness_massage' THEN 'Wellness & massage' WHEN 'fashion_fitting' THEN 'Fashion fitting'
                WHEN 'kids_family' THEN 'Kids & family' ELSE 'Other' END,
            nullif(left(o.description, 500), '')))
        FROM stores s WHERE s.id = o.store_id
    """)
    with op.batch_alter_table('offerings', schema=None) as batch_op:
        batch_op.create_index('ix_offerings_search_text_trgm', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})

    # Visible offerings counted per ~400 m cell (1/256 degree) and category, for map clusters of a
    # whole city in milliseconds. Refreshed by app.discovery.services.refresh_grid.
    op.execute("""
        CREATE MATERIALIZED VIEW offering_grid AS
        SELECT floor(ST_X(o.location::geometry) * 256)::int AS gx,
               floor(ST_Y(o.location::geometry) * 256)::int AS gy,
               o.category,
               count(*)::int AS n,
               sum(ST_X(o.location::geometry)) AS sum_lng,
               sum(ST_Y(o.location::geometry)) AS sum_lat
        FROM offerings o
        JOIN stores s ON s.id = o.store_id
        JOIN businesses b ON b.id = s.business_id
        WHERE o.status = 'active' AND s.status = 'active' AND b.status = 'active'
        GROUP BY 1, 2, 3
    """)
    op.execute("CREATE UNIQUE INDEX ux_offering_grid_cell ON offering_grid (gx, gy, category)")



def downgrade():
    op.execute("DROP MATERIALIZED VIEW IF EXISTS offering_grid")
    with op.batch_alter_table('offerings', schema=None) as batch_op:
        batch_op.drop_index('ix_offerings_search_text_trgm', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.drop_constraint(op.f('ck_offerings_rating_range'), type_='check')
        batch_op.drop_column('rating_count')
        batch_op.drop_column('rating_avg')
        batch_op.drop_column('search_text')

    with op.batch_alter_table('search_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_search_logs_searched_at', postgresql_using='brin')

    op.drop_table('search_logs')
