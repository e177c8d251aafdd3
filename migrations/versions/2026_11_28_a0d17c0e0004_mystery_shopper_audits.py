"""Mystery-shopper audits and the auditor role

Revision ID: a0d17c0e0004
Revises: ad31e0c0a003
Create Date: 2026-11-28 16:30:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'a0d17c0e0004'
down_revision = 'ad31e0c0a003'
branch_labels = None
depends_on = None


OLD_ROLES = "role IN ('resident', 'merchant', 'staff', 'admin')"
NEW_ROLES = "role IN ('resident', 'merchant', 'staff', 'admin', 'auditor')"
OLD_ACTIONS = ("action IN ('verify', 'unverify', 'warn', 'suspend', 'reinstate', 'review_hide', 'review_keep', "
               "'strike_author', 'strike_merchant')")
NEW_ACTIONS = ("action IN ('verify', 'unverify', 'warn', 'suspend', 'reinstate', 'review_hide', 'review_keep', "
               "'strike_author', 'strike_merchant', 'audit_schedule')")


def upgrade():
    op.drop_constraint(op.f('ck_users_role_known'), 'users', type_='check')
    op.create_check_constraint(op.f('ck_users_role_known'), 'users', NEW_ROLES)
    op.drop_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', type_='check')
    op.create_check_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', NEW_ACTIONS)
    op.create_table(
        'audits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('business_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('auditor_id', sa.Integer(), nullable=False),
        sa.Column('quarter', sa.String(length=6), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('checklist', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('scheduled', 'visited', 'passed', 'failed')",
                           name=op.f('ck_audits_status_known')),
        sa.CheckConstraint("quarter ~ '^[0-9]{4}Q[1-4]$'", name=op.f('ck_audits_quarter_format')),
        sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_audits_business_id_businesses'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_audits_store_id_stores'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['auditor_id'], ['users.id'], name=op.f('fk_audits_auditor_id_users'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_audits_booking_id_bookings'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audits')),
    )
    op.create_index('ix_audits_business_created', 'audits', ['business_id', 'created_at'])
    op.create_index('ix_audits_auditor_status', 'audits', ['auditor_id', 'status'])


def downgrade():
    op.drop_index('ix_audits_auditor_status', table_name='audits')
    op.drop_index('ix_audits_business_created', table_name='audits')
    op.drop_table('audits')
    op.execute("DELETE FROM admin_audit_log WHERE action = 'audit_schedule'")
    op.drop_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', type_='check')
    op.create_check_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', OLD_ACTIONS)
    op.execute("UPDATE users SET role = 'resident' WHERE role = 'auditor'")
    op.drop_constraint(op.f('ck_users_role_known'), 'users', type_='check')
    op.create_check_constraint(op.f('ck_users_role_known'), 'users', OLD_ROLES)
