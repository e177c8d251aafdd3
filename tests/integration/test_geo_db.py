"""Geography and invariants against real PostGIS: points, distances, indexes, constraints."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.merchants import services as merchants
from app.merchants.models import Store
from app.offerings.models import Offering
from geo.points import LngLat, haversine_m
from tests import factories as f


def _lnglat_in_db(db, table: str, row_id: int) -> LngLat:
    """Read a row's point with SQL alone, bypassing the ORM and its identity map."""
    lng, lat = db.session.execute(
        text(f"SELECT ST_X(location::geometry), ST_Y(location::geometry) FROM {table} WHERE id = :id"),  # noqa: S608
        {"id": row_id},
    ).one()
    return LngLat(lng=lng, lat=lat)


# -- points ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("lng", "lat"),
    [
        (120.123456789012, 30.987654321098),
        (-73.985656, 40.748433),
        (-180.0, -90.0),
        (180.0, 90.0),
        (0.0, 0.0),
        (151.2093, -33.8688),
    ],
)
def test_store_saved_by_the_service_reads_back_at_the_same_point(db, lng, lat):
    business = f.create_business()
    store = merchants.create_store(business.owner, business, {
        "name": "Lakeside", "address": "1 Nanshan Road", "lng": str(lng), "lat": str(lat),
        "timezone": "Asia/Shanghai",
    })
    store_id = store.id
    db.session.expunge_all()

    in_sql = _lnglat_in_db(db, "stores", store_id)
    assert in_sql.lng == pytest.approx(lng, abs=1e-9)
    assert in_sql.lat == pytest.approx(lat, abs=1e-9)

    fresh = db.session.scalars(select(Store).where(Store.id == store_id)).one()
    assert fresh is not store
    point = LngLat.from_element(fresh.location)
    assert point.lng == pytest.approx(lng, abs=1e-9)
    assert point.lat == pytest.approx(lat, abs=1e-9)
    srid, kind = db.session.execute(
        select(func.ST_SRID(Store.location), func.GeometryType(Store.location)).where(Store.id == store_id)
    ).one()
    assert (srid, kind) == (4326, "POINT")


