"""Mystery-shopper audits and the auditor role

Revision ID: a0d17c0e0004
Revises: ad31e0c0a003
Create Date: 2026-11-28 16:30:00.000000
"""
from alembic import op

revision = 'a0d17c0e0004'
down_revision = 'ad31e0c0a003'
branch_labels = None
depends_on = None


OLD_ROLES = "role IN ('resident', 'merchant', 'staff', 'admin')"
NEW_ROLES = "role IN ('resident', 'merchant', 'staff', 'admin', 'auditor')"


def upgrade():
    op.drop_constraint(op.f('ck_users_role_known'), 'users', type_='check')
    op.create_check_constraint(op.f('ck_users_role_known'), 'users', NEW_ROLES)


def downgrade():
    op.execute("UPDATE users SET role = 'resident' WHERE role = 'auditor'")
    op.drop_constraint(op.f('ck_users_role_known'), 'users', type_='check')
    op.create_check_constraint(op.f('ck_users_role_known'), 'users', OLD_ROLES)
