"""Bookings: schedules, slots, bookings and their events, waitlist, offline payments, inbox, outbox,
idempotency keys.

Revision ID: d6ab41fc4cfb
Revises: 3ea6294ba685
Create Date: 2026-11-22 14:02:43.026586
"""
from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import postgresql

revision = 'd6ab41fc4cfb'
down_revision = '3ea6294ba685'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_emails',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('to_email', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_emails'))
    )
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_unsent', ['id'], unique=False, postgresql_where=sa.text('sent_at IS NULL'))

    op.create_table('idempotency_keys',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=True),
    sa.Column('body', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)

    op.create_table('schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('weeks_ahead', sa.SmallInteger(), nullable=False),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('requires_approval', sa.Boolean(), nullable=False),
    sa.Column('checkin_opens_minutes', sa.SmallInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('checkin_opens_minutes BETWEEN 0 AND 1440', name=op.f('ck_schedules_checkin_opens_range')),
    sa.CheckConstraint('min_notice_minutes BETWEEN 0 AND 43200', name=op.f('ck_schedules_notice_range')),
    sa.CheckConstraint('weeks_ahead BETWEEN 1 AND 52', name=op.f('ck_schedules_weeks_ahead_range')),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_schedules_offering_id_offerings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules')),
    sa.UniqueConstraint('offering_id', name=op.f('uq_schedules_offering_id'))
    )
    op.create_table('slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.SmallInteger(), nullable=False),
    sa.Column('seats_taken', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('is_extra', sa.Boolean(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=300), nullable=True),
    sa.CheckConstraint("status IN ('open', 'cancelled')", name=op.f('ck_slots_status_known')),
    sa.CheckConstraint('capacity BETWEEN 1 AND 1000', name=op.f('ck_slots_capacity_range')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_slots_ends_after_start')),
    sa.CheckConstraint('seats_taken <= capacity', name=op.f('ck_slots_not_overbooked')),
    sa.CheckConstraint('seats_taken >= 0', name=op.f('ck_slots_seats_not_negative')),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_slots_offering_id_offerings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slots')),
    sa.UniqueConstraint('offering_id', 'starts_at', name='uq_slots_offering_start')
    )
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.create_index('ix_slots_open_by_offering', ['offering_id', 'starts_at'], unique=False, postgresql_where=sa.text("status = 'open'"))

    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('party_size', sa.SmallInteger(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('payment_status', sa.String(length=16), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price_due', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('is_late_cancel', sa.Boolean(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("payment_status IN ('unpaid', 'paid_at_store')", name=op.f('ck_bookings_payment_status_known')),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'checked_in', 'completed', 'rejected', 'cancelled_by_resident', 'cancelled_by_merchant', 'no_show')", name=op.f('ck_bookings_status_known')),
    sa.CheckConstraint('party_size BETWEEN 1 AND 50', name=op.f('ck_bookings_party_range')),
    sa.CheckConstraint('price_due >= 0', name=op.f('ck_bookings_price_not_negative')),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_bookings_offering_id_offerings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_bookings_resident_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_bookings_slot_id_slots'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_bookings_store_id_stores'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('code', name=op.f('uq_bookings_code'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_resident_start', ['resident_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index('ix_bookings_store_start', ['store_id', 'starts_at'], unique=False)
        batch_op.create_index('ux_bookings_active_per_resident', ['slot_id', 'resident_id'], unique=True, postgresql_where=sa.text("status IN ('pending', 'confirmed', 'checked_in')"))

    op.create_table('schedule_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('starts_at', sa.Time(), nullable=True),
    sa.CheckConstraint("(kind = 'extra_slot') = (starts_at IS NOT NULL)", name=op.f('ck_schedule_exceptions_extra_has_time')),
    sa.CheckConstraint("kind IN ('day_off', 'extra_slot')", name=op.f('ck_schedule_exceptions_kind_known')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_schedule_exceptions_schedule_id_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_exceptions'))
    )
    with op.batch_alter_table('schedule_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_exceptions_schedule_id'), ['schedule_id'], unique=False)

    op.create_table('schedule_times',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('starts_at', sa.Time(), nullable=False),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_schedule_times_weekday_range')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_schedule_times_schedule_id_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_times')),
    sa.UniqueConstraint('schedule_id', 'weekday', 'starts_at', name='uq_schedule_times_slot')
    )
    with op.batch_alter_table('schedule_times', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_times_schedule_id'), ['schedule_id'], unique=False)

    op.create_table('booking_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_booking_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_events_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_events'))
    )
    with op.batch_alter_table('booking_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_events_booking_id'), ['booking_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_notifications_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'id'], unique=False)

    op.create_table('offline_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("method IN ('cash', 'card_at_store', 'mobile_wallet_at_store', 'other')", name=op.f('ck_offline_payments_method_known')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_offline_payments_amount_not_negative')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_offline_payments_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_offline_payments_recorded_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['supersedes_id'], ['offline_payments.id'], name=op.f('fk_offline_payments_supersedes_id_offline_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offline_payments'))
    )
    with op.batch_alter_table('offline_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offline_payments_booking_id'), ['booking_id'], unique=False)

    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('party_size', sa.SmallInteger(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('waiting', 'promoted', 'left', 'expired')", name=op.f('ck_waitlist_entries_status_known')),
    sa.CheckConstraint('party_size BETWEEN 1 AND 50', name=op.f('ck_waitlist_entries_party_range')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_waitlist_entries_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_waitlist_entries_resident_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_waitlist_entries_slot_id_slots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries'))
    )
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.create_index('ix_waitlist_queue', ['slot_id', 'id'], unique=False, postgresql_where=sa.text("status = 'waiting'"))
        batch_op.create_index('ux_waitlist_waiting_per_resident', ['slot_id', 'resident_id'], unique=True, postgresql_where=sa.text("status = 'waiting'"))



def downgrade():
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_index('ux_waitlist_waiting_per_resident', postgresql_where=sa.text("status = 'waiting'"))
        batch_op.drop_index('ix_waitlist_queue', postgresql_where=sa.text("status = 'waiting'"))

    op.drop_table('waitlist_entries')
    with op.batch_alter_table('offline_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offline_payments_booking_id'))

    op.drop_table('offline_payments')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')

    op.drop_table('notifications')
    with op.batch_alter_table('booking_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_events_booking_id'))

    op.drop_table('booking_events')
    with op.batch_alter_table('schedule_times', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_times_schedule_id'))

    op.drop_table('schedule_times')
    with op.batch_alter_table('schedule_exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_exceptions_schedule_id'))

    op.drop_table('schedule_exceptions')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ux_bookings_active_per_resident', postgresql_where=sa.text("status IN ('pending', 'confirmed', 'checked_in')"))
        batch_op.drop_index('ix_bookings_store_start')
        batch_op.drop_index(batch_op.f('ix_bookings_slot_id'))
        batch_op.drop_index('ix_bookings_resident_start')

    op.drop_table('bookings')
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_index('ix_slots_open_by_offering', postgresql_where=sa.text("status = 'open'"))

    op.drop_table('slots')
    op.drop_table('schedules')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    op.drop_table('idempotency_keys')
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unsent', postgresql_where=sa.text('sent_at IS NULL'))

    op.drop_table('outbox_emails')
