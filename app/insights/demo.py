"""A year of believable demand for the demo city, written straight into the roll-up (one SQL statement).

People search more at lunch and in the evening, more at weekends (and from mid-morning then); each
district has its own mix of categories; some pockets find nothing (pottery in Binjiang: no studio there),
and the demo studio's pottery class by West Lake overflows its waiting list at weekends. The raw search log
is not filled: a year of it would be pruned to 90 days at once, and the roll-up is what the radar reads.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import text

from app.extensions import db
from app.insights.models import ALL, WORD_PREFIX
from app.insights.services import RES_CITY, RES_FINE, cell_of

DEMO_MARK = "demo"
DAYS = 365
SEARCHER_POOL = 4000

# (district, lat, lng, spots, weight, {category: share}, {category: share of zero results}, words that found nothing)
_AREAS = (
    ("West Lake", 30.2530, 120.1530, 14, 1.6,
     {"class_workshop": 3, "food_tasting": 3, "beauty_makeup": 2, "fashion_fitting": 1, "kids_family": 2},
     {"kids_family": 0.25}, ("油画",)),
    ("Wulin", 30.2770, 120.1640, 10, 1.3,
     {"beauty_makeup": 3, "fitness_coaching": 3, "class_workshop": 2, "wellness_massage": 2},
     {"class_workshop": 0.35}, ("陶艺",)),
    ("Binjiang", 30.2080, 120.2110, 10, 1.2,
     {"class_workshop": 4, "fitness_coaching": 3, "kids_family": 3, "food_tasting": 1},
     {"class_workshop": 0.85, "kids_family": 0.4}, ("pottery", "陶艺", "拉坯")),
    ("Shangcheng", 30.2500, 120.1700, 9, 1.2,
     {"food_tasting": 3, "wellness_massage": 3, "fashion_fitting": 2, "kids_family": 2},
     {"fashion_fitting": 0.3}, ("汉服",)),
    ("Qianjiang New Town", 30.2460, 120.2110, 8, 1.1,
     {"fitness_coaching": 4, "beauty_makeup": 2, "wellness_massage": 2},
     {"wellness_massage": 0.3}, ()),
    ("Xixi", 30.2700, 120.0640, 6, 0.8, {"kids_family": 3, "class_workshop": 2, "food_tasting": 2},
     {"class_workshop": 0.5}, ("escape room",)),
    ("Gongshu", 30.3190, 120.1420, 6, 0.8, {"food_tasting": 3, "wellness_massage": 2, "kids_family": 2}, {}, ()),
    ("Xiaoshan", 30.1620, 120.2640, 5, 0.7, {"fitness_coaching": 2, "kids_family": 3, "beauty_makeup": 2},
     {"beauty_makeup": 0.45}, ()),
)
# The demo studio's pottery class on Beishan Road: full at weekends, residents left on the waiting list.
_OVERFLOW_SPOT = (30.2565, 120.1478, "class_workshop")


def _spots(rng: random.Random) -> list[tuple]:
    """Return (cell9, cell7, category, weight, zero share, word) for every place people search from."""
    spots = []
    for _name, lat, lng, count, weight, mix, zeros, words in _AREAS:
        categories, shares = zip(*mix.items(), strict=True)
        for i in range(count * 3):  # many small places: the map shows a neighbourhood, not a few dots
            s_lat, s_lng = lat + rng.gauss(0, 0.009), lng + rng.gauss(0, 0.01)
            category = rng.choices(categories, weights=shares)[0]
            word = words[i % len(words)] if words and category in zeros else None
            spots.append((cell_of(s_lat, s_lng, RES_FINE), cell_of(s_lat, s_lng, RES_CITY), category,
                           weight * rng.uniform(0.2, 0.47), zeros.get(category, 0.06), word))
    return spots


_FILL = text("""
WITH spot AS (
    SELECT * FROM unnest(CAST(:cell9 AS bigint[]), CAST(:cell7 AS bigint[]), CAST(:category AS text[]),
                         CAST(:weight AS float8[]), CAST(:zero AS float8[]), CAST(:word AS text[]),
                         CAST(:overflow AS bool[]))
        AS s(cell9, cell7, category, weight, zero, word, overflow)
), hours AS (
    SELECT s.*, d::date AS day, h AS hour, random() AS pick,
           -- lunch and evening peaks; weekends busier and earlier; demand grows through the year
           s.weight * (CASE WHEN h BETWEEN 12 AND 13 THEN 1.6 WHEN h BETWEEN 18 AND 21 THEN 2.0
                            WHEN h BETWEEN 10 AND 11 AND EXTRACT(isodow FROM d) >= 6 THEN 1.8
                            WHEN h < 9 OR h > 22 THEN 0.25 ELSE 0.8 END)
                    * (CASE WHEN EXTRACT(isodow FROM d) >= 6 THEN 1.7 ELSE 1.0 END)
                    * (0.6 + 0.4 * (d::date - CAST(:first AS date)) / :days) AS rate,
           -- beyond the 90 days the pages show, fewer rows of more searches each: the same totals, less to load
           CASE WHEN d::date > CAST(:last AS date) - 90 THEN 1 ELSE 4 END AS lump
    FROM spot s, generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d,
         generate_series(8, 22) AS h
), busy AS (
    SELECT *, lump * (1 + floor(random() * 3 * rate)::int) AS searches FROM hours WHERE pick * lump < 0.11 * rate
), rows AS (
    SELECT b.*, CASE WHEN b.searches = 1 THEN ARRAY[1 + floor(random() * :pool)::bigint]
                     ELSE ARRAY[1 + floor(random() * :pool)::bigint, 1 + floor(random() * :pool)::bigint] END AS who,
           floor(b.searches * b.zero + random())::int AS zero_n,
           CASE WHEN b.overflow AND EXTRACT(isodow FROM b.day) >= 6 THEN 1 + floor(random() * 3)::int ELSE 0 END
               AS overflow_n
    FROM busy b
), keyed AS (
    SELECT res, cell, k.category, day, CASE WHEN c.res = :fine THEN 0 ELSE hour END AS hour, searches,
           least(zero_n, searches) AS zero_n, overflow_n, who
    FROM rows r,
         LATERAL (VALUES (:fine, r.cell9), (:city, r.cell7)) AS c(res, cell),
         LATERAL (SELECT r.category UNION ALL SELECT :all
                  UNION ALL SELECT :word_prefix || r.word WHERE r.word IS NOT NULL AND r.zero_n > 0) AS k(category)
)
INSERT INTO demand_counts AS d (res, cell, category, day, hour, searches, zero_results, few_results,
                                waitlist_overflows, searchers)
