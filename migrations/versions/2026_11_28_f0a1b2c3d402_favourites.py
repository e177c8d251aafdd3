"""Favourites: saved experiences and followed stores

Revision ID: f0a1b2c3d402
Revises: c0c1a5e0f001
Create Date: 2026-11-28 16:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'f0a1b2c3d402'
down_revision = 'c0c1a5e0f001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_experiences',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_saved_experiences_offering_id_offerings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_saved_experiences_resident_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resident_id', 'offering_id', name=op.f('pk_saved_experiences'))
    )
    op.create_index(op.f('ix_saved_experiences_offering_id'), 'saved_experiences', ['offering_id'], unique=False)
    op.create_table('store_follows',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_through', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_slot_id', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('notified_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_store_follows_resident_id_users'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_store_follows_store_id_stores'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resident_id', 'store_id', name=op.f('pk_store_follows'))
    )
    op.create_index(op.f('ix_store_follows_store_id'), 'store_follows', ['store_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_store_follows_store_id'), table_name='store_follows')
    op.drop_table('store_follows')
    op.drop_index(op.f('ix_saved_experiences_offering_id'), table_name='saved_experiences')
    op.drop_table('saved_experiences')
