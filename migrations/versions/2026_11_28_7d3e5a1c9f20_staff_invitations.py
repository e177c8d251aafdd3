"""Staff invitations: an owner invites an e-mail address to a store and the invitee accepts or declines;
accepting makes the store_staff row, and nobody's account role changes any more

Existing store_staff rows are the memberships they were: nothing to move. Accounts that were made
'staff' keep that role, but nothing reads it now (membership is the store_staff row).

Revision ID: 7d3e5a1c9f20
Revises: 212449b8e252
Create Date: 2026-11-28 12:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '7d3e5a1c9f20'
down_revision = '212449b8e252'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("email = lower(email)", name=op.f('ck_staff_invitations_email_lowercase')),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_staff_invitations_expires_after_created')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')",
                       name=op.f('ck_staff_invitations_status_known')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_staff_invitations_invited_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['responded_by_id'], ['users.id'],
                            name=op.f('fk_staff_invitations_responded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_staff_invitations_store_id_stores'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_invitations')),
    sa.UniqueConstraint('store_id', 'email', name='uq_staff_invitations_store_email'),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_invitations_token_hash'))
    )
    with op.batch_alter_table('staff_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_invitations_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_invitations_store_id'), ['store_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_invitations_store_id'))
        batch_op.drop_index(batch_op.f('ix_staff_invitations_email'))

    op.drop_table('staff_invitations')
