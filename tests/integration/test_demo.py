"""app.demo: the demo city and the bulk benchmark loader, on real PostGIS."""

from __future__ import annotations

import pytest
from geoalchemy2 import Geometry
from sqlalchemy import cast, func, select

from app.auth.models import Role, User
from app.auth.services import verify_password
from app.demo import (
    DEMO_BUSINESS_NAME,
    MERCHANT_EMAIL,
    MERCHANT_PASSWORD,
    RESIDENT_EMAIL,
    RESIDENT_PASSWORD,
    STAFF_EMAIL,
    STAFF_PASSWORD,
    generate_offerings,
    load_demo_city,
)
from app.merchants.models import Business, Store, StoreStaff
from app.offerings.models import Category, Offering

# A 60 km square around Hangzhou (30.25 N, 120.16 E).
LAT_MIN, LAT_MAX = 30.25 - 0.27, 30.25 + 0.27
LNG_MIN, LNG_MAX = 120.16 - 0.312, 120.16 + 0.312


def _lng_lat(column):
    return func.ST_X(cast(column, Geometry)), func.ST_Y(cast(column, Geometry))


def _in_box(lng: float, lat: float) -> bool:
    return LNG_MIN <= lng <= LNG_MAX and LAT_MIN <= lat <= LAT_MAX


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.demo_city
def test_load_demo_city_fills_hangzhou(db):
    counts = load_demo_city()

    assert counts == {"businesses": 60, "stores": 120, "offerings": 400, "created": True}
    assert set(db.session.scalars(select(Offering.category).distinct())) == {c.value for c in Category}
    points = db.session.execute(select(*_lng_lat(Store.location))).all()
    assert len(points) >= 120
    assert all(_in_box(lng, lat) for lng, lat in points)
    assert set(db.session.scalars(select(Store.timezone).distinct())) == {"Asia/Shanghai"}
    # Every experience repeats its store's point.
    misplaced = db.session.scalar(
        select(func.count()).select_from(Offering).join(Store, Offering.store_id == Store.id)
        .where(~func.ST_Equals(cast(Offering.location, Geometry), cast(Store.location, Geometry))))
    assert misplaced == 0
    prices = db.session.scalars(select(Offering.price_amount)).all()
    assert 0 in prices and max(prices) <= 680


@pytest.mark.demo_city
def test_demo_accounts_have_roles_passwords_and_the_staff_is_attached(db):
    load_demo_city()

    accounts = {email: db.session.scalar(select(User).where(User.email == email))
                for email in (RESIDENT_EMAIL, MERCHANT_EMAIL, STAFF_EMAIL)}
    assert accounts[RESIDENT_EMAIL].role == Role.RESIDENT
    assert accounts[MERCHANT_EMAIL].role == Role.MERCHANT
    assert accounts[STAFF_EMAIL].role == Role.RESIDENT  # staff by membership of the studio, below
    for email, password in ((RESIDENT_EMAIL, RESIDENT_PASSWORD), (MERCHANT_EMAIL, MERCHANT_PASSWORD),
                            (STAFF_EMAIL, STAFF_PASSWORD)):
        assert verify_password(accounts[email], password), email

    studio = db.session.scalar(select(Business).where(Business.name == DEMO_BUSINESS_NAME))
    assert studio.owner_id == accounts[MERCHANT_EMAIL].id
    assert len(studio.stores) == 2
    assert db.session.scalar(select(func.count(Offering.id)).join(Store).where(Store.business_id == studio.id)) >= 5
    staff_store_ids = set(db.session.scalars(
        select(StoreStaff.store_id).where(StoreStaff.user_id == accounts[STAFF_EMAIL].id)))
    assert staff_store_ids == {studio.stores[0].id}

    generated = db.session.scalar(select(User).where(User.email == "merchant01@demo.onsite"))
    assert generated.role == Role.MERCHANT
    assert verify_password(generated, MERCHANT_PASSWORD)


