"""c: demand radar follow-ups: a version of the rolled-up counts, bumped by every statement that changes them

``radar_version`` holds one row; a statement-level trigger on ``demand_counts`` (insert, update, delete,
truncate) sets it to the next value of ``radar_version_seq`` in the writer's transaction. Readers cache what
they computed from ``demand_counts`` under the committed version: a roll-up that commits changes the version,
so a cached answer is never served after it; the sequence never hands out a value twice, even when the
writer rolls back.

Revision ID: c3ad0a4c0008
Revises: c2f0a1b2c007
Create Date: 2026-11-28 20:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'c3ad0a4c0008'
down_revision = 'c2f0a1b2c007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "radar_version",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_radar_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_radar_version")),
    )
    op.execute("CREATE SEQUENCE radar_version_seq OWNED BY radar_version.n")  # dropped with the table
    op.execute("INSERT INTO radar_version (id, n) VALUES (1, nextval('radar_version_seq'))")
    op.execute("""
        CREATE OR REPLACE FUNCTION radar_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE radar_version SET n = nextval('radar_version_seq') WHERE id = 1;
            RETURN NULL;
        END $$""")
    op.execute("""CREATE TRIGGER demand_counts_bump_version AFTER INSERT OR UPDATE OR DELETE ON demand_counts
                  FOR EACH STATEMENT EXECUTE FUNCTION radar_version_bump()""")
    op.execute("""CREATE TRIGGER demand_counts_bump_version_truncate AFTER TRUNCATE ON demand_counts
                  FOR EACH STATEMENT EXECUTE FUNCTION radar_version_bump()""")


def downgrade():
    op.execute("DROP TRIGGER demand_counts_bump_version_truncate ON demand_counts")
    op.execute("DROP TRIGGER demand_counts_bump_version ON demand_counts")
    op.execute("DROP FUNCTION radar_version_bump()")
    op.drop_table("radar_version")  # and its sequence