SELECT res, cell, category, day, hour,
       sum(CASE WHEN category LIKE :word_like THEN zero_n ELSE searches END),
       sum(zero_n), sum(CASE WHEN category LIKE :word_like THEN 0 ELSE (searches - zero_n) / 3 END),
       sum(CASE WHEN category LIKE :word_like THEN 0 ELSE overflow_n END),
       (ARRAY(SELECT DISTINCT x FROM unnest(array_agg_flat(who)) AS x LIMIT :k))
FROM keyed GROUP BY res, cell, category, day, hour
ON CONFLICT (res, cell, category, day, hour) DO NOTHING
""")


def load_demo_demand(today: date, *, k: int = 10, seed: int = 16) -> int:
    """Fill the radar's roll-up with the demo city's year of demand up to ``today``; return rows added.

    Idempotent: a second call adds only the days since the last one. Flushes, never commits.
    """
    db.session.execute(text("INSERT INTO rollup_marks (name, last_id) VALUES (:n, 0) ON CONFLICT DO NOTHING"),
                       {"n": DEMO_MARK})
    last_at = db.session.execute(text("SELECT last_at FROM rollup_marks WHERE name = :n FOR UPDATE"),
                                 {"n": DEMO_MARK}).scalar()
    first = today - timedelta(days=DAYS - 1) if last_at is None else last_at.date() + timedelta(days=1)
    if first > today:
        return 0
    rng = random.Random(seed)
    spots = _spots(rng)
    o_lat, o_lng, o_category = _OVERFLOW_SPOT
    spots += [(cell_of(o_lat, o_lng, RES_FINE), cell_of(o_lat, o_lng, RES_CITY), o_category, 1.4, 0.0, None)]
    overflow = [False] * (len(spots) - 1) + [True]
    db.session.execute(text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000})
    db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    db.session.execute(text("""
        CREATE OR REPLACE AGGREGATE pg_temp.array_agg_flat(anycompatiblearray) (
            SFUNC = array_cat, STYPE = anycompatiblearray, INITCOND = '{}')"""))
    cells9, cells7, categories, weights, zeros, words = zip(*spots, strict=True)
    added = db.session.execute(text(str(_FILL).replace("array_agg_flat(", "pg_temp.array_agg_flat(")), {
        "cell9": list(cells9), "cell7": list(cells7), "category": list(categories), "weight": list(weights),
        "zero": list(zeros), "word": list(words), "overflow": overflow, "first": first, "last": today,
        "days": DAYS, "pool": SEARCHER_POOL, "k": k, "fine": RES_FINE, "city": RES_CITY, "all": ALL,
        "word_prefix": WORD_PREFIX, "word_like": WORD_PREFIX + "%"}).rowcount
    db.session.execute(text("RESET work_mem"))
    db.session.execute(text("UPDATE rollup_marks SET last_at = :at WHERE name = :n"),
                       {"at": datetime(today.year, today.month, today.day), "n": DEMO_MARK})
    return added
