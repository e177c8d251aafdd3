"""SQLAlchemy expressions for geography columns: radius, nearest-first, boxes, grid cells.

Points are bound as parameters so the planner sees a constant and the GiST index can
order a KNN scan (``<->``) or answer ``ST_DWithin``.
"""

from __future__ import annotations

from geoalchemy2 import Geography, Geometry
from sqlalchemy import ColumnElement, and_, cast, func, literal

from geo.points import SRID, BBox, LngLat


def _bound(value) -> ColumnElement:
    """A literal for a Python value; a SQL expression (a named ``bindparam``) as it is."""
    return value if isinstance(value, ColumnElement) else literal(value)


def geography_point(point: LngLat) -> ColumnElement:
    """A geography(POINT, 4326) constant for ``point`` (its lng/lat may be named bind parameters)."""
    return cast(func.ST_SetSRID(func.ST_MakePoint(_bound(point.lng), _bound(point.lat)), SRID),
                Geography(srid=SRID))


def within_radius(column, point: LngLat, radius_m: float) -> ColumnElement:
    """True where ``column`` lies within ``radius_m`` metres of ``point`` on the spheroid (index-assisted).

    This is ``ST_DWithin`` spelled out as the index box test and the exact test, which is what
    PostGIS rewrites it to. Written as ``ST_DWithin`` the planner estimates the selectivity of the
    bare point (PostGIS 3.3 ignores the distance), expects almost no rows in any radius and so never
    walks the GiST index in KNN order; ``&&`` is estimated from the column's statistics.
    """
    centre = geography_point(point)
    radius = radius_m if isinstance(radius_m, ColumnElement) else literal(float(radius_m))
    return and_(column.op("&&")(func._ST_Expand(centre, radius)),
                func._ST_DWithin(column, centre, radius, literal(True)))


def distance_m(column, point: LngLat) -> ColumnElement:
    """Distance in metres on the spheroid between ``column`` and ``point``."""
    return func.ST_Distance(column, geography_point(point))


def nearest_first(column, point: LngLat) -> ColumnElement:
    """The KNN ordering key ``column <-> point`` that the GiST index can scan in order."""
    return column.distance_centroid(geography_point(point))


def envelope(box: BBox) -> ColumnElement:
    """The box as a geometry(POLYGON, 4326)."""
    return func.ST_MakeEnvelope(literal(box.min_lng), literal(box.min_lat), literal(box.max_lng),
                                literal(box.max_lat), SRID)


def in_bbox(column, box: BBox) -> ColumnElement:
    """True where ``column`` is inside the box (bounding-box test on the GiST index, then exact)."""
    as_geometry = cast(column, Geometry(srid=SRID))
    return func.ST_Intersects(column, cast(envelope(box), Geography(srid=SRID))) & \
        func.ST_Intersects(as_geometry, envelope(box))


def lng_of(column) -> ColumnElement:
    return func.ST_X(cast(column, Geometry(srid=SRID)))


def lat_of(column) -> ColumnElement:
    return func.ST_Y(cast(column, Geometry(srid=SRID)))


def grid_cell(column, cell_deg: float) -> tuple[ColumnElement, ColumnElement]:
    """Integer (x, y) of the square grid cell of ``cell_deg`` degrees holding ``column``."""
    return (func.floor(lng_of(column) / literal(cell_deg)).label("gx"),
            func.floor(lat_of(column) / literal(cell_deg)).label("gy"))


def cluster_cell_deg(box: BBox, cells_across: int = 16) -> float:
    """A power-of-two cell size in degrees giving about ``cells_across`` cells over the box.

    Powers of two keep the same cells while the map pans, so clusters do not jump.
    """
    size = max(box.width, box.height) / cells_across
    power = 1.0
    while power > size:
        power /= 2
    while power * 2 <= size:
        power *= 2
    return power
