"""Check-in: check-ins (one per booking), scan nonces, per-booking QR and per-store counter-code secrets.

Revision ID: 28849dbee176
Revises: d6ab41fc4cfb
Create Date: 2026-11-22 14:10:27.231915
"""
from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import postgresql

revision = '28849dbee176'
down_revision = 'd6ab41fc4cfb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('check_in_attempts',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=False),
    sa.Column('body', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_check_in_attempts_actor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id', 'nonce', name=op.f('pk_check_in_attempts'))
    )
    with op.batch_alter_table('check_in_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_attempts_created_at'), ['created_at'], unique=False)

    op.create_table('check_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('verification', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lng', sa.Double(), nullable=True),
    sa.Column('accuracy_m', sa.Double(), nullable=True),
    sa.Column('distance_m', sa.Double(), nullable=True),
    sa.Column('geofence_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("method IN ('staff_scan', 'staff_typed', 'self_geofence')", name=op.f('ck_check_ins_method_known')),
    sa.CheckConstraint("verification IN ('staff_verified', 'verified')", name=op.f('ck_check_ins_verification_known')),
    sa.CheckConstraint('accuracy_m IS NULL OR accuracy_m >= 0', name=op.f('ck_check_ins_accuracy_not_negative')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_check_ins_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_check_ins_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_check_ins_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_ins')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_check_ins_booking_id'))
    )
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_ins_store_id'), ['store_id'], unique=False)

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qr_secret', sa.String(length=32), server_default=sa.text("replace(gen_random_uuid()::text, '-', '')"), nullable=False))

    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_secret', sa.String(length=32), server_default=sa.text("replace(gen_random_uuid()::text, '-', '')"), nullable=False))



def downgrade():
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_column('checkin_secret')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('qr_secret')

    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_ins_store_id'))

    op.drop_table('check_ins')
    with op.batch_alter_table('check_in_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_attempts_created_at'))

    op.drop_table('check_in_attempts')
