"""Trust I follow-ups

Revision ID: b13e9a0c0005
Revises: a0d17c0e0004
Create Date: 2026-11-28 16:30:00.000000
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'b13e9a0c0005'
down_revision = 'a0d17c0e0004'
branch_labels = None
depends_on = None


OLD_ACTIONS = ("action IN ('verify', 'unverify', 'warn', 'suspend', 'reinstate', 'review_hide', 'review_keep', "
               "'strike_author', 'strike_merchant', 'audit_schedule')")
NEW_ACTIONS = ("action IN ('verify', 'unverify', 'warn', 'suspend', 'reinstate', 'review_hide', 'review_keep', "
               "'strike_author', 'strike_merchant', 'audit_schedule', 'ledger_settle', 'ledger_waive')")


def upgrade():
    # the admin audit log takes the operator's settle / waive of compensation entries
    op.drop_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', type_='check')
    op.create_check_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', NEW_ACTIONS)


def downgrade():
    op.execute("DELETE FROM admin_audit_log WHERE action IN ('ledger_settle', 'ledger_waive')")
    op.drop_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', type_='check')
    op.create_check_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', OLD_ACTIONS)
