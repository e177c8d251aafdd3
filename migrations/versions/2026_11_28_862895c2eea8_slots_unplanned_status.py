"""Slots: an 'unplanned' status for slots a schedule change closed (no longer a magic cancel reason)

Revision ID: 862895c2eea8
Revises: 5c1d2e7a9b01
Create Date: 2026-11-28 10:20:00
"""
from alembic import op

revision = '862895c2eea8'
down_revision = '5c1d2e7a9b01'
branch_labels = None
depends_on = None

# The cancel reason sync_slots used to write, and read back to know which slots it may reopen.
UNPLANNED_REASON = 'No longer in the schedule.'


def upgrade():
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_slots_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_slots_status_known'), "status IN ('open', 'cancelled', 'unplanned')")
    op.execute(f"UPDATE slots SET status = 'unplanned', cancel_reason = NULL "
               f"WHERE status = 'cancelled' AND cancel_reason = '{UNPLANNED_REASON}'")


def downgrade():
    op.execute(f"UPDATE slots SET status = 'cancelled', cancel_reason = '{UNPLANNED_REASON}' "
               f"WHERE status = 'unplanned'")
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_slots_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_slots_status_known'), "status IN ('open', 'cancelled')")
