"""Check-in failures: every refused counter scan, with its store, who scanned, the code tried (cut short) and why

Revision ID: 1632d6695998
Revises: 2a317bbee540
Create Date: 2026-11-28 10:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '1632d6695998'
down_revision = '2a317bbee540'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('check_in_failures',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('code_tried', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_check_in_failures_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_check_in_failures_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_check_in_failures_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in_failures'))
    )
    with op.batch_alter_table('check_in_failures', schema=None) as batch_op:
        batch_op.create_index('ix_check_in_failures_store_failed', ['store_id', 'failed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('check_in_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_check_in_failures_store_failed')

    op.drop_table('check_in_failures')
