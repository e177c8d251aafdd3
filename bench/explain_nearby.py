"""Print EXPLAIN (ANALYZE, BUFFERS) of the nearby fast path's SQL, for docs/performance.md (a report, not a test).

Usage: DATABASE_URL=... python bench/explain_nearby.py  (a database with offerings, e.g. the bench's after a run)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import clock, create_app  # noqa: E402
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
        for title, filters in (("no filter", services.Filters()),
                               ("category food", services.Filters(categories=(Category.FOOD,)))):
            query = services.NearbyQuery(point=POINT, filters=filters)
            shape = services.fast_shape(query)
            sql, fixed = services._fast_sql(shape)
            params = {**fixed, "lng": POINT.lng, "lat": POINT.lat, "radius_m": 3000.0, "limit": 20,
                      "moment": clock.now()}
            if shape[1]:
                params["categories"] = list(filters.categories)
            connection = db.session.connection()
            connection.exec_driver_sql(sql, params).fetchall()  # warm the cache
            plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
            print(f"\n### nearby, 3 km, limit 20, {title}\n")
            print("\n".join(row[0] for row in plan))


if __name__ == "__main__":
    main()
