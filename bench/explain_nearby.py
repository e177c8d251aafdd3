"""Print EXPLAIN (ANALYZE, BUFFERS) of the nearby fast path's SQL, for docs/performance.md (a report, not a test).

Usage: DATABASE_URL=... python bench/explain_nearby.py  (a database with offerings, e.g. the bench's after a run)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import clock, create_app, statements  # noqa: E402
from app.discovery import services  # noqa: E402
from app.extensions import db  # noqa: E402
from app.offerings.models import Category  # noqa: E402
from geo.points import LngLat  # noqa: E402

POINT = LngLat(lng=120.16, lat=30.25)  # the demo city's centre (app.demo.HANGZHOU)


def main() -> None:
    app = create_app()
    with app.app_context():
        count = db.session.execute(db.text("SELECT count(*) FROM offerings")).scalar()
        print(f"offerings: {count:,}")
        for sort, title, filters in ((sort, title, filters) for sort in services.FAST_SORTS
                                     for title, filters in (("no filter", services.Filters()),
                                                            ("category food", services.Filters(
                                                                categories=(Category.FOOD,))))):
            query = services.NearbyQuery(point=POINT, filters=filters, sort=sort)
            shape = services.fast_shape(query)
            statement = services._fast_sql(shape)
            now = clock.now()
            values = statement.values(services.fast_params(query, shape, now, now))
            statements.alone(statement.sql, values)  # warm the cache
            plan = statements.alone("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, values)
            print(f"\n### nearby, sort={sort}, 3 km, limit 20, {title}\n")
            print("\n".join(row[0] for row in plan))


if __name__ == "__main__":
    main()
