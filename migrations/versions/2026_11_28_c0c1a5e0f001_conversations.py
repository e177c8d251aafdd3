"""Conversations: store and booking threads, messages, read marks, blocks, quick replies

Revision ID: c0c1a5e0f001
Revises: a9d14e7c3b58
Create Date: 2026-11-28 16:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'c0c1a5e0f001'
down_revision = 'a9d14e7c3b58'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('last_seq', sa.Integer(), server_default='0', nullable=False),
    sa.Column('resident_read_seq', sa.Integer(), server_default='0', nullable=False),
    sa.Column('store_read_seq', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('awaiting_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_seconds', sa.Integer(), nullable=True),
    sa.CheckConstraint('last_seq >= 0 AND resident_read_seq >= 0 AND store_read_seq >= 0',
                       name=op.f('ck_conversations_seq_not_negative')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_conversations_booking_id_bookings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'],
                            name=op.f('fk_conversations_offering_id_offerings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_conversations_resident_id_users'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_conversations_store_id_stores'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_conversations_booking_id'))
    )
    op.create_index(op.f('ix_conversations_first_response_at'), 'conversations', ['first_response_at'], unique=False)
    op.create_index('ix_conversations_store_last', 'conversations', ['store_id', 'last_message_at'], unique=False)
    op.create_index('ix_conversations_resident_last', 'conversations', ['resident_id', 'last_message_at'],
                    unique=False)
    op.create_index('ux_conversations_enquiry', 'conversations', ['store_id', 'resident_id', 'offering_id'],
                    unique=True, postgresql_where=sa.text('booking_id IS NULL AND offering_id IS NOT NULL'))
    op.create_index('ux_conversations_enquiry_store', 'conversations', ['store_id', 'resident_id'], unique=True,
                    postgresql_where=sa.text('booking_id IS NULL AND offering_id IS NULL'))
    op.create_table('conversation_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=True),
    sa.Column('sender_side', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('char_length(body) BETWEEN 1 AND 2000', name=op.f('ck_conversation_messages_body_length')),
    sa.CheckConstraint("sender_side IN ('resident', 'store')",
                       name=op.f('ck_conversation_messages_sender_side_known')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_conversation_messages_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_conversation_messages_sender_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_messages')),
    sa.UniqueConstraint('conversation_id', 'seq', name=op.f('uq_conversation_messages_conversation_id'))
    )
    op.create_table('conversation_blocks',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_conversation_blocks_resident_id_users'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_conversation_blocks_store_id_stores'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resident_id', 'store_id', name=op.f('pk_conversation_blocks'))
    )
    op.create_table('message_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=8), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reason IN ('spam', 'abuse', 'scam', 'other')", name=op.f('ck_message_reports_reason_known')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_message_reports_status_known')),
    sa.ForeignKeyConstraint(['message_id'], ['conversation_messages.id'],
                            name=op.f('fk_message_reports_message_id_conversation_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_message_reports_reporter_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_reports')),
    sa.UniqueConstraint('message_id', 'reporter_id', name=op.f('uq_message_reports_message_id'))
    )
    op.create_index(op.f('ix_message_reports_message_id'), 'message_reports', ['message_id'], unique=False)
    op.create_table('quick_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('char_length(body) BETWEEN 1 AND 2000', name=op.f('ck_quick_replies_body_length')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_quick_replies_store_id_stores'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quick_replies'))
    )
    op.create_index(op.f('ix_quick_replies_store_id'), 'quick_replies', ['store_id'], unique=False)


def downgrade():
    op.drop_table('quick_replies')
    op.drop_table('message_reports')
    op.drop_table('conversation_blocks')
    op.drop_table('conversation_messages')
    op.drop_table('conversations')
