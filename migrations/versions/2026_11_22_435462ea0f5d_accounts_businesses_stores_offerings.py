"""Accounts, businesses, stores with hours and staff, offerings.

Revision ID: 435462ea0f5d
Revises: 
Create Date: 2026-11-22 13:42:21.135664
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geography

revision = '435462ea0f5d'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # PostGIS for locations, pg_trgm for text search; a no-op where they exist already.
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('is_active_account', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('resident', 'merchant', 'staff', 'admin')", name=op.f('ck_users_role_known')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lowercase')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('businesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('is_verified', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('active', 'suspended')", name=op.f('ck_businesses_status_known')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_businesses_owner_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_businesses'))
    )
    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_businesses_owner_id'), ['owner_id'], unique=False)

    op.create_geospatial_table('stores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=False),
    sa.Column('location', Geography(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeogFromText', name='geography', nullable=False), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('geofence_m', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('active', 'closed_permanently')", name=op.f('ck_stores_status_known')),
    sa.CheckConstraint('geofence_m BETWEEN 10 AND 5000', name=op.f('ck_stores_geofence_range')),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_stores_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stores'))
    )
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_stores_location', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_stores_business_id'), ['business_id'], unique=False)

    op.create_table('hours_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_closed', sa.Boolean(), nullable=False),
    sa.Column('opens_at', sa.Time(), nullable=True),
    sa.Column('closes_at', sa.Time(), nullable=True),
    sa.Column('note', sa.String(length=120), nullable=False),
    sa.CheckConstraint('is_closed OR (opens_at IS NOT NULL AND closes_at IS NOT NULL AND closes_at > opens_at)', name=op.f('ck_hours_exceptions_closed_or_hours')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_hours_exceptions_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hours_exceptions')),
    sa.UniqueConstraint('store_id', 'day', name='uq_hours_exceptions_store_day')
    )
    with op.batch_alter_table('hours_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hours_exceptions_store_id'), ['store_id'], unique=False)

    op.create_geospatial_table('offerings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=140), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('price_amount', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('duration_min', sa.SmallInteger(), nullable=False),
    sa.Column('capacity', sa.SmallInteger(), nullable=False),
    sa.Column('cancel_cutoff_hours', sa.SmallInteger(), nullable=False),
    sa.Column('policy_text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('cover_image', sa.String(length=120), nullable=True),
    sa.Column('location', Geography(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeogFromText', name='geography', nullable=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("category IN ('beauty_makeup', 'fitness_coaching', 'class_workshop', 'food_tasting', 'wellness_massage', 'fashion_fitting', 'kids_family', 'other')", name=op.f('ck_offerings_category_known')),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_offerings_currency_code')),
    sa.CheckConstraint("status IN ('active', 'archived')", name=op.f('ck_offerings_status_known')),
    sa.CheckConstraint('cancel_cutoff_hours BETWEEN 0 AND 720', name=op.f('ck_offerings_cutoff_range')),
    sa.CheckConstraint('capacity BETWEEN 1 AND 1000', name=op.f('ck_offerings_capacity_range')),
    sa.CheckConstraint('duration_min BETWEEN 5 AND 1440', name=op.f('ck_offerings_duration_range')),
    sa.CheckConstraint('price_amount >= 0', name=op.f('ck_offerings_price_not_negative')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_offerings_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offerings'))
    )
    with op.batch_alter_table('offerings', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_offerings_location', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_offerings_store_id'), ['store_id'], unique=False)

    op.create_table('opening_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('opens_at', sa.Time(), nullable=False),
    sa.Column('closes_at', sa.Time(), nullable=False),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_opening_hours_closes_after_opens')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_opening_hours_weekday_range')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_opening_hours_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_hours'))
    )
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opening_hours_store_id'), ['store_id'], unique=False)

    op.create_table('store_staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_store_staff_store_id_stores'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_store_staff_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_staff')),
    sa.UniqueConstraint('store_id', 'user_id', name='uq_store_staff_store_user')
    )
    with op.batch_alter_table('store_staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_store_staff_store_id'), ['store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_store_staff_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('store_staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_store_staff_user_id'))
        batch_op.drop_index(batch_op.f('ix_store_staff_store_id'))

    op.drop_table('store_staff')
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opening_hours_store_id'))

    op.drop_table('opening_hours')
    with op.batch_alter_table('offerings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offerings_store_id'))
        batch_op.drop_geospatial_index('idx_offerings_location', postgresql_using='gist', column_name='location')

    op.drop_geospatial_table('offerings')
    with op.batch_alter_table('hours_exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hours_exceptions_store_id'))

    op.drop_table('hours_exceptions')
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stores_business_id'))
        batch_op.drop_geospatial_index('idx_stores_location', postgresql_using='gist', column_name='location')

    op.drop_geospatial_table('stores')
    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_businesses_owner_id'))

    op.drop_table('businesses')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
