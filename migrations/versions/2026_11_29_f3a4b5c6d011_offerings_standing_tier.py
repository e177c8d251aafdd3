"""f: offerings.standing_tier: what an experience's rating and its merchant's integrity score add to "Best match",
in tenths (rounded up), kept by triggers, and GiST indexes on (standing_tier[, category], location)

The tier is a whole number held as real: btree_gist's distance on real (``<->``) returns a float, which a GiST
KNN walk may order by beside the location's (the smallint one returns smallint, which it may not); ordering by
both is how the search makes PostgreSQL walk these indexes for one tier.

"Best match" bounds how far a page looks by the most anything can add to proximity. On rated data one ceiling
for every row bounds nothing (a well-rated experience of a well-scored merchant adds as much as proximity
ranges over within 3 km), so a search scored every row in its radius. With the tier indexed beside the
location, each tier is searched nearest first up to the distance where its own ceiling can still reach the
page (app/discovery/services.py, ``_best_match_page``).

The tier is a pure function of rating_count, rating_score and the merchant's stored integrity score
(``offering_standing_tier``, the same weights as ``app.discovery.services.standing_bonus``; a test holds them to
each other). Triggers keep it exact on every write path: an offering's rating or store changes, a merchant's
score is stored or removed, a store moves to another business. ``ix_offerings_rating_score`` goes: nothing reads
the highest rating score any more.

Revision ID: f3a4b5c6d011
Revises: e2f3a4b5c010
Create Date: 2026-11-29 19:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'f3a4b5c6d011'
down_revision = 'e2f3a4b5c010'
branch_labels = None
depends_on = None

TIER = """
CREATE OR REPLACE FUNCTION offering_standing_tier(rating_count integer, rating_score numeric, integrity integer)
RETURNS real LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ceil(10.0 * (0.5 * CASE WHEN rating_count > 0 THEN coalesce(rating_score::float8, 4.0) - 4.0 ELSE 0.0 END
                        + 0.5 * coalesce((integrity::float8 - 80.0) / 20.0, 0.0)))::real
$$
"""

ON_OFFERING = """
CREATE OR REPLACE FUNCTION offerings_set_standing_tier() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.standing_tier := offering_standing_tier(NEW.rating_count, NEW.rating_score,
        (SELECT bi.score FROM stores s JOIN business_integrity bi ON bi.business_id = s.business_id
          WHERE s.id = NEW.store_id));
    RETURN NEW;
END $$
"""

ON_INTEGRITY = """
CREATE OR REPLACE FUNCTION business_integrity_set_standing_tier() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    business integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.business_id ELSE NEW.business_id END;
    score integer := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.score END;
BEGIN
    UPDATE offerings o SET standing_tier = offering_standing_tier(o.rating_count, o.rating_score, score)
      FROM stores s
     WHERE s.business_id = business AND o.store_id = s.id
       AND o.standing_tier <> offering_standing_tier(o.rating_count, o.rating_score, score);
    RETURN NULL;
END $$
"""

ON_STORE = """
CREATE OR REPLACE FUNCTION stores_set_standing_tier() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    score integer := (SELECT bi.score FROM business_integrity bi WHERE bi.business_id = NEW.business_id);
BEGIN
    UPDATE offerings o SET standing_tier = offering_standing_tier(o.rating_count, o.rating_score, score)
     WHERE o.store_id = NEW.id
       AND o.standing_tier <> offering_standing_tier(o.rating_count, o.rating_score, score);
    RETURN NULL;
END $$
"""


def upgrade():
    op.add_column("offerings", sa.Column("standing_tier", sa.REAL(), server_default="0", nullable=False))
    op.execute(TIER)
    op.execute(ON_OFFERING)
    op.execute(ON_INTEGRITY)
    op.execute(ON_STORE)
    # Existing rows: only the rated and those of scored merchants differ from 0.
    op.execute("""UPDATE offerings o SET standing_tier = offering_standing_tier(o.rating_count, o.rating_score,
                      (SELECT bi.score FROM stores s JOIN business_integrity bi ON bi.business_id = s.business_id
                        WHERE s.id = o.store_id))
                   WHERE o.rating_count > 0 OR EXISTS (SELECT FROM stores s JOIN business_integrity bi
                                                         ON bi.business_id = s.business_id WHERE s.id = o.store_id)""")
    op.execute("""CREATE TRIGGER offerings_standing_tier BEFORE INSERT OR UPDATE OF rating_count, rating_score, store_id
                  ON offerings FOR EACH ROW EXECUTE FUNCTION offerings_set_standing_tier()""")
    op.execute("""CREATE TRIGGER business_integrity_standing_tier AFTER INSERT OR DELETE OR UPDATE OF score
                  ON business_integrity FOR EACH ROW EXECUTE FUNCTION business_integrity_set_standing_tier()""")
    op.execute("""CREATE TRIGGER stores_standing_tier AFTER UPDATE OF business_id ON stores
                  FOR EACH ROW WHEN (OLD.business_id IS DISTINCT FROM NEW.business_id)
                  EXECUTE FUNCTION stores_set_standing_tier()""")
    op.execute("CREATE INDEX ix_offerings_tier_location ON offerings USING gist (standing_tier, location)")
    op.execute("CREATE INDEX ix_offerings_tier_category_location ON offerings "
               "USING gist (standing_tier, category, location)")
    op.create_index("ix_offerings_standing_tier", "offerings", ["standing_tier"])
    # "Best match" no longer reads the highest rating score (the tiers bound what ratings add).
    op.drop_index("ix_offerings_rating_score", table_name="offerings")


def downgrade():
    op.create_index("ix_offerings_rating_score", "offerings", ["rating_score"])
    op.drop_index("ix_offerings_standing_tier", table_name="offerings")
    op.execute("DROP INDEX ix_offerings_tier_category_location")
    op.execute("DROP INDEX ix_offerings_tier_location")
    op.execute("DROP TRIGGER stores_standing_tier ON stores")
    op.execute("DROP TRIGGER business_integrity_standing_tier ON business_integrity")
    op.execute("DROP TRIGGER offerings_standing_tier ON offerings")
    op.execute("DROP FUNCTION stores_set_standing_tier()")
    op.execute("DROP FUNCTION business_integrity_set_standing_tier()")
    op.execute("DROP FUNCTION offerings_set_standing_tier()")
    op.execute("DROP FUNCTION offering_standing_tier(integer, numeric, integer)")
    op.drop_column("offerings", "standing_tier")
