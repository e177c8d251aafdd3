"""Audits: a failed audit's console case (closed with a note), the checklist's photos; the admin log takes
audit_close

Revision ID: c1a0d17c0006
Revises: b13e9a0c0005
Create Date: 2026-11-28 20:10:00.000000
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'c1a0d17c0006'
down_revision = 'b13e9a0c0005'
branch_labels = None
depends_on = None


OLD_ACTIONS = ("action IN ('verify', 'unverify', 'warn', 'suspend', 'reinstate', 'review_hide', 'review_keep', "
               "'strike_author', 'strike_merchant', 'audit_schedule', 'ledger_settle', 'ledger_waive')")
NEW_ACTIONS = ("action IN ('verify', 'unverify', 'warn', 'suspend', 'reinstate', 'review_hide', 'review_keep', "
               "'strike_author', 'strike_merchant', 'audit_schedule', 'ledger_settle', 'ledger_waive', "
               "'audit_close')")


def upgrade():
    op.add_column('audits', sa.Column('case_closed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('audits', sa.Column('case_note', sa.Text(), server_default='', nullable=False))
    op.create_table('audit_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('position BETWEEN 0 AND 2', name=op.f('ck_audit_photos_position_range')),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], name=op.f('fk_audit_photos_audit_id_audits'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_audit_photos_image_id_images'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_photos')),
    sa.UniqueConstraint('audit_id', 'position', name=op.f('uq_audit_photos_audit_id'))
    )
    op.create_index(op.f('ix_audit_photos_image_id'), 'audit_photos', ['image_id'], unique=False)
    op.drop_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', type_='check')
    op.create_check_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', NEW_ACTIONS)


def downgrade():
    op.drop_index(op.f('ix_audit_photos_image_id'), table_name='audit_photos')
    op.drop_table('audit_photos')
    op.execute("DELETE FROM admin_audit_log WHERE action = 'audit_close'")
    op.drop_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', type_='check')
    op.create_check_constraint(op.f('ck_admin_audit_log_action_known'), 'admin_audit_log', OLD_ACTIONS)
    op.drop_column('audits', 'case_note')
    op.drop_column('audits', 'case_closed_at')
