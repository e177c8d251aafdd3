"""geo.points: parsing untrusted coordinates, WKT/WKB conversion, great-circle distance."""

from __future__ import annotations

import math

import pytest
from geoalchemy2.elements import WKBElement, WKTElement
from shapely import wkb
from shapely.geometry import Point

from geo.points import SRID, InvalidCoordinates, LngLat, haversine_m

# -- parse: accepted -------------------------------------------------------------

@pytest.mark.parametrize(
    ("lng", "lat", "expected"),
    [
        (0, 0, (0.0, 0.0)),
        (-180, -90, (-180.0, -90.0)),
        (180, 90, (180.0, 90.0)),
        (-180.0, 90.0, (-180.0, 90.0)),
        (120.149, 30.246, (120.149, 30.246)),
        ("120.15", "30.25", (120.15, 30.25)),
        (" 120.15 ", " 30.25 ", (120.15, 30.25)),
        ("-180", "-90", (-180.0, -90.0)),
        ("180", "90", (180.0, 90.0)),
        ("1e1", "-2.5E1", (10.0, -25.0)),
    ],
)
def test_parse_accepts_points_on_earth_including_boundaries(lng, lat, expected):
    point = LngLat.parse(lng, lat)
    assert (point.lng, point.lat) == expected
    assert isinstance(point.lng, float) and isinstance(point.lat, float)


def test_parse_takes_longitude_first():
    point = LngLat.parse(120.0, 30.0)
    assert point.lng == 120.0
    assert point.lat == 30.0


# -- parse: refused --------------------------------------------------------------

@pytest.mark.parametrize(
    ("lat", "message"),
    [
        (90.0001, "must be between -90 and 90."),
        (-90.0001, "must be between -90 and 90."),
        ("91", "must be between -90 and 90."),
        (180, "must be between -90 and 90."),
        (float("nan"), "must be a finite number."),
        (float("inf"), "must be a finite number."),
        (float("-inf"), "must be a finite number."),
        ("NaN", "must be a finite number."),
        ("nan", "must be a finite number."),
        ("inf", "must be a finite number."),
        ("-Infinity", "must be a finite number."),
        ("abc", "must be a number."),
        ("30,25", "must be a number."),
        ("30.25N", "must be a number."),
        (True, "must be a number."),
        (False, "must be a number."),
        ([30.25], "must be a number."),
        ((30.25,), "must be a number."),
        ({"lat": 30.25}, "must be a number."),
        (None, "is required."),
        ("", "is required."),
        ("   ", "is required."),
    ],
)
def test_parse_refuses_bad_latitude_with_a_field_message(lat, message):
    with pytest.raises(InvalidCoordinates) as excinfo:
        LngLat.parse(120.0, lat)
    assert excinfo.value.errors == {"lat": message}


@pytest.mark.parametrize(
    ("lng", "message"),
    [
        (-180.5, "must be between -180 and 180."),
        (180.0001, "must be between -180 and 180."),
        ("360", "must be between -180 and 180."),
        (float("nan"), "must be a finite number."),
        (float("inf"), "must be a finite number."),
        ("NaN", "must be a finite number."),
        ("abc", "must be a number."),
        (True, "must be a number."),
        ([120.0, 30.0], "must be a number."),
        (None, "is required."),
        ("", "is required."),
    ],
)
def test_parse_refuses_bad_longitude_with_a_field_message(lng, message):
    with pytest.raises(InvalidCoordinates) as excinfo:
        LngLat.parse(lng, 30.0)
    assert excinfo.value.errors == {"lng": message}


def test_parse_reports_both_fields_at_once():
    with pytest.raises(InvalidCoordinates) as excinfo:
        LngLat.parse("abc", 90.0001)
    assert excinfo.value.errors == {"lng": "must be a number.", "lat": "must be between -90 and 90."}
    text = str(excinfo.value)
    assert "lng: must be a number." in text
    assert "lat: must be between -90 and 90." in text


def test_parse_reports_both_missing_fields():
    with pytest.raises(InvalidCoordinates) as excinfo:
        LngLat.parse(None, "")
    assert excinfo.value.errors == {"lng": "is required.", "lat": "is required."}


def test_invalid_coordinates_is_a_value_error():
    with pytest.raises(ValueError, match="lat: must be a finite number"):
        LngLat.parse(0, "NaN")


def test_lnglat_is_immutable():
    point = LngLat(lng=1.0, lat=2.0)
    with pytest.raises(AttributeError):
        point.lat = 3.0  # type: ignore[misc]


# -- conversion ------------------------------------------------------------------

def test_to_wkt_writes_longitude_first_at_full_precision():
    point = LngLat(lng=120.123456789012, lat=-30.987654321098)
    assert point.to_wkt() == "POINT(120.123456789012 -30.987654321098)"


def test_to_element_is_a_plain_wkt_element_in_wgs84():
    element = LngLat(lng=120.149, lat=30.246).to_element()
    assert isinstance(element, WKTElement)
    assert element.srid == SRID == 4326
    assert element.desc == "POINT(120.149 30.246)"


