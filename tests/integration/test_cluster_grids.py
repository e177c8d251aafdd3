"""Map clusters from the precomputed grids: the coarse grid answers city-wide boxes, and the
counts always add up to the offerings in view."""

from datetime import UTC, datetime

from app.discovery import services
from geo.points import BBox
from tests import factories as f

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def _spread(n: int) -> None:
    for index in range(n):
        f.create_offering(lng=120.0 + (index % 10) * 0.03, lat=30.1 + (index // 10) * 0.03)


def test_a_city_wide_box_is_answered_from_the_coarse_grid_and_counts_add_up(db):
    _spread(60)
    services.refresh_grid(db.session.connection(), concurrently=False)
    box = BBox(119.99, 30.09, 120.31, 30.41)  # 0.32 degrees: cells of 1/64 degree and up
    assert next(t for t, sc in reversed(services.GRIDS) if services.cluster_cell_deg(box) * sc >= 1) == \
        "offering_grid_coarse"
    view = services.in_view(box, services.Filters(), NOW, max_features=10)
    assert view.mode == "clusters"
    assert len(view.clusters) <= 10
    assert sum(c["count"] for c in view.clusters) == 60 == view.total


def test_a_category_filter_reaches_the_coarse_grid(db):
    _spread(30)
    f.create_offering(lng=120.05, lat=30.2, category="food_tasting")
    services.refresh_grid(db.session.connection(), concurrently=False)
    box = BBox(119.99, 30.09, 120.31, 30.41)
    view = services.in_view(box, services.Filters(categories=("class_workshop",)), NOW, max_features=5)
    assert view.mode == "clusters" and view.total == 30
