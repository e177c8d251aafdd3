"""Accounts: the language a user chose (en or zh_CN; empty means the browser's, then the site's)

Revision ID: b7c4e2a91d33
Revises: 0fa0be85e422
Create Date: 2026-11-28 13:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b7c4e2a91d33'
down_revision = '0fa0be85e422'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))
        batch_op.create_check_constraint(op.f('ck_users_locale_known'), "locale IN ('en', 'zh_CN')")


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_locale_known'), type_='check')
        batch_op.drop_column('locale')