@pytest.mark.parametrize(
    "point",
    [
        LngLat(lng=120.149, lat=30.246),
        LngLat(lng=-73.985656, lat=40.748433),
        LngLat(lng=-180.0, lat=-90.0),
        LngLat(lng=180.0, lat=90.0),
        LngLat(lng=0.1 + 0.2, lat=1 / 3),
        LngLat(lng=1e-12, lat=-1e-12),
    ],
)
def test_round_trip_through_wkt_and_wkb(point):
    assert LngLat.from_element(point.to_element()) == point
    assert LngLat.from_element(point.to_wkt()) == point
    as_wkb = WKBElement(wkb.dumps(Point(point.lng, point.lat), srid=SRID), srid=SRID, extended=True)
    assert LngLat.from_element(as_wkb) == point


def test_from_element_reads_longitude_as_x():
    assert LngLat.from_element(WKTElement("POINT(10 20)", srid=SRID)) == LngLat(lng=10.0, lat=20.0)
    assert LngLat.from_element("SRID=4326;POINT(-5.5 45.25)") == LngLat(lng=-5.5, lat=45.25)


def test_from_element_of_none_is_none():
    assert LngLat.from_element(None) is None


# -- haversine -------------------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8


def test_one_degree_of_latitude():
    distance = haversine_m(LngLat(lng=0, lat=0), LngLat(lng=0, lat=1))
    assert distance == pytest.approx(111_195, rel=1e-3)
    assert distance == pytest.approx(2 * math.pi * EARTH_RADIUS_M / 360, rel=1e-12)


def test_one_degree_of_longitude_shrinks_with_latitude():
    at_equator = haversine_m(LngLat(lng=0, lat=0), LngLat(lng=1, lat=0))
    at_60 = haversine_m(LngLat(lng=0, lat=60), LngLat(lng=1, lat=60))
    assert at_equator == pytest.approx(111_195, rel=1e-3)
    # Along a parallel the great circle is slightly shorter than the parallel itself.
    assert at_60 == pytest.approx(at_equator * math.cos(math.radians(60)), rel=1e-4)
    assert at_60 < at_equator * math.cos(math.radians(60))


def test_quarter_meridian_and_antipodes():
    assert haversine_m(LngLat(lng=0, lat=0), LngLat(lng=0, lat=90)) == pytest.approx(
        math.pi / 2 * EARTH_RADIUS_M, rel=1e-12)
    assert haversine_m(LngLat(lng=0, lat=0), LngLat(lng=180, lat=0)) == pytest.approx(
        math.pi * EARTH_RADIUS_M, rel=1e-12)
    assert haversine_m(LngLat(lng=0, lat=90), LngLat(lng=0, lat=-90)) == pytest.approx(
        math.pi * EARTH_RADIUS_M, rel=1e-12)


def test_crossing_the_antimeridian_takes_the_short_way():
    distance = haversine_m(LngLat(lng=179.5, lat=0), LngLat(lng=-179.5, lat=0))
    assert distance == pytest.approx(111_195, rel=1e-3)


@pytest.mark.parametrize(
    ("a", "b", "metres"),
    [
        # Paris (Notre-Dame) to London (Charing Cross): about 343 km.
        (LngLat(lng=2.3499, lat=48.8530), LngLat(lng=-0.1246, lat=51.5073), 343_500),
        # New York (JFK) to London (Heathrow): about 5,540 km on the sphere.
        (LngLat(lng=-73.7781, lat=40.6413), LngLat(lng=-0.4543, lat=51.4700), 5_540_000),
    ],
)
def test_known_city_distances(a, b, metres):
    assert haversine_m(a, b) == pytest.approx(metres, rel=5e-3)


def _central_angle_by_vectors(a: LngLat, b: LngLat) -> float:
    """The angle between the two points' unit vectors: an independent formula to compare with."""
    def unit(p: LngLat) -> tuple[float, float, float]:
        phi, lmb = math.radians(p.lat), math.radians(p.lng)
        return (math.cos(phi) * math.cos(lmb), math.cos(phi) * math.sin(lmb), math.sin(phi))

    (ax, ay, az), (bx, by, bz) = unit(a), unit(b)
    cross = math.hypot(ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx)
    return math.atan2(cross, ax * bx + ay * by + az * bz)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (LngLat(lng=120.1490, lat=30.2460), LngLat(lng=121.4737, lat=31.2304)),
        (LngLat(lng=120.1490, lat=30.2460), LngLat(lng=120.1491, lat=30.2461)),
        (LngLat(lng=-122.4194, lat=37.7749), LngLat(lng=151.2093, lat=-33.8688)),
        (LngLat(lng=-70.0, lat=-89.9), LngLat(lng=110.0, lat=-89.9)),
    ],
)
def test_haversine_agrees_with_the_vector_formula(a, b):
    assert haversine_m(a, b) == pytest.approx(EARTH_RADIUS_M * _central_angle_by_vectors(a, b), rel=1e-9)


def test_distance_is_symmetric_and_zero_to_itself():
    a, b = LngLat(lng=120.149, lat=30.246), LngLat(lng=120.16, lat=30.25)
    assert haversine_m(a, a) == 0.0
    assert haversine_m(a, b) == haversine_m(b, a)
    assert 1_000 < haversine_m(a, b) < 1_200