def test_the_column_is_geography_not_geometry(db):
    column_type = db.session.scalar(text(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'stores'::regclass AND attname = 'location'"))
    assert column_type == "geography(Point,4326)"
    column_type = db.session.scalar(text(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'offerings'::regclass AND attname = 'location'"))
    assert column_type == "geography(Point,4326)"


# -- distances -------------------------------------------------------------------

PAIRS = [
    # Hangzhou West Lake -> Shanghai People's Square (~167 km)
    (LngLat(lng=120.1490, lat=30.2460), LngLat(lng=121.4737, lat=31.2304)),
    # Across West Lake (~1 km)
    (LngLat(lng=120.1490, lat=30.2460), LngLat(lng=120.1600, lat=30.2500)),
    # Paris -> London (~344 km)
    (LngLat(lng=2.3499, lat=48.8530), LngLat(lng=-0.1246, lat=51.5073)),
    # One degree of latitude at 45 N (~111 km). At the equator the WGS 84 meridian degree
    # is 110,574 m, 0.56 % short of the sphere's, so the 0.5 % bound below would not hold there.
    (LngLat(lng=0.0, lat=45.0), LngLat(lng=0.0, lat=46.0)),
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_st_distance_on_geography_matches_haversine(db, a, b):
    spheroid, sphere = db.session.execute(
        text("SELECT ST_Distance(ST_GeogFromText(:a), ST_GeogFromText(:b)), "
             "ST_Distance(ST_GeogFromText(:a), ST_GeogFromText(:b), false)"),
        {"a": f"SRID=4326;{a.to_wkt()}", "b": f"SRID=4326;{b.to_wkt()}"},
    ).one()
    expected = haversine_m(a, b)
    assert spheroid == pytest.approx(expected, rel=5e-3)  # WGS 84 spheroid vs mean sphere
    assert sphere == pytest.approx(expected, rel=1e-6)  # PostGIS's sphere is the same mean sphere


def test_st_distance_between_stored_stores(db):
    here, there = PAIRS[0]
    store_a = f.create_store(lng=here.lng, lat=here.lat)
    store_b = f.create_store(lng=there.lng, lat=there.lat)
    metres = db.session.scalar(
        select(func.ST_Distance(Store.location, select(Store.location).where(Store.id == store_b.id)
                                .scalar_subquery()))
        .where(Store.id == store_a.id))
    assert metres == pytest.approx(haversine_m(here, there), rel=5e-3)
    assert 160_000 < metres < 175_000


# -- indexes ---------------------------------------------------------------------

@pytest.mark.parametrize(("index", "table"), [("idx_stores_location", "stores"),
                                               ("idx_offerings_location", "offerings")])
def test_location_has_a_gist_index(db, index, table):
    row = db.session.execute(
        text("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname = :name"),
        {"name": index},
    ).one_or_none()
    assert row is not None, f"{index} is missing"
    assert row.tablename == table
    assert "USING gist (location)" in row.indexdef
    access_method = db.session.scalar(text(
        "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam WHERE c.relname = :name"),
        {"name": index})
    assert access_method == "gist"


# -- CHECK constraints -----------------------------------------------------------

def _offering_row(store: Store, **overrides) -> dict:
    row = {
        "store_id": store.id, "title": "Raw row", "description": "", "category": "class_workshop",
        "price_amount": Decimal("88.00"), "currency": "CNY", "duration_min": 60, "capacity": 4,
        "cancel_cutoff_hours": 24, "policy_text": "", "status": "active",
    }
    row.update(overrides)
    return row


INSERT_OFFERING = text(
    "INSERT INTO offerings (store_id, title, description, category, price_amount, currency, duration_min, "
    "capacity, cancel_cutoff_hours, policy_text, status, location) VALUES (:store_id, :title, :description, "
    ":category, :price_amount, :currency, :duration_min, :capacity, :cancel_cutoff_hours, :policy_text, "
    ":status, ST_GeogFromText('SRID=4326;POINT(120.149 30.246)')) RETURNING id"
)


def test_a_valid_raw_offering_row_is_accepted(db):
    store = f.create_store()
    with db.session.begin_nested():
        new_id = db.session.scalar(INSERT_OFFERING, _offering_row(store))
    assert db.session.get(Offering, new_id).store_id == store.id


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"price_amount": Decimal("-0.01")}, "ck_offerings_price_not_negative"),
        ({"capacity": 0}, "ck_offerings_capacity_range"),
        ({"capacity": 1001}, "ck_offerings_capacity_range"),
        ({"currency": "cny"}, "ck_offerings_currency_code"),
        ({"currency": "C1Y"}, "ck_offerings_currency_code"),
        ({"status": "deleted"}, "ck_offerings_status_known"),
        ({"category": "gambling"}, "ck_offerings_category_known"),
        ({"duration_min": 4}, "ck_offerings_duration_range"),
        ({"cancel_cutoff_hours": -1}, "ck_offerings_cutoff_range"),
    ],
)
def test_offering_checks_refuse_bad_rows(db, overrides, constraint):
    store = f.create_store()
    with pytest.raises(IntegrityError) as excinfo, db.session.begin_nested():
        db.session.execute(INSERT_OFFERING, _offering_row(store, **overrides))
    assert excinfo.value.orig.diag.constraint_name == constraint
    # The savepoint rolled back; the outer transaction goes on.
    assert db.session.scalar(select(func.count()).select_from(Offering).where(Offering.store_id == store.id)) == 0


@pytest.mark.parametrize(
    ("sql", "params", "constraint"),
    [
        ("INSERT INTO opening_hours (store_id, weekday, opens_at, closes_at) VALUES (:s, 7, '10:00', '18:00')",
         {}, "ck_opening_hours_weekday_range"),
        ("INSERT INTO hours_exceptions (store_id, day, is_closed, note) VALUES (:s, '2026-01-05', false, '')",
         {}, "ck_hours_exceptions_closed_or_hours"),
        ("INSERT INTO hours_exceptions (store_id, day, is_closed, opens_at, note) "
         "VALUES (:s, '2026-01-05', false, '20:00', '')", {}, "ck_hours_exceptions_closed_or_hours"),
        ("UPDATE stores SET status = 'deleted' WHERE id = :s", {}, "ck_stores_status_known"),
        ("UPDATE stores SET geofence_m = 5 WHERE id = :s", {}, "ck_stores_geofence_range"),
    ],
)
def test_store_checks_refuse_bad_rows(db, sql, params, constraint):
    store = f.create_store(hours=False)
    with pytest.raises(IntegrityError) as excinfo, db.session.begin_nested():
        db.session.execute(text(sql), {"s": store.id, **params})
    assert excinfo.value.orig.diag.constraint_name == constraint


@pytest.mark.parametrize(("opens", "closes"), [("10:00", "18:00"), ("18:00", "02:00"), ("10:00", "10:00")],
                         ids=["daytime", "overnight", "24-hours"])
def test_valid_opening_hours_row_is_accepted(db, opens, closes):
    store = f.create_store(hours=False)
    values = {"s": store.id, "o": opens, "c": closes}
    with db.session.begin_nested():
        db.session.execute(text("INSERT INTO opening_hours (store_id, weekday, opens_at, closes_at) "
                                "VALUES (:s, 1, :o, :c)"), values)
        db.session.execute(text("INSERT INTO hours_exceptions (store_id, day, is_closed, opens_at, closes_at, note) "
                                "VALUES (:s, '2026-01-05', false, :o, :c, '')"), values)
    assert db.session.scalar(text("SELECT count(*) FROM opening_hours WHERE store_id = :s"), {"s": store.id}) == 1


# -- moving a store --------------------------------------------------------------

def test_moving_a_store_moves_its_offerings_and_nobody_else_s(db):
    store = f.create_store(lng=120.1490, lat=30.2460)
    owner = store.business.owner
    first, second = f.create_offering(store), f.create_offering(store)
    elsewhere = f.create_offering(lng=120.2000, lat=30.3000)

    merchants.update_store(owner, store, {"lng": 120.2100, "lat": 30.2900})
    db.session.expire_all()

    moved = LngLat(lng=120.21, lat=30.29)
    assert _lnglat_in_db(db, "stores", store.id) == moved
    for offering in (first, second):
        assert _lnglat_in_db(db, "offerings", offering.id) == moved
    assert _lnglat_in_db(db, "offerings", elsewhere.id) == LngLat(lng=120.2, lat=30.3)
    store_ids = db.session.scalars(
        select(Offering.store_id).where(Offering.id.in_([first.id, second.id]))).all()
    assert store_ids == [store.id, store.id]
    # Nearby search on offerings sees the new place: within 10 m of the new point.
    near = db.session.scalars(
        select(Offering.id).where(func.ST_DWithin(Offering.location, moved.to_element(), 10))
        .order_by(Offering.id)).all()
    assert near == [first.id, second.id]


def test_moving_only_the_latitude_keeps_the_longitude(db):
    store = f.create_store(lng=120.1490, lat=30.2460)
    offering = f.create_offering(store)
    merchants.update_store(store.business.owner, store, {"lat": "30.2500"})
    db.session.expire_all()
    assert _lnglat_in_db(db, "stores", store.id) == LngLat(lng=120.149, lat=30.25)
    assert _lnglat_in_db(db, "offerings", offering.id) == LngLat(lng=120.149, lat=30.25)


def test_an_update_without_coordinates_leaves_offerings_where_they_are(db):
    store = f.create_store(lng=120.1490, lat=30.2460)
    offering = f.create_offering(store)
    merchants.update_store(store.business.owner, store, {"name": "Renamed"})
    db.session.expire_all()
    assert db.session.get(Store, store.id).name == "Renamed"
    assert _lnglat_in_db(db, "offerings", offering.id) == LngLat(lng=120.149, lat=30.246)


# -- accounts --------------------------------------------------------------------

def test_email_is_unique_in_the_database(db):
    f.create_user(email="same@test.onsite")
    with pytest.raises(IntegrityError) as excinfo, db.session.begin_nested():
        db.session.add(User(email="same@test.onsite", password_hash="x", display_name="Twin", role="resident"))
        db.session.flush()
    assert excinfo.value.orig.diag.constraint_name == "uq_users_email"
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "same@test.onsite")) == 1


def test_email_must_be_stored_lowercase_so_uniqueness_ignores_case(db):
    f.create_user(email="case@test.onsite")
    with pytest.raises(IntegrityError) as excinfo, db.session.begin_nested():
        db.session.execute(text(
            "INSERT INTO users (email, password_hash, display_name, role, is_active_account) "
            "VALUES ('Case@Test.Onsite', 'x', 'Upper', 'resident', true)"))
    assert excinfo.value.orig.diag.constraint_name == "ck_users_email_lowercase"