@pytest.mark.demo_city
def test_load_demo_city_twice_creates_nothing_new(db):
    first = load_demo_city()
    sizes = {model: _count(db, model) for model in (User, Business, Store, Offering)}

    second = load_demo_city()

    assert second == {**first, "created": False}
    assert {model: _count(db, model) for model in sizes} == sizes


def test_generate_offerings_loads_points_around_hangzhou_reproducibly(db):
    start = db.session.scalar(select(func.coalesce(func.max(Offering.id), 0)))
    seen: list[int] = []

    assert generate_offerings(2000, seed=1, batch=500, progress=seen.append) == 2000

    assert seen == [500, 1000, 1500, 2000]
    rows = db.session.execute(
        select(Offering.id, Offering.title, *_lng_lat(Offering.location))
        .where(Offering.id > start).order_by(Offering.id)).all()
    assert len(rows) == 2000
    assert all(_in_box(lng, lat) for _, _, lng, lat in rows)
    assert len({title for _, title, _, _ in rows}) > 500  # varied, for text search to find
    assert db.session.scalar(select(func.count()).select_from(Store).join(Business)
                             .join(User, Business.owner_id == User.id)
                             .where(User.email == "bulk-owner@demo.onsite")) >= 100

    again = generate_offerings(2000, seed=1)

    assert again == 2000
    first_again = db.session.scalar(
        select(Offering.title).where(Offering.id > rows[-1].id).order_by(Offering.id).limit(1))
    assert first_again == rows[0].title


@pytest.mark.demo_city
def test_cli_demo_load_prints_counts(app, db):
    result = app.test_cli_runner().invoke(args=["demo", "load"])

    assert result.exit_code == 0, result.output
    assert "60 businesses, 120 stores, 400 experiences" in result.output


def test_cli_demo_load_refuses_a_production_database_without_force(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "ENV", "production")
    loads = []
    monkeypatch.setattr("app.demo.load_demo_city", lambda seed: loads.append(seed) or {
        "created": True, "businesses": 60, "stores": 120, "offerings": 400})
    monkeypatch.setattr("app.discovery.services.refresh_grid", lambda concurrently: None)

    refused = app.test_cli_runner().invoke(args=["demo", "load"])

    assert refused.exit_code != 0
    assert "ONSITE_ENV=production" in refused.output and "--force" in refused.output
    assert loads == []

    forced = app.test_cli_runner().invoke(args=["demo", "load", "--force"])

    assert forced.exit_code == 0, forced.output
    assert loads == [7] and "60 businesses" in forced.output


def test_cli_create_admin(app, db):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["users", "create-admin", "--email", "Boss@Example.com",
                                 "--password", "a-long-password", "--name", "Boss"])

    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.role).where(User.email == "boss@example.com")) == Role.ADMIN


def test_cli_create_admin_reports_invalid_fields(app, db):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "--email", "not-an-email",
                                                "--password", "short"])

    assert result.exit_code == 1
    assert "email:" in result.output and "password:" in result.output


def test_cli_create_admin_without_password_or_terminal_fails_clearly(app, db):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "--email", "boss@example.com"])

    assert result.exit_code != 0
    assert "--password" in result.output


@pytest.mark.demo_city
def test_demo_auditor_has_a_passed_a_failed_and_a_scheduled_audit(db):
    from trust.demo_console import AUDITOR
    from trust.models_audits import Audit
    from trust.services.audits import last_passed

    load_demo_city()
    load_demo_city()  # twice: nothing doubles
    auditor = db.session.scalar(select(User).where(User.email == AUDITOR[0]))
    assert auditor.role == Role.AUDITOR and verify_password(auditor, AUDITOR[1])
    audits = db.session.scalars(select(Audit).where(Audit.auditor_id == auditor.id)).all()
    assert sorted(a.status for a in audits) == ["failed", "passed", "scheduled"]
    studio = db.session.scalar(select(Business).where(Business.name == DEMO_BUSINESS_NAME))
    assert last_passed(studio.id) is not None  # the studio's store page shows "Audited on …, passed"
    failed = next(a for a in audits if a.status == "failed")
    assert failed.case_closed_at is None and failed.checklist["hygiene"] is False
