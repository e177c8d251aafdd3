"""Operator's console: merchant verification, warnings, suspension and the admin audit log

Revision ID: ad31e0c0a003
Revises: f0a1b2c3d402
Create Date: 2026-11-28 16:30:00.000000
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401
from sqlalchemy.dialects import postgresql

revision = 'ad31e0c0a003'
down_revision = 'f0a1b2c3d402'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('businesses') as batch:
        batch.add_column(sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('verification_note', sa.String(length=500), server_default='', nullable=False))
        batch.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('suspended_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('suspension_reason', sa.String(length=500), server_default='', nullable=False))
        batch.create_foreign_key(op.f('fk_businesses_verified_by_id_users'), 'users', ['verified_by_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_foreign_key(op.f('fk_businesses_suspended_by_id_users'), 'users', ['suspended_by_id'], ['id'],
                                 ondelete='SET NULL')
    op.create_table(
        'admin_audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('business_id', sa.Integer(), nullable=True),
        sa.Column('review_id', sa.Integer(), nullable=True),
        sa.Column('dispute_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('verify', 'unverify', 'warn', 'suspend', 'reinstate', 'review_hide', "
                           "'review_keep', 'strike_author', 'strike_merchant')",
                           name=op.f('ck_admin_audit_log_action_known')),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_admin_audit_log_actor_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['business_id'], ['businesses.id'],
                                name=op.f('fk_admin_audit_log_business_id_businesses'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_admin_audit_log_review_id_reviews'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'],
                                name=op.f('fk_admin_audit_log_dispute_id_disputes'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_audit_log')),
    )
    op.create_index('ix_admin_audit_log_business', 'admin_audit_log', ['business_id', 'created_at'])


def downgrade():
    op.drop_index('ix_admin_audit_log_business', table_name='admin_audit_log')
    op.drop_table('admin_audit_log')
    with op.batch_alter_table('businesses') as batch:
        batch.drop_constraint(op.f('fk_businesses_suspended_by_id_users'), type_='foreignkey')
        batch.drop_constraint(op.f('fk_businesses_verified_by_id_users'), type_='foreignkey')
        for column in ('suspension_reason', 'suspended_by_id', 'suspended_at', 'verification_note',
                       'verified_by_id', 'verified_at'):
            batch.drop_column(column)
