"""Opening hours may cross midnight: closing at or before opening closes the next day.

Weekly intervals lose their "closes after opens" check; a dated exception with hours needs both times,
in either order. Going down splits each overnight weekly interval at midnight (its tail moves to the next
weekday) and cuts overnight exceptions at 23:59:59: the exceptions' tails are lost.

Revision ID: 2a317bbee540
Revises: 862895c2eea8
Create Date: 2026-11-28 12:30:00
"""
from alembic import op

revision = '2a317bbee540'
down_revision = '862895c2eea8'
branch_labels = None
depends_on = None

HOURS = "is_closed OR (opens_at IS NOT NULL AND closes_at IS NOT NULL)"
HOURS_IN_ORDER = "is_closed OR (opens_at IS NOT NULL AND closes_at IS NOT NULL AND closes_at > opens_at)"


def upgrade():
    op.drop_constraint(op.f('ck_opening_hours_closes_after_opens'), 'opening_hours', type_='check')
    op.drop_constraint(op.f('ck_hours_exceptions_closed_or_hours'), 'hours_exceptions', type_='check')
    op.create_check_constraint(op.f('ck_hours_exceptions_closed_or_hours'), 'hours_exceptions', HOURS)


def downgrade():
    # The tail after midnight becomes an interval of the next weekday; the evening part ends at 23:59:59.
    op.execute("""
        INSERT INTO opening_hours (store_id, weekday, opens_at, closes_at)
        SELECT store_id, (weekday + 1) % 7, time '00:00', closes_at FROM opening_hours
        WHERE closes_at <= opens_at AND closes_at > time '00:00'
    """)
    op.execute("UPDATE opening_hours SET closes_at = time '23:59:59' "
               "WHERE closes_at <= opens_at AND opens_at < time '23:59:59'")
    op.execute("DELETE FROM opening_hours WHERE closes_at <= opens_at")
    op.execute("UPDATE hours_exceptions SET closes_at = time '23:59:59' "
               "WHERE NOT is_closed AND closes_at <= opens_at AND opens_at < time '23:59:59'")
    op.execute("UPDATE hours_exceptions SET is_closed = true, opens_at = NULL, closes_at = NULL "
               "WHERE NOT is_closed AND closes_at <= opens_at")
    op.drop_constraint(op.f('ck_hours_exceptions_closed_or_hours'), 'hours_exceptions', type_='check')
    op.create_check_constraint(op.f('ck_hours_exceptions_closed_or_hours'), 'hours_exceptions', HOURS_IN_ORDER)
    op.create_check_constraint(op.f('ck_opening_hours_closes_after_opens'), 'opening_hours',
                               'closes_at > opens_at')
