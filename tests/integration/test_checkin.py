"""Check-in on real PostGIS: codes and tokens against stored bookings, every staff refusal, the window,
the resident's geofenced check-in with known points, offline payments with corrections, and the roster.

Time is frozen by passing ``now``: NOW is 14:00:30 in Hangzhou, half-way through a store-code step.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import Role, User
from app.error_codes import ERROR_CODES
from app.errors import NotFound, PermissionDenied, ValidationFailed
from app.merchants.models import Store
from app.offerings.models import Offering
from bookings import checkin
from bookings.errors import CheckInError
from bookings.models import Booking, BookingEvent, CheckIn, CheckInFailure, OfflinePayment
from geo.points import LngLat
from tests import factories as f

NOW = datetime(2030, 3, 5, 6, 0, 30, tzinfo=UTC)  # Tuesday 14:00:30 in Asia/Shanghai
KEY = b"integration-check-in-key-" + b"k" * 8
OTHER_KEY = b"someone-elses-key-" + b"x" * 14
STORE_POINT = LngLat(lng=120.1478, lat=30.2565)
EARTH_RADIUS_M = 6_371_008.8


@dataclass
class Shop:
    store: Store
    offering: Offering
    staff: User
    owner: User


@pytest.fixture
def shop(db) -> Shop:
    store = f.create_store(lng=STORE_POINT.lng, lat=STORE_POINT.lat, geofence_m=150, timezone="Asia/Shanghai")
    offering = f.create_offering(store, price_amount=Decimal("88.00"), currency="CNY", capacity=20,
                                 duration_min=60)
    staff = f.add_staff(store, f.create_user(Role.STAFF, display_name="Counter Clerk"))
    return Shop(store, offering, staff, store.business.owner)


@pytest.fixture
def other_shop(db) -> Shop:
    store = f.create_store(lng=120.1612, lat=30.2452, name="Nanshan Road")
    offering = f.create_offering(store, capacity=20, duration_min=60)
    staff = f.add_staff(store, f.create_user(Role.STAFF, display_name="Other Clerk"))
    return Shop(store, offering, staff, store.business.owner)


def visit(shop: Shop, minutes: float = 10, **kw) -> Booking:
    """A booking at ``shop`` whose slot starts ``minutes`` after NOW (60 minutes long)."""
    return f.create_booking_starting_in(minutes, now=NOW, offering=shop.offering, **kw)


def refusal(call, *args, **kwargs) -> CheckInError:
    with pytest.raises(CheckInError) as excinfo:
        call(*args, **kwargs)
    return excinfo.value


def check_ins_of(db, booking: Booking) -> int:
    return db.session.scalar(select(func.count()).select_from(CheckIn).where(CheckIn.booking_id == booking.id))


def status_of(db, booking: Booking) -> str:
    return db.session.scalar(select(Booking.status).where(Booking.id == booking.id))


def events_to(db, booking: Booking, status: str) -> list[BookingEvent]:
    return list(db.session.scalars(select(BookingEvent).where(
        BookingEvent.booking_id == booking.id, BookingEvent.to_status == status).order_by(BookingEvent.id)))


def offset(point: LngLat, metres: float, bearing_deg: float) -> LngLat:
    """The point ``metres`` from ``point`` along ``bearing_deg`` (great circle)."""
    lat1, lng1, bearing = math.radians(point.lat), math.radians(point.lng), math.radians(bearing_deg)
    delta = metres / EARTH_RADIUS_M
    lat2 = math.asin(math.sin(lat1) * math.cos(delta) + math.cos(lat1) * math.sin(delta) * math.cos(bearing))
    lng2 = lng1 + math.atan2(math.sin(bearing) * math.sin(delta) * math.cos(lat1),
                             math.cos(delta) - math.sin(lat1) * math.sin(lat2))
    return LngLat(lng=math.degrees(lng2), lat=math.degrees(lat2))


def postgis_distance(db, store: Store, point: LngLat) -> float:
    return db.session.scalar(select(func.ST_Distance(
        Store.location, func.ST_GeogFromText(f"SRID=4326;POINT({point.lng!r} {point.lat!r})"))).where(
        Store.id == store.id))


def position(point: LngLat, accuracy: float = 15.0) -> dict:
    return {"lat": point.lat, "lng": point.lng, "accuracy": accuracy}


# -- tokens and short codes against stored bookings ---------------------------------------------------

def test_token_round_trip(shop):
    booking = visit(shop)
    assert checkin.verify_token(checkin.issue_token(booking, KEY), KEY, NOW) is booking
    assert checkin.find_by_code(checkin.issue_token(booking, KEY), KEY, NOW) == (booking, "staff_scan")


def test_token_signed_with_another_key_is_invalid(shop):
    booking = visit(shop)
    error = refusal(checkin.verify_token, checkin.issue_token(booking, OTHER_KEY), KEY, NOW)
    assert error.code == "invalid_code"


def _edits(token: str):
    """Every token with one character after the prefix replaced (ASCII and look-alike Unicode digits)."""
    candidates = string.ascii_letters + string.digits + "-_.+ " + "".join(
        chr(0xFF10 + d) + chr(0x0660 + d) for d in range(10))  # fullwidth and Arabic-Indic digits
    body_start = len(checkin.TOKEN_PREFIX)
    for index in range(body_start, len(token)):
        for replacement in candidates:
            if replacement != token[index]:
                yield token[:index] + replacement + token[index + 1:]


def test_any_edited_character_makes_the_token_invalid(shop):
    booking = visit(shop)
    token = checkin.issue_token(booking, KEY)
    accepted = []
    for edited in _edits(token):
        try:
            checkin.verify_token(edited, KEY, NOW)
        except CheckInError as error:
            assert error.code == "invalid_code"
        else:
            accepted.append(edited)
    assert accepted == []


def test_token_for_booking_a_presented_as_booking_b_is_invalid(shop):
    a, b = visit(shop), visit(shop, minutes=20)
    _, expires, signature = checkin.issue_token(a, KEY)[len(checkin.TOKEN_PREFIX):].split(".")
    assert refusal(checkin.verify_token, f"ONS1:{b.id}.{expires}.{signature}", KEY, NOW).code == "invalid_code"
    # …and B's own expiry does not help either.
    _, b_expires, _ = checkin.issue_token(b, KEY)[len(checkin.TOKEN_PREFIX):].split(".")
    assert refusal(checkin.verify_token, f"ONS1:{b.id}.{b_expires}.{signature}", KEY, NOW).code == "invalid_code"


def test_token_of_a_missing_booking_is_invalid(shop):
    booking = visit(shop)
    _, expires, signature = checkin.issue_token(booking, KEY)[len(checkin.TOKEN_PREFIX):].split(".")
    missing = booking.id + 10_000
    assert refusal(checkin.verify_token, f"ONS1:{missing}.{expires}.{signature}", KEY, NOW).code == "invalid_code"


def test_token_expires_twelve_hours_after_the_slot_ends(shop):
    booking = visit(shop)  # ends at NOW + 70 min
    token = checkin.issue_token(booking, KEY)
    last_moment = booking.slot.ends_at + timedelta(hours=12)
    assert checkin.verify_token(token, KEY, last_moment) is booking
    assert refusal(checkin.verify_token, token, KEY, last_moment + timedelta(seconds=1)).code == "invalid_code"


def test_reissued_code_revokes_the_old_token_and_short_code(db, shop):
    resident = f.create_user()
    booking = visit(shop, resident=resident)
    old_token, old_code, old_secret = checkin.issue_token(booking, KEY), booking.code, booking.qr_secret
    checkin.reissue_code(resident, booking.id)
    assert booking.qr_secret != old_secret and booking.code != old_code
    assert refusal(checkin.verify_token, old_token, KEY, NOW).code == "invalid_code"
    assert refusal(checkin.find_by_code, old_code, KEY, NOW).code == "invalid_code"
    assert checkin.verify_token(checkin.issue_token(booking, KEY), KEY, NOW) is booking
    assert checkin.find_by_code(booking.code.lower(), KEY, NOW) == (booking, "staff_typed")
    assert events_to(db, booking, "confirmed")[-1].reason.startswith("new code issued")


def test_only_the_resident_reissues_and_only_upcoming_bookings(shop):
    resident = f.create_user()
    booking = visit(shop, resident=resident)
    with pytest.raises(NotFound):
        checkin.reissue_code(shop.staff, booking.id)
    cancelled = visit(shop, minutes=30, resident=resident, status="cancelled_by_resident")
    assert refusal(checkin.reissue_code, resident, cancelled.id).code == "not_confirmed"


def test_typed_short_code_finds_the_booking_in_any_case_with_dashes(shop):
    booking = visit(shop, code="K7QX2M9P")
    for typed in ("k7qx2m9p", "K7QX-2M9P", " k7qx 2m9p "):
        assert checkin.find_by_code(typed, KEY, NOW) == (booking, "staff_typed")
    assert refusal(checkin.find_by_code, "K7QX2M9Q", KEY, NOW).code == "invalid_code"


# -- the check-in window ------------------------------------------------------------------------------------

def test_window_defaults_to_thirty_minutes_before_start_until_the_end(shop):
    booking = visit(shop, minutes=45)
    assert checkin.window_of(booking) == (booking.slot.starts_at - timedelta(minutes=30), booking.slot.ends_at)


def test_window_opens_as_set_on_the_experience(db, shop):
    f.create_schedule(shop.offering, now=NOW, checkin_opens_minutes=90)
    booking = visit(shop, minutes=80)
    assert checkin.window_of(booking)[0] == booking.slot.starts_at - timedelta(minutes=90)
    result = checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    assert result.booking.status == "checked_in"


def test_window_of_zero_opens_at_the_start(db, shop):
    f.create_schedule(shop.offering, now=NOW, checkin_opens_minutes=0)
    booking = visit(shop, minutes=1)
    assert refusal(checkin.staff_check_in, shop.staff, shop.store.id, booking.code, KEY, NOW).code == \
        "outside_window"
    assert checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY,
                                  NOW + timedelta(minutes=1)).booking.status == "checked_in"


@pytest.mark.parametrize(("minutes", "allowed"), [
    (31, False), (30.01, False), (30, True), (0, True), (-59.99, True), (-60, True), (-60.01, False), (-300, False),
])
def test_window_edges(db, shop, minutes, allowed):
    booking = visit(shop, minutes=minutes)
    if allowed:
        checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
        assert status_of(db, booking) == "checked_in"
    else:
        error = refusal(checkin.staff_check_in, shop.staff, shop.store.id, booking.code, KEY, NOW)
        assert error.code == "outside_window"
        opens, closes = checkin.window_of(booking)
        zone = ZoneInfo(shop.store.timezone)
        assert error.details == {"opens_at": opens.astimezone(zone).isoformat(), "too_early": minutes > 0,
                                 "closes_at": closes.astimezone(zone).isoformat(), "timezone": shop.store.timezone}
        assert status_of(db, booking) == "confirmed" and check_ins_of(db, booking) == 0


# -- staff check-in -------------------------------------------------------------------------------------------

def test_typed_code_checks_in_with_audit_and_amount_to_collect(db, shop):
    booking = visit(shop, party_size=2)
    result = checkin.staff_check_in(shop.staff, shop.store.id, "-".join([booking.code[:4], booking.code[4:]]).lower(),
                                    KEY, NOW)
    assert result.booking.id == booking.id
    assert (result.check_in.method, result.check_in.verification) == ("staff_typed", "staff_verified")
    assert result.check_in.actor_id == shop.staff.id and result.check_in.checked_in_at == NOW
    assert result.check_in.lat is None and result.check_in.distance_m is None
    assert result.collect == {"amount": "176.00", "currency": "CNY"}
    assert status_of(db, booking) == "checked_in"
    (event,) = events_to(db, booking, "checked_in")
    assert (event.from_status, event.actor_id) == ("confirmed", shop.staff.id)
    assert check_ins_of(db, booking) == 1


def test_scanned_token_checks_in_as_staff_scan(db, shop):
    booking = visit(shop)
    result = checkin.staff_check_in(shop.owner, shop.store.id, checkin.issue_token(booking, KEY), KEY, NOW)
    assert (result.check_in.method, result.check_in.verification) == ("staff_scan", "staff_verified")
    assert result.check_in.actor_id == shop.owner.id
    assert status_of(db, booking) == "checked_in" and check_ins_of(db, booking) == 1


@pytest.mark.parametrize("code", ["K7QX2M9Q", "ONS1:1.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAA", "ONS1:garbage",
                                  "K7QX2M0P"])
def test_unknown_code_is_invalid(db, shop, code):
    booking = visit(shop, code="K7QX2M9P")
    error = refusal(checkin.staff_check_in, shop.staff, shop.store.id, code, KEY, NOW)
    assert (error.code, error.http_status) == ("invalid_code", 404)
    assert status_of(db, booking) == "confirmed"


def test_staff_of_store_a_scanning_a_booking_of_store_b_is_wrong_store(db, shop, other_shop):
    booking = visit(shop)
    for code in (booking.code, checkin.issue_token(booking, KEY)):
        error = refusal(checkin.staff_check_in, other_shop.staff, other_shop.store.id, code, KEY, NOW)
        assert (error.code, error.http_status) == ("wrong_store", 403)
        assert error.details == {}  # nothing about the other store
        assert shop.store.name not in error.message
    # Naming the booking's store does not help someone who does not work there.
    with pytest.raises(PermissionDenied):
        checkin.staff_check_in(other_shop.staff, shop.store.id, booking.code, KEY, NOW)
    assert status_of(db, booking) == "confirmed" and check_ins_of(db, booking) == 0


@pytest.mark.parametrize("status", ["cancelled_by_resident", "cancelled_by_merchant", "rejected"])
def test_cancelled_booking_is_refused(db, shop, status):
    booking = visit(shop, status=status)
    error = refusal(checkin.staff_check_in, shop.staff, shop.store.id, booking.code, KEY, NOW)
    assert (error.code, error.details) == ("cancelled", {"status": status})
    assert check_ins_of(db, booking) == 0


@pytest.mark.parametrize("status", ["pending", "no_show"])
def test_unconfirmed_booking_is_refused(db, shop, status):
    booking = visit(shop, status=status)
    error = refusal(checkin.staff_check_in, shop.staff, shop.store.id, booking.code, KEY, NOW)
    assert (error.code, error.details) == ("not_confirmed", {"status": status})
    assert status_of(db, booking) == status and check_ins_of(db, booking) == 0


def test_second_check_in_says_when_and_by_whom(db, shop):
    booking = visit(shop)
    checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    for actor, code in ((shop.owner, booking.code), (shop.staff, checkin.issue_token(booking, KEY))):
        error = refusal(checkin.staff_check_in, actor, shop.store.id, code, KEY, NOW + timedelta(minutes=5))
        assert (error.code, error.http_status) == ("already_checked_in", 409)
        assert error.details == {"checked_in_at": "2030-03-05T14:00:30+08:00",  # store-local, as the counter shows
                                 "checked_in_by": "Counter Clerk", "method": "staff_typed"}
    assert check_ins_of(db, booking) == 1
    assert len(events_to(db, booking, "checked_in")) == 1


def test_completed_visit_is_already_checked_in(db, shop):
    booking = visit(shop)
    checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    db.session.execute(Booking.__table__.update().where(Booking.id == booking.id).values(status="completed"))
    db.session.expire_all()
    assert refusal(checkin.staff_check_in, shop.staff, shop.store.id, booking.code, KEY, NOW).code == \
        "already_checked_in"


def test_residents_cannot_check_anyone_in(db, shop):
    resident = f.create_user()
    booking = visit(shop, resident=resident)
    for actor in (resident, f.create_user()):
        with pytest.raises(PermissionDenied) as excinfo:
            checkin.staff_check_in(actor, shop.store.id, booking.code, KEY, NOW)
        assert excinfo.value.code == "forbidden"
    assert status_of(db, booking) == "confirmed" and check_ins_of(db, booking) == 0


def test_residents_get_403_from_the_staff_endpoint(db, client, shop):
    resident = f.create_user()
    booking = f.create_booking_starting_in(5, offering=shop.offering, resident=resident)
    db.session.commit()  # the request runs in its own session
    response = client.post("/api/v1/checkins", json={"code": booking.code, "store_id": shop.store.id},
                           headers=f.token_for(resident))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert status_of(db, booking) == "confirmed"


def test_staff_endpoint_replays_the_first_answer_to_a_nonce(db, client, shop):
    booking = f.create_booking_starting_in(5, offering=shop.offering)
    headers = f.token_for(shop.staff)
    db.session.commit()
    body = {"code": booking.code, "store_id": shop.store.id, "nonce": "scan-1"}
    first = client.post("/api/v1/checkins", json=body, headers=headers)
    again = client.post("/api/v1/checkins", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and first.get_json()["check_in"]["method"] == "staff_typed"
    refused = {**body, "nonce": "scan-2"}
    first = client.post("/api/v1/checkins", json=refused, headers=headers)
    again = client.post("/api/v1/checkins", json=refused, headers=headers)
    assert first.status_code == again.status_code == 409
    assert first.get_json()["error"]["code"] == "already_checked_in"
    assert again.get_json() == first.get_json()
    assert check_ins_of(db, booking) == 1


def scan(shop_or_actor, store, code, nonce=None, now=NOW):
    actor = getattr(shop_or_actor, "staff", shop_or_actor)
    return checkin.scan(actor, store.id, code, nonce, KEY, now, render=lambda result: {"id": result.booking.id})


def failures_at(db, store) -> list[tuple]:
    return [(row.reason, row.code_tried, row.booking_id, row.actor_id, row.failed_at) for row in db.session.scalars(
        select(CheckInFailure).where(CheckInFailure.store_id == store.id).order_by(CheckInFailure.id))]


def test_every_refused_scan_is_logged_with_its_reason(db, shop, other_shop):
    due, pending = visit(shop), visit(shop, minutes=12, status="pending")
    later, elsewhere = visit(shop, minutes=24 * 60), f.create_booking_starting_in(5, now=NOW,
                                                                                     offering=other_shop.offering)
    cancelled = visit(shop, minutes=14, status="cancelled_by_resident")
    assert scan(shop, shop.store, due.code).status == 200
    token = checkin.issue_token(elsewhere, KEY)
    tries = [(due.code, "already_checked_in", due.id), ("ZZZZZZZZ", "invalid_code", None),
             (token, "wrong_store", elsewhere.id), (pending.code, "not_confirmed", pending.id),
             (later.code, "outside_window", later.id), (cancelled.code, "cancelled", cancelled.id),
             ("  ", "validation_failed", None), ("ONS1:" + "9" * 100 + "\x00", "invalid_code", None)]
    for code, reason, _booking in tries:
        answer = scan(shop, shop.store, code)
        assert (answer.status, answer.body["error"]["code"]) == (ERROR_CODES[reason].http_status, reason)
    assert failures_at(db, shop.store) == [
        (reason, "".join(ch for ch in code if ch.isprintable()).strip()[:32], booking, shop.staff.id, NOW)
        for code, reason, booking in tries]
    assert failures_at(db, shop.store)[2][1] == token[:32] != token  # a QR token is cut short: never reusable
    assert failures_at(db, other_shop.store) == []  # logged where it was scanned, not where it was booked
    assert status_of(db, due) == "checked_in" and check_ins_of(db, due) == 1


def test_a_refusal_keeps_only_its_log_row_and_its_answer(db, shop):
    booking = visit(shop, minutes=24 * 60)
    answer = scan(shop, shop.store, booking.code, nonce="n-1")
    assert answer.body["error"]["code"] == "outside_window"
    assert scan(shop, shop.store, booking.code, nonce="n-1") == answer  # replayed, not logged again
    assert [row[0] for row in failures_at(db, shop.store)] == ["outside_window"]
    assert status_of(db, booking) == "confirmed" and check_ins_of(db, booking) == 0


def test_scans_at_a_store_the_actor_does_not_work_at_are_refused_but_not_logged_there(db, shop, other_shop):
    booking = visit(shop)
    for actor in (other_shop.staff, booking.resident):
        answer = scan(actor, shop.store, booking.code)
        assert (answer.status, answer.body["error"]["code"]) == (403, "forbidden")
    assert scan(shop, Store(id=987654321), booking.code).body["error"]["code"] == "not_found"
    assert failures_at(db, shop.store) == [] and status_of(db, booking) == "confirmed"


def test_the_staff_endpoint_logs_a_refused_scan(db, client, shop):
    headers = f.token_for(shop.staff)
    db.session.commit()
    response = client.post("/api/v1/checkins", json={"code": "ZZZZZZZZ", "store_id": shop.store.id, "nonce": "x"},
                           headers=headers)
    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "invalid_code")
    assert [(row[0], row[1]) for row in failures_at(db, shop.store)] == [("invalid_code", "ZZZZZZZZ")]


def test_one_check_in_row_per_booking_is_enforced_by_the_database(db, shop):
    booking = visit(shop)
    checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(CheckIn(booking_id=booking.id, store_id=shop.store.id, method="staff_typed",
                               verification="staff_verified", actor_id=shop.owner.id, checked_in_at=NOW))
        db.session.flush()
    assert check_ins_of(db, booking) == 1


# -- the resident's own check-in: geofence with known points ------------------------------------------------

@pytest.fixture
def known_points(db, shop):
    inside, outside = offset(STORE_POINT, 100, 45), offset(STORE_POINT, 200, 45)
    assert postgis_distance(db, shop.store, inside) == pytest.approx(100, abs=1)
    assert postgis_distance(db, shop.store, outside) == pytest.approx(200, abs=1)
    return inside, outside


def self_check_in(booking: Booking, where: dict, code=None, now: datetime = NOW):
    store = booking.store
    return checkin.self_check_in(booking.resident, booking.id, where,
                                 checkin.store_code(store, now) if code is None else code, now)


def test_inside_the_geofence_with_the_current_code_is_verified(db, shop, known_points):
    inside, _ = known_points
    booking = visit(shop)
    result = self_check_in(booking, position(inside, 20))
    ci = result.check_in
    assert (ci.method, ci.verification, ci.actor_id) == ("self_geofence", "verified", booking.resident_id)
    assert ci.distance_m == pytest.approx(100, abs=1) and ci.accuracy_m == 20
    assert (ci.lat, ci.lng) == pytest.approx((inside.lat, inside.lng))
    assert ci.geofence_at == NOW and ci.checked_in_at == NOW
    assert status_of(db, booking) == "checked_in" and check_ins_of(db, booking) == 1
    (event,) = events_to(db, booking, "checked_in")
    assert event.actor_id == booking.resident_id and event.data == {"distance_m": 100}


def test_outside_the_geofence_is_too_far(db, shop, known_points):
    _, outside = known_points
    booking = visit(shop)
    error = refusal(self_check_in, booking, position(outside, 10))
    assert error.code == "too_far"
    assert error.details == {"distance_m": 200, "geofence_m": 150}
    assert status_of(db, booking) == "confirmed" and check_ins_of(db, booking) == 0


def test_a_wider_geofence_takes_in_200_m(db, shop, known_points):
    _, outside = known_points
    shop.store.geofence_m = 250
    db.session.flush()
    booking = visit(shop)
    assert self_check_in(booking, position(outside, 10)).check_in.verification == "verified"


def test_inside_but_vague_is_not_proof(db, shop, known_points):
    inside, _ = known_points
    booking = visit(shop)
    error = refusal(self_check_in, booking, position(inside, 2000))
    assert error.code == "position_too_vague"
    assert error.details == {"accuracy_m": 2000, "needed_m": 150}
    assert check_ins_of(db, booking) == 0


@pytest.mark.parametrize("where", [None, {}, {"lat": 30.2565}, {"lng": 120.1478}, {"lat": None, "lng": None}])
def test_missing_position_is_refused(db, shop, where):
    booking = visit(shop)
    error = refusal(self_check_in, booking, where)
    assert (error.code, error.http_status) == ("missing_position", 422)
    assert check_ins_of(db, booking) == 0


def test_missing_accuracy_is_a_validation_error(db, shop, known_points):
    inside, _ = known_points
    booking = visit(shop)
    with pytest.raises(ValidationFailed) as excinfo:
        self_check_in(booking, {"lat": inside.lat, "lng": inside.lng})
    assert "accuracy" in excinfo.value.details


def test_stale_or_wrong_counter_code_is_refused(db, shop, known_points):
    inside, _ = known_points
    booking = visit(shop)
    current = {checkin.store_code(shop.store, NOW), checkin.store_code(shop.store, NOW, -1)}
    stale = checkin.store_code(shop.store, NOW - timedelta(minutes=2))
    wrong = next(c for c in ("000000", "111111", "222222") if c not in current)
    other_store = checkin.store_code(f.create_store(), NOW)
    for code in {stale, wrong, other_store} - current | {"", 123456}:
        assert refusal(self_check_in, booking, position(inside), code).code == "stale_code"
    assert status_of(db, booking) == "confirmed"


def test_previous_steps_code_is_still_accepted(db, shop, known_points):
    inside, _ = known_points
    booking = visit(shop)
    previous = checkin.store_code(shop.store, NOW - timedelta(seconds=60))
    assert previous != checkin.store_code(shop.store, NOW)
    assert self_check_in(booking, position(inside), previous).check_in.verification == "verified"


def test_code_with_spaces_or_dashes_is_accepted(db, shop, known_points):
    inside, _ = known_points
    booking = visit(shop)
    code = checkin.store_code(shop.store, NOW)
    assert self_check_in(booking, position(inside), f" {code[:3]}-{code[3:]} ").check_in.verification == "verified"


def test_self_check_in_keeps_the_window(db, shop, known_points):
    inside, _ = known_points
    booking = visit(shop, minutes=45)
    assert refusal(self_check_in, booking, position(inside)).code == "outside_window"


def test_only_the_resident_checks_their_own_booking_in(db, shop, known_points):
    inside, _ = known_points
    booking = visit(shop)
    for actor in (f.create_user(), shop.staff):
        with pytest.raises(NotFound):
            checkin.self_check_in(actor, booking.id, position(inside), checkin.store_code(shop.store, NOW), NOW)
    assert check_ins_of(db, booking) == 0


def test_staff_scan_then_residents_proof_makes_a_verified_visit(db, shop, known_points):
    inside, _ = known_points
    booking = visit(shop)
    checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    later = NOW + timedelta(minutes=2)
    result = self_check_in(booking, position(inside, 12), now=later)
    ci = result.check_in
    assert (ci.method, ci.verification, ci.actor_id) == ("staff_typed", "verified", shop.staff.id)
    assert ci.checked_in_at == NOW and ci.geofence_at == later
    assert ci.distance_m == pytest.approx(100, abs=1) and ci.accuracy_m == 12
    assert check_ins_of(db, booking) == 1 and len(events_to(db, booking, "checked_in")) == 2
    # Proven once: a second proof is refused.
    assert refusal(self_check_in, booking, position(inside), now=later).code == "already_checked_in"


def test_staff_scan_then_a_far_away_proof_leaves_it_staff_verified(db, shop, known_points):
    _, outside = known_points
    booking = visit(shop)
    checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    assert refusal(self_check_in, booking, position(outside)).code == "too_far"
    ci = db.session.scalar(select(CheckIn).where(CheckIn.booking_id == booking.id))
    assert ci.verification == "staff_verified" and ci.lat is None


# -- offline payments -----------------------------------------------------------------------------------------

def test_prefilled_amount_is_recorded_and_corrections_supersede(db, shop):
    booking = visit(shop, party_size=2)
    result = checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    first = checkin.record_payment(shop.staff, booking.id, result.collect["amount"], "mobile_wallet_at_store", None)
    assert (first.amount, first.currency, first.recorded_by_id) == (Decimal("176.00"), "CNY", shop.staff.id)
    assert booking.payment_status == "paid_at_store"
    assert checkin.effective_payments(booking) == [first]

    fix = checkin.record_payment(shop.owner, booking.id, "150.00", "cash", "discount for a regular",
                                 supersedes_id=first.id)
    db.session.expire_all()
    rows = list(db.session.scalars(select(OfflinePayment).where(OfflinePayment.booking_id == booking.id)
                                   .order_by(OfflinePayment.id)))
    assert [(p.amount, p.method, p.supersedes_id) for p in rows] == [
        (Decimal("176.00"), "mobile_wallet_at_store", None), (Decimal("150.00"), "cash", first.id)]
    booking = db.session.get(Booking, booking.id)
    assert [p.id for p in checkin.effective_payments(booking)] == [fix.id]
    reasons = [e.reason for e in booking.events]
    assert "payment recorded" in reasons and "correction recorded" in reasons


def test_payment_before_check_in_is_refused(db, shop):
    booking = visit(shop)
    assert refusal(checkin.record_payment, shop.staff, booking.id, "88.00", "cash", None).code == "not_checked_in"
    assert db.session.scalar(select(func.count()).select_from(OfflinePayment)
                             .where(OfflinePayment.booking_id == booking.id)) == 0


def test_another_stores_staff_cannot_record_a_payment(db, shop, other_shop):
    booking = visit(shop)
    checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    for actor in (other_shop.staff, other_shop.owner, booking.resident):
        with pytest.raises(NotFound):
            checkin.record_payment(actor, booking.id, "88.00", "cash", None)


@pytest.mark.parametrize(("amount", "method", "field"), [
    ("1.234", "cash", "amount"), ("-1", "cash", "amount"), ("NaN", "cash", "amount"), ("lots", "cash", "amount"),
    ("88.00", "bitcoin", "method"),
])
def test_bad_payments_are_validation_errors(db, shop, amount, method, field):
    booking = visit(shop)
    checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    with pytest.raises(ValidationFailed) as excinfo:
        checkin.record_payment(shop.staff, booking.id, amount, method, None)
    assert field in excinfo.value.details


def test_a_correction_must_point_at_this_bookings_payment(db, shop):
    one, two = visit(shop), visit(shop, minutes=15)
    for booking in (one, two):
        checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    paid = checkin.record_payment(shop.staff, one.id, "88.00", "cash", None)
    with pytest.raises(ValidationFailed) as excinfo:
        checkin.record_payment(shop.staff, two.id, "80.00", "cash", None, supersedes_id=paid.id)
    assert "supersedes_id" in excinfo.value.details


def test_a_payment_is_corrected_once_so_takings_never_count_two_corrections(db, shop):
    booking = visit(shop)
    checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    original = checkin.record_payment(shop.staff, booking.id, "88.00", "cash", None)
    fix = checkin.record_payment(shop.staff, booking.id, "80.00", "cash", None, supersedes_id=original.id)
    with pytest.raises(ValidationFailed) as excinfo:
        checkin.record_payment(shop.owner, booking.id, "70.00", "cash", None, supersedes_id=original.id)
    assert "supersedes_id" in excinfo.value.details
    later = checkin.record_payment(shop.owner, booking.id, "70.00", "cash", None, supersedes_id=fix.id)
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert [p.id for p in checkin.effective_payments(booking)] == [later.id]
    assert checkin.roster(shop.staff, shop.store.id, None, NOW).takings == {"CNY": Decimal("70.00")}


# -- the day's roster ---------------------------------------------------------------------------------------

def test_roster_buckets_and_takings_per_currency(db, shop, other_shop):
    usd = f.create_offering(shop.store, price_amount=Decimal("20.00"), currency="USD", capacity=5, duration_min=60)
    expected = [visit(shop, minutes=60), visit(shop, minutes=90, status="pending"), visit(shop, minutes=-5),
                visit(shop, minutes=-10)]
    late = [visit(shop, minutes=-11), visit(shop, minutes=-45)]
    arrived = [visit(shop, minutes=10, party_size=2), visit(shop, minutes=20),
               f.create_booking_starting_in(5, now=NOW, offering=usd)]
    no_show = [visit(shop, minutes=-180, status="no_show")]
    cancelled = [visit(shop, minutes=120, status="cancelled_by_resident"), visit(shop, minutes=30, status="rejected")]
    visit(shop, minutes=24 * 60)  # tomorrow
    f.create_booking_starting_in(10, now=NOW, offering=other_shop.offering)  # another store

    for booking in arrived:
        checkin.staff_check_in(shop.staff, shop.store.id, booking.code, KEY, NOW)
    wrong = checkin.record_payment(shop.staff, arrived[0].id, "176.00", "cash", None)
    checkin.record_payment(shop.staff, arrived[0].id, "160.00", "cash", "corrected", supersedes_id=wrong.id)
    checkin.record_payment(shop.staff, arrived[1].id, "88.00", "card_at_store", None)
    checkin.record_payment(shop.staff, arrived[2].id, "20.00", "cash", None)
    db.session.expire_all()

    day = checkin.roster(shop.staff, shop.store.id, None, NOW)
    assert day.day.isoformat() == "2030-03-05"

    def ids(items):
        return sorted(b.id for b in items)

    assert ids(day.expected) == ids(expected)
    assert ids(day.late) == ids(late)
    assert ids(day.arrived) == ids(arrived)
    assert ids(day.no_show) == ids(no_show)
    assert ids(day.cancelled) == ids(cancelled)
    assert day.takings == {"CNY": Decimal("248.00"), "USD": Decimal("20.00")}

    # The same roster seen from the owner, and nobody else.
    assert ids(checkin.roster(shop.owner, shop.store.id, None, NOW).arrived) == ids(arrived)
    for outsider in (other_shop.staff, f.create_user()):
        with pytest.raises(NotFound):
            checkin.roster(outsider, shop.store.id, None, NOW)


def test_roster_of_another_day(db, shop):
    tomorrow = visit(shop, minutes=24 * 60)
    visit(shop, minutes=10)
    day = checkin.roster(shop.staff, shop.store.id, (NOW + timedelta(days=1)).date(), NOW)
    assert [b.id for b in day.expected] == [tomorrow.id] and day.takings == {}
