"""Seat interests ("tell me when a seat frees" where no waitlist applies); photos in conversation messages

Revision ID: c2f0a1b2c007
Revises: c1a0d17c0006
Create Date: 2026-11-28 20:10:00.000000
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'c2f0a1b2c007'
down_revision = 'c1a0d17c0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('seat_interests',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_seat_interests_offering_id_offerings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_seat_interests_resident_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resident_id', 'offering_id', name=op.f('pk_seat_interests'))
    )
    op.create_index(op.f('ix_seat_interests_offering_id'), 'seat_interests', ['offering_id'], unique=False)
    op.create_index('ix_seat_interests_created_at', 'seat_interests', ['created_at'], unique=False)
    op.create_table('conversation_message_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('position BETWEEN 0 AND 2', name=op.f('ck_conversation_message_photos_position_range')),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_conversation_message_photos_image_id_images'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['message_id'], ['conversation_messages.id'],
                            name=op.f('fk_conversation_message_photos_message_id_conversation_messages'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_message_photos')),
    sa.UniqueConstraint('message_id', 'position', name=op.f('uq_conversation_message_photos_message_id'))
    )
    op.create_index(op.f('ix_conversation_message_photos_image_id'), 'conversation_message_photos', ['image_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_conversation_message_photos_image_id'), table_name='conversation_message_photos')
    op.drop_table('conversation_message_photos')
    op.drop_index('ix_seat_interests_created_at', table_name='seat_interests')
    op.drop_index(op.f('ix_seat_interests_offering_id'), table_name='seat_interests')
    op.drop_table('seat_interests')
