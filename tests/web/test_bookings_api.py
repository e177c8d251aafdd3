"""The booking API over HTTP: happy paths, error envelopes, idempotency keys, who may do what,
and a fuzz that no input answers 500."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.merchants.models import BusinessStatus
from app.offerings.models import OfferingStatus
from bookings.models import (
    Booking,
    BookingEvent,
    Notification,
    OutboxEmail,
    Schedule,
    ScheduleTime,
    Slot,
    WaitlistEntry,
)
from bookings.services import CODE_ALPHABET
from tests import factories as f
from tests.web._bookings_world import ACTORS, World, booking_state, build_world, hour, read, scalar

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(db) -> World:
    return build_world()


class Api:
    """Calls the API as one user (a bearer token) or anonymously."""

    def __init__(self, client, user=None):
        self.client = client
        self.headers = f.token_for(user) if user is not None else {}

    def __call__(self, method: str, path: str, body=None, headers: dict | None = None, **kw):
        return self.client.open(path, method=method, json=body, headers={**self.headers, **(headers or {})}, **kw)

    def get(self, path, **kw):
        return self("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self("POST", path, body if body is not None else {}, **kw)


@pytest.fixture
def api(client, world):
    """``api(name)`` calls as one of the world's users."""
    made: dict[str, Api] = {}

    def as_(name: str = "resident") -> Api:
        if name not in made:
            made[name] = Api(client, world.users[name])
        return made[name]
    return as_


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]


def count_bookings(**where) -> int:
    query = select(func.count()).select_from(Booking)
    for key, value in where.items():
        query = query.where(getattr(Booking, key) == value)
    return scalar(query)


# -- availability -----------------------------------------------------------------------------------

def test_owner_sets_a_schedule_and_anyone_lists_the_slots(api, world):
    hand_made = {start for (start,) in read(select(Slot.starts_at).where(Slot.offering_id == world.offering.id))}
    response = api("owner")("PUT", f"/api/v1/offerings/{world.offering.id}/schedule", {
        "every": {"weekdays": [0, 1, 2, 3, 4, 5, 6], "from": "10:00", "to": "12:00", "minutes": 60},
        "weeks_ahead": 1, "min_notice_minutes": 0, "requires_approval": False,
        "exceptions": [{"date": (clock.today(SHANGHAI) + timedelta(days=3)).isoformat(),
                        "kind": "day_off"}]})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert set(result) == {"created", "removed", "kept_with_bookings", "capacity_updated"}
    # 10:00 and 11:00 on 7 local days from today: less the day off, today's that have passed, and
    # those that fall on a hand-made slot (which stays as it is)
    now, today = clock.now(), clock.today(SHANGHAI)
    planned = {datetime.combine(today + timedelta(days=d), time(h), tzinfo=SHANGHAI)
               for d in range(7) if d != 3 for h in (10, 11)}
    assert result["created"] == len({start for start in planned if start > now} - hand_made)
    assert result["kept_with_bookings"] >= 1  # the hand-made slots that hold bookings stay
    schedule = scalar(select(Schedule).where(Schedule.offering_id == world.offering.id))
    assert sorted({t.starts_at.hour for t in schedule.times}) == [10, 11]

    today = clock.today(SHANGHAI)
    listed = api("anonymous").get(f"/api/v1/offerings/{world.offering.id}/slots?from={today}"
                                  f"&to={today + timedelta(days=8)}")
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert len(items) >= result["created"]
    for item in items:
        assert set(item) == {"id", "starts_at", "ends_at", "capacity", "remaining", "bookable", "why_not"}
        start = datetime.fromisoformat(item["starts_at"])
        assert item["starts_at"].endswith("+08:00") and start.utcoffset() == timedelta(hours=8)
        assert datetime.fromisoformat(item["ends_at"]) - start == timedelta(minutes=60)
    by_id = {item["id"]: item for item in items}
    assert (by_id[world.slot.id]["capacity"], by_id[world.slot.id]["remaining"]) == (4, 2)
    assert [i["starts_at"] for i in items] == sorted(i["starts_at"] for i in items)


def test_slots_default_to_the_next_two_weeks(api, world):
    items = api("anonymous").get(f"/api/v1/offerings/{world.offering.id}/slots").get_json()["items"]
    ids = [i["id"] for i in items]
    assert world.slot.id in ids and world.free_slot.id in ids
    midnight = datetime.combine(clock.today(SHANGHAI), datetime.min.time(), tzinfo=SHANGHAI)
    assert all(midnight <= datetime.fromisoformat(i["starts_at"]) < midnight + timedelta(days=14) for i in items)
    assert world.full_slot.id in ids and all(i["remaining"] == 0 for i in items if i["id"] == world.full_slot.id)


def test_each_listed_slot_says_whether_it_can_be_booked_now_and_why_not(client, db, clock):
    clock.travel(datetime(2031, 3, 10, 9, 30, tzinfo=SHANGHAI), tick=False)  # Monday 09:30 at the store
    offering = f.create_offering(f.create_store(timezone="Asia/Shanghai"), capacity=2, duration_min=60)
    f.create_schedule(offering, [], min_notice_minutes=60)  # bookable from 10:30
    at = {name: f.create_slot(offering, datetime(2031, 3, 10, tzinfo=SHANGHAI) + timedelta(hours=h, minutes=m), **kw)
          for name, h, m, kw in [
              ("begun", 9, 0, {}), ("now", 9, 30, {}), ("inside_notice", 10, 0, {}), ("at_the_notice", 10, 30, {}),
              ("just_after", 10, 31, {}), ("full", 12, 0, {"seats_taken": 2}), ("one_left", 13, 0, {"seats_taken": 1}),
              ("cancelled", 14, 0, {"status": "cancelled"}), ("tomorrow_full", 33, 0, {"seats_taken": 2})]}
    response = client.get(f"/api/v1/offerings/{offering.id}/slots?from=2031-03-10&to=2031-03-12")
    assert response.status_code == 200
    listed = {item["id"]: (item["bookable"], item["why_not"]) for item in response.get_json()["items"]}
    assert {name: listed.get(slot.id) for name, slot in at.items()} == {
        "begun": (False, "started"), "now": (False, "started"), "inside_notice": (False, "inside_notice"),
        "at_the_notice": (False, "inside_notice"), "just_after": (True, None), "full": (False, "full"),
        "one_left": (True, None), "cancelled": None, "tomorrow_full": (False, "full")}
    # An hour later the clock has moved on, and so have the answers.
    clock.travel(datetime(2031, 3, 10, 10, 30, tzinfo=SHANGHAI), tick=False)
    items = client.get(f"/api/v1/offerings/{offering.id}/slots?from=2031-03-10&to=2031-03-12").get_json()["items"]
    assert {i["id"]: i["why_not"] for i in items}[at["just_after"].id] == "inside_notice"
    # What the list says is what booking finds.
    user = f.create_user()
    assert client.post("/api/v1/bookings", json={"slot_id": at["inside_notice"].id},
                       headers=f.token_for(user)).get_json()["error"]["code"] == "slot_in_past"


def test_the_slot_list_documents_its_why_not_codes(client, db):
    why_not = client.get("/openapi.json").get_json()["components"]["schemas"]["SlotToBookOut"]["properties"]["why_not"]
    assert set(why_not["enum"]) >= {"started", "inside_notice", "full", "cancelled"}
    assert "inside_notice" in why_not["description"]


@pytest.mark.parametrize("query,field", [
    ("from=2031-03-10&to=2031-03-09", "to"),
    ("from=2031-03-10&to=2031-03-10", "to"),
    ("from=2031-03-10&to=2031-06-10", "to"),
    ("from=10/03/2031", "from"),
    ("to=tomorrow", "to"),
])
def test_bad_slot_ranges_are_422(api, world, query, field):
    error = error_of(api("anonymous").get(f"/api/v1/offerings/{world.offering.id}/slots?{query}"), 422)
    assert error["code"] == "validation_failed" and field in error["details"]


def test_slots_of_an_unknown_or_hidden_experience_are_404(api, world):
    assert error_of(api("anonymous").get("/api/v1/offerings/2147483647/slots"), 404)["code"] == "not_found"
    world.offering.status = OfferingStatus.ARCHIVED
    db.session.flush()
    assert api("anonymous").get(f"/api/v1/offerings/{world.offering.id}/slots").status_code == 404


@pytest.mark.parametrize("body,field", [
    ({"weekly": [{"weekday": 1, "times": ["25:00"]}]}, "weekly"),
    ({"weekly": [{"weekday": 1, "times": ["10:00", "9:5"]}]}, "weekly"),
    ({"weekly": [{"weekday": 9, "times": ["10:00"]}]}, "weekly"),
    ({"weekly": [{"times": ["10:00"]}]}, "weekly"),
    ({"weekly": [{"weekday": 1, "times": "10:00"}]}, "weekly"),
    ({"every": {"from": "10:00", "to": "09:00", "minutes": 30}}, "every.to"),
    ({"every": {"from": "10am", "to": "12:00", "minutes": 30}}, "every"),
    ({"every": {"from": "10:00", "to": "12:00", "minutes": 3}}, "every"),
    ({"every": {"from": "00:00", "to": "23:59", "minutes": 5}}, "weekly"),
    ({"weeks_ahead": 0}, "weeks_ahead"),
    ({"min_notice_minutes": -5}, "min_notice_minutes"),
    ({"requires_approval": "perhaps"}, "requires_approval"),
    ({"exceptions": [{"date": "2031-02-30", "kind": "day_off"}]}, "exceptions"),
    ({"exceptions": [{"date": "2031-03-01", "kind": "extra_slot"}]}, "exceptions[0]"),
    ({"exceptions": [{"date": "2031-03-01", "kind": "closed"}]}, "exceptions"),
])
def test_bad_schedules_are_422_per_field_and_change_nothing(api, world, body, field):
    slots = read(select(Slot.id, Slot.status).where(Slot.offering_id == world.offering.id).order_by(Slot.id))
    response = api("owner")("PUT", f"/api/v1/offerings/{world.offering.id}/schedule", body)
    error = error_of(response, 422)
    assert error["code"] == "validation_failed" and field in error["details"], error
    assert read(select(Slot.id, Slot.status).where(Slot.offering_id == world.offering.id).order_by(Slot.id)) == slots
    assert scalar(select(func.count()).select_from(ScheduleTime)) == 0


# -- booking ---------------------------------------------------------------------------------------

def test_book_answers_201_with_the_booking(api, world):
    response = api("other_resident").post("/api/v1/bookings", {
        "slot_id": world.free_slot.id, "party_size": 3, "note": "Two beginners"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "confirmed" and body["payment_status"] == "unpaid"
    assert body["party_size"] == 3 and body["note"] == "Two beginners"
    assert body["price_due_at_store"] == {"amount": "264.00", "currency": "CNY"}
    assert body["unit_price"] == {"amount": "88.00", "currency": "CNY"}
    assert len(body["code"]) == 8 and set(body["code"]) <= set(CODE_ALPHABET)
    assert body["slot"]["id"] == world.free_slot.id and body["slot"]["remaining"] == 1
    assert datetime.fromisoformat(body["slot"]["starts_at"]) == world.free_slot.starts_at
    assert body["offering"] == {"id": world.offering.id, "title": "Pottery taster"}
    assert body["store"]["name"] == "Clay Corner" and body["store"]["address"] == "1 Nanshan Road"
    assert body["store"]["timezone"] == "Asia/Shanghai"
    assert (round(body["store"]["lng"], 4), round(body["store"]["lat"], 4)) == (120.149, 30.246)
    cutoff = datetime.fromisoformat(body["free_cancellation_until"])
    assert cutoff == world.free_slot.starts_at - timedelta(hours=24)
    assert body["is_late_cancel"] is False and body["late_cancel_notice"] is None
    assert count_bookings(slot_id=world.free_slot.id) == 1
    assert scalar(select(Slot.seats_taken).where(Slot.id == world.free_slot.id)) == 3


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("approval", [False, True])
def test_the_new_booking_reads_back_as_booked(api, world, lang, approval):
    """The booking's answer is put together from its own two statements; reading it back through the ORM gives the
    same body, and the statement left its notices, e-mails and audit event with it."""
    slot = world.free_slot
    if approval:
        api("owner")("PUT", f"/api/v1/offerings/{world.offering.id}/schedule", {"requires_approval": True})
        slot = world.slot  # the schedule change leaves the booked slot (only)
    guest, owner = api("other_resident"), world.users["owner"]
    mailed = {user.email: scalar(select(func.count()).where(OutboxEmail.to_email == user.email))
              for user in (world.users["other_resident"], owner)}
    booked = guest.post(f"/api/v1/bookings?lang={lang}", {"slot_id": slot.id, "party_size": 1, "note": " Window seat "})
    assert booked.status_code == 201, booked.get_data(as_text=True)
    body = booked.get_json()
    assert body == guest.get(f"/api/v1/bookings/{body['id']}?lang={lang}").get_json()
    assert body["status"] == ("pending" if approval else "confirmed") and body["note"] == "Window seat"
    who = {user.id: name for name, user in world.users.items() if user is not None}
    notices = read(select(Notification.user_id, Notification.kind, Notification.title)
                   .where(Notification.booking_id == body["id"]).order_by(Notification.id))
    assert [(who[user], kind) for user, kind, _title in notices] == [("other_resident", "booked"),
                                                                     ("owner", "new_booking")]
    assert all("Pottery taster" in title for _user, _kind, title in notices)
    for email, before in mailed.items():
        subjects = [subject for subject, in read(select(OutboxEmail.subject).where(OutboxEmail.to_email == email)
                                                 .order_by(OutboxEmail.id))]
        assert len(subjects) == before + 1 and "Pottery taster" in subjects[-1]
    assert read(select(BookingEvent.actor_id, BookingEvent.from_status, BookingEvent.to_status, BookingEvent.reason,
                       BookingEvent.data).where(BookingEvent.booking_id == body["id"])) == [
        (world.users["other_resident"].id, None, body["status"], "booked", {"party_size": 1})]


def test_book_a_pending_experience(api, world):
    api("owner")("PUT", f"/api/v1/offerings/{world.offering.id}/schedule", {"requires_approval": True})
    body = api("other_resident").post("/api/v1/bookings", {"slot_id": world.slot.id}).get_json()
    assert body["status"] == "pending" and body["party_size"] == 1


@pytest.mark.parametrize("body,field", [
    ({"slot_id": "SLOT", "party_size": 1}, "slot_id"),
    ({"party_size": 1}, "slot_id"),
    ({"slot_id": 2**31, "party_size": 1}, "slot_id"),
    ({"slot_id": 0}, "slot_id"),
    ({"slot_id": None}, "slot_id"),
    ({"slot_id": "SLOT_ID", "party_size": 0}, "party_size"),
    ({"slot_id": "SLOT_ID", "party_size": 51}, "party_size"),
    ({"slot_id": "SLOT_ID", "party_size": "x"}, "party_size"),
    ({"slot_id": "SLOT_ID", "party_size": 1.5}, "party_size"),
    ({"slot_id": "SLOT_ID", "note": "x" * 501}, "note"),
    ({"slot_id": "SLOT_ID", "note": 12}, "note"),
])
def test_bad_booking_input_is_422_per_field(api, world, body, field):
    body = {k: (world.free_slot.id if v == "SLOT_ID" else v) for k, v in body.items()}
    error = error_of(api().post("/api/v1/bookings", body), 422)
    assert error["code"] == "validation_failed" and field in error["details"], error
    assert count_bookings(slot_id=world.free_slot.id) == 0


def test_an_unknown_slot_is_404_slot_not_found(api, world):
    error = error_of(api().post("/api/v1/bookings", {"slot_id": 2**31 - 1}), 404)
    assert error["code"] == "slot_not_found"


def test_booking_conflicts_are_409_with_their_codes(api, world):
    resident = api()
    assert error_of(resident.post("/api/v1/bookings", {"slot_id": world.slot.id}), 409)["code"] == "already_booked"
    full = error_of(api("other_resident").post("/api/v1/bookings", {"slot_id": world.slot.id, "party_size": 3}), 409)
    assert full["code"] == "slot_full" and full["details"] == {"remaining": 2, "party_size": 3}
    past = error_of(api("other_resident").post("/api/v1/bookings", {"slot_id": world.ended.slot_id}), 409)
    assert past["code"] == "slot_in_past"
    closed = f.create_slot(world.offering, hour(days=10), status="cancelled")
    assert error_of(resident.post("/api/v1/bookings", {"slot_id": closed.id}), 409)["code"] == "slot_closed"
    assert count_bookings(resident_id=world.resident.id) == 4  # what the world gave them, nothing more


def test_booking_a_suspended_business_is_slot_closed(api, world):
    world.store.business.status = BusinessStatus.SUSPENDED
    db.session.flush()
    assert error_of(api().post("/api/v1/bookings", {"slot_id": world.free_slot.id}), 409)["code"] == "slot_closed"


def test_malformed_json_is_a_clean_400(api, world):
    response = api().client.post("/api/v1/bookings", data="{slot_id: 1", content_type="application/json",
                                 headers=api().headers)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed_json"


# -- idempotency -----------------------------------------------------------------------------------

def test_the_same_key_and_body_replays_the_first_answer(api, world):
    body = {"slot_id": world.free_slot.id, "party_size": 2, "note": "hi"}
    first = api().post("/api/v1/bookings", body, headers={"Idempotency-Key": "abc-123"})
    again = api().post("/api/v1/bookings", body, headers={"Idempotency-Key": "abc-123"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert count_bookings(slot_id=world.free_slot.id) == 1
    assert scalar(select(Slot.seats_taken).where(Slot.id == world.free_slot.id)) == 2


def test_the_same_key_with_another_body_is_422(api, world):
    api().post("/api/v1/bookings", {"slot_id": world.free_slot.id}, headers={"Idempotency-Key": "k1"})
    error = error_of(api().post("/api/v1/bookings", {"slot_id": world.free_slot.id, "party_size": 2},
                                headers={"Idempotency-Key": "k1"}), 422)
    assert error["code"] == "idempotency_key_reused"
    assert count_bookings(slot_id=world.free_slot.id) == 1


def test_keys_belong_to_one_user(api, world):
    body = {"slot_id": world.free_slot.id}
    ann = api().post("/api/v1/bookings", body, headers={"Idempotency-Key": "same"})
    bob = api("other_resident").post("/api/v1/bookings", body, headers={"Idempotency-Key": "same"})
    assert (ann.status_code, bob.status_code) == (201, 201)
    assert ann.get_json()["id"] != bob.get_json()["id"]
    assert count_bookings(slot_id=world.free_slot.id) == 2


def test_a_refused_request_does_not_hold_its_key(api, world):
    refused = api().post("/api/v1/bookings", {"slot_id": world.free_slot.id, "party_size": 5},
                         headers={"Idempotency-Key": "retry-me"})
    error = error_of(refused, 422)  # a party larger than the slot ever seats is not a full slot
    assert error["details"] == {"party_size": "Choose a party of 1 to 4 people."}
    ok = api().post("/api/v1/bookings", {"slot_id": world.free_slot.id, "party_size": 4},
                    headers={"Idempotency-Key": "retry-me"})
    assert ok.status_code == 201


@pytest.mark.parametrize("key", ["", "   ", "k" * 201])
def test_an_empty_or_overlong_key_is_422(api, world, key):
    error = error_of(api().post("/api/v1/bookings", {"slot_id": world.free_slot.id},
                                headers={"Idempotency-Key": key}), 422)
    assert "Idempotency-Key" in error["details"]
    assert count_bookings(slot_id=world.free_slot.id) == 0


# -- reading bookings ------------------------------------------------------------------------------

def test_my_bookings_upcoming_and_past(api, world):
    upcoming = api().get("/api/v1/bookings").get_json()["items"]
    assert [b["id"] for b in upcoming] == [world.ended.id, world.booking.id, world.pending.id,
                                           scalar(select(Booking.id).where(Booking.slot_id == world.full_slot.id))]
    assert api().get("/api/v1/bookings?when=past").get_json()["items"] == []
    assert error_of(api().get("/api/v1/bookings?when=someday"), 422)["code"] == "validation_failed"
    assert api("other_resident").get("/api/v1/bookings").get_json()["items"] == []


def test_one_booking_and_its_calendar_file(api, world):
    body = api().get(f"/api/v1/bookings/{world.booking.id}").get_json()
    assert (body["id"], body["code"], body["party_size"]) == (world.booking.id, world.booking.code, 2)
    ics = api().get(f"/api/v1/bookings/{world.booking.id}.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert f'filename="onsite-{world.booking.code}.ics"' in ics.headers["Content-Disposition"]
    event = Calendar.from_ical(ics.data).walk("VEVENT")[0]
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("DTSTART").astimezone(UTC) == world.slot.starts_at
    assert "1 Nanshan Road" in str(event["LOCATION"])


def test_unknown_bookings_are_404(api, world):
    for path in ("/api/v1/bookings/2147483647", "/api/v1/bookings/2147483647.ics", "/api/v1/bookings/99999999999"):
        assert error_of(api().get(path), 404)["code"] == "not_found"


def test_the_inbox_over_the_api(api, world):
    api("other_resident").post("/api/v1/bookings", {"slot_id": world.free_slot.id})
    items = api("other_resident").get("/api/v1/notifications").get_json()
    assert [(n["kind"], n["read"]) for n in items] == [("booked", False)]
    assert "Pottery taster" in items[0]["title"] and items[0]["booking_id"]
    owner_kinds = [n["kind"] for n in api("owner").get("/api/v1/notifications").get_json()]
    assert owner_kinds == ["new_booking"]
    assert api("anonymous").get("/api/v1/notifications").status_code == 401


# -- changing bookings -----------------------------------------------------------------------------

def test_cancel_before_and_after_the_cutoff(api, world):
    body = api().post(f"/api/v1/bookings/{world.booking.id}/cancel").get_json()
    assert (body["status"], body["is_late_cancel"], body["late_cancel_notice"]) == (
        "cancelled_by_resident", False, None)
    soon = f.create_booking(f.create_slot(world.offering, hour(hours=3)), world.resident)
    late = api().post(f"/api/v1/bookings/{soon.id}/cancel", {"reason": "ill"}).get_json()
    assert late["is_late_cancel"] is True and "late cancel" in late["late_cancel_notice"]
    again = error_of(api().post(f"/api/v1/bookings/{soon.id}/cancel"), 409)
    assert again["code"] == "invalid_transition" and again["details"] == {
        "from": "cancelled_by_resident", "to": "cancelled_by_resident"}


def test_the_store_must_say_why_it_cancels(api, world):
    error = error_of(api("owner").post(f"/api/v1/bookings/{world.booking.id}/cancel"), 422)
    assert "reason" in error["details"]
    error = error_of(api("owner").post(f"/api/v1/bookings/{world.booking.id}/cancel", {"reason": "x" * 301}), 422)
    assert "reason" in error["details"]
    body = api("owner").post(f"/api/v1/bookings/{world.booking.id}/cancel", {"reason": "Kiln broke"}).get_json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled_by_merchant", "Kiln broke")
    kinds = [n["kind"] for n in api().get("/api/v1/notifications").get_json()]
    assert "cancelled" in kinds


def test_reschedule_moves_the_seats(api, world):
    body = api().post(f"/api/v1/bookings/{world.booking.id}/reschedule", {"slot_id": world.free_slot.id}).get_json()
    assert body["slot"]["id"] == world.free_slot.id and body["slot"]["remaining"] == 2
    assert body["code"] == world.booking.code
    seats = dict(read(select(Slot.id, Slot.seats_taken).where(
        Slot.id.in_([world.slot.id, world.free_slot.id]))))
    assert seats == {world.slot.id: 0, world.free_slot.id: 2}


def test_reschedule_errors(api, world):
    url = f"/api/v1/bookings/{world.booking.id}/reschedule"
    assert error_of(api().post(url, {"slot_id": world.other_slot.id}), 422)["details"] == {
        "slot_id": "must be a slot of the same experience."}
    assert "slot_id" in error_of(api().post(url, {}), 422)["details"]
    assert "slot_id" in error_of(api().post(url, {"slot_id": "x"}), 422)["details"]
    assert error_of(api().post(url, {"slot_id": 2**31 - 1}), 404)["code"] == "slot_not_found"
    small = f.create_slot(world.offering, hour(days=11), capacity=1)
    assert error_of(api().post(url, {"slot_id": small.id}), 409)["code"] == "slot_full"
    assert error_of(api().post(url, {"slot_id": world.slot.id}), 409)["code"] == "same_slot"
    soon = f.create_booking(f.create_slot(world.offering, hour(hours=3)), world.resident)
    late = error_of(api().post(f"/api/v1/bookings/{soon.id}/reschedule", {"slot_id": world.free_slot.id}), 409)
    assert late["code"] == "past_cutoff"
    assert booking_state()(world) == [("confirmed", world.slot.id, None)]
    assert scalar(select(Slot.seats_taken).where(Slot.id == world.free_slot.id)) == 0


def test_confirm_and_reject(api, world):
    body = api("staff").post(f"/api/v1/bookings/{world.pending.id}/confirm").get_json()
    assert body["status"] == "confirmed"
    assert error_of(api("staff").post(f"/api/v1/bookings/{world.pending.id}/confirm"), 409)["code"] == (
        "invalid_transition")
    assert error_of(api("staff").post(f"/api/v1/bookings/{world.pending.id}/reject"), 409)["code"] == (
        "invalid_transition")
    other = f.create_booking(f.create_slot(world.offering, hour(days=12)), status="pending")
    body = api("owner").post(f"/api/v1/bookings/{other.id}/reject", {"reason": "Private event"}).get_json()
    assert (body["status"], body["cancel_reason"]) == ("rejected", "Private event")


def test_no_show_waits_for_the_end_of_the_slot(api, world):
    early = error_of(api("staff").post(f"/api/v1/bookings/{world.booking.id}/no-show"), 409)
    assert early["code"] == "slot_not_over"
    assert api("staff").post(f"/api/v1/bookings/{world.ended.id}/no-show").get_json()["status"] == "no_show"
    assert error_of(api("staff").post(f"/api/v1/bookings/{world.ended.id}/no-show"), 409)["code"] == (
        "invalid_transition")


def test_cancel_a_slot(api, world):
    url = f"/api/v1/slots/{world.slot.id}/cancel"
    assert "reason" in error_of(api("owner").post(url), 422)["details"]
    assert api("owner").post(url, {"reason": "Flooded"}).get_json() == {"cancelled_bookings": 1}
    assert booking_state()(world) == [("cancelled_by_merchant", world.slot.id, "Flooded")]
    assert error_of(api("owner").post(url, {"reason": "Again"}), 409)["code"] == "slot_closed"
    assert error_of(api("owner").post("/api/v1/slots/2147483647/cancel", {"reason": "x"}), 404)["code"] == (
        "slot_not_found")


def test_waitlist_join_and_leave(api, world):
    url = f"/api/v1/slots/{world.full_slot.id}/waitlist"
    response = api("other_resident").post(url, {"party_size": 1, "note": "any time"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["slot_id"], body["party_size"], body["status"], body["booking_id"]) == (
        world.full_slot.id, 1, "waiting", None)
    assert error_of(api("other_resident").post(url, {}), 409)["code"] == "already_waiting"
    assert error_of(api().post(url, {}), 409)["code"] == "already_booked"
    room = error_of(api("other_resident").post(f"/api/v1/slots/{world.free_slot.id}/waitlist", {}), 409)
    assert room["code"] == "slot_has_room" and room["details"] == {"remaining": 4}
    assert "party_size" in error_of(api("other_resident").post(url, {"party_size": 0}), 422)["details"]
    assert error_of(api("other_resident").post("/api/v1/slots/2147483647/waitlist", {}), 404)["code"] == (
        "slot_not_found")
    left = api("other_resident")("DELETE", f"/api/v1/waitlist/{body['id']}")
    assert left.status_code == 204 and left.data == b""
    assert error_of(api("other_resident")("DELETE", f"/api/v1/waitlist/{body['id']}"), 404)["code"] == "not_found"


def test_a_freed_seat_goes_to_the_waitlist_over_http(api, world):
    entry_id = api("other_resident").post(f"/api/v1/slots/{world.full_slot.id}/waitlist", {}).get_json()["id"]
    full_booking = scalar(select(Booking.id).where(Booking.slot_id == world.full_slot.id))
    api().post(f"/api/v1/bookings/{full_booking}/cancel")
    entry = scalar(select(WaitlistEntry).where(WaitlistEntry.id == entry_id))
    assert entry.status == "promoted"
    mine = api("other_resident").get("/api/v1/bookings").get_json()["items"]
    assert [(b["slot"]["id"], b["status"]) for b in mine] == [(world.full_slot.id, "confirmed")]
    assert "promoted" in [n["kind"] for n in api("other_resident").get("/api/v1/notifications").get_json()]


def test_store_bookings_by_local_day(api, world):
    day = world.slot.starts_at.astimezone(SHANGHAI).date()
    items = api("staff").get(f"/api/v1/stores/{world.store.id}/bookings?day={day}").get_json()["items"]
    assert [b["id"] for b in items] == [world.booking.id]
    today = api("owner").get(f"/api/v1/stores/{world.store.id}/bookings").get_json()["items"]
    assert all(datetime.fromisoformat(b["slot"]["starts_at"]).date() == clock.today(SHANGHAI)
               for b in today)
    ended_day = world.ended.starts_at.astimezone(SHANGHAI).date()
    items = api("owner").get(f"/api/v1/stores/{world.store.id}/bookings?day={ended_day}").get_json()["items"]
    assert [b["id"] for b in items] == [world.ended.id]
    assert "day" in error_of(api("owner").get(f"/api/v1/stores/{world.store.id}/bookings?day=soon"), 422)["details"]
    assert api("owner").get("/api/v1/stores/2147483647/bookings").status_code == 404


# -- the access matrix -----------------------------------------------------------------------------

@dataclass
class Case:
    id: str
    send: Callable[[Api, World], object]
    expected: dict[str, int]
    state: Callable[[World], object] | None = None
    # Who changes the state; default: whoever gets a 2xx.
    changes: set[str] | None = field(default=None)


def _statuses(default: int, **overrides: int) -> dict[str, int]:
    return {name: overrides.get(name, default) for name in ACTORS} | {"anonymous": 401}


STORE_PEOPLE = {"owner": 200, "staff": 200, "admin": 200}
OWNERS = {"owner": 200, "admin": 200}
SEE_BOOKING = {"resident": 200, **STORE_PEOPLE}


def _cases() -> list[Case]:
    slot_status = lambda w: read(select(Slot.status).where(Slot.id == w.slot.id))  # noqa: E731
    return [
        Case("book", lambda a, w: a.post("/api/v1/bookings", {"slot_id": w.free_slot.id}),
             _statuses(201),
             lambda w: read(select(func.count()).select_from(Booking).where(Booking.slot_id == w.free_slot.id))),
        Case("cancel", lambda a, w: a.post(f"/api/v1/bookings/{w.booking.id}/cancel", {"reason": "Closing early"}),
             _statuses(404, resident=200, owner=200, admin=200, staff=403), booking_state()),
        Case("reschedule", lambda a, w: a.post(f"/api/v1/bookings/{w.booking.id}/reschedule",
                                               {"slot_id": w.free_slot.id}),
             _statuses(404, resident=200, owner=403, staff=403, admin=403), booking_state()),
        Case("confirm", lambda a, w: a.post(f"/api/v1/bookings/{w.pending.id}/confirm"),
             _statuses(404, **STORE_PEOPLE), booking_state("pending")),
        Case("reject", lambda a, w: a.post(f"/api/v1/bookings/{w.pending.id}/reject", {"reason": "Full"}),
             _statuses(404, **STORE_PEOPLE), booking_state("pending")),
        Case("no-show", lambda a, w: a.post(f"/api/v1/bookings/{w.ended.id}/no-show"),
             _statuses(404, **STORE_PEOPLE), booking_state("ended")),
        Case("cancel-slot", lambda a, w: a.post(f"/api/v1/slots/{w.slot.id}/cancel", {"reason": "Flooded"}),
             _statuses(403, **OWNERS), slot_status),
        Case("put-schedule", lambda a, w: a("PUT", f"/api/v1/offerings/{w.offering.id}/schedule",
                                            {"weekly": [{"weekday": 2, "times": ["10:00"]}], "weeks_ahead": 1}),
             _statuses(403, **OWNERS),
             lambda w: read(select(ScheduleTime.weekday, ScheduleTime.starts_at).join(Schedule)
                            .where(Schedule.offering_id == w.offering.id))),
        Case("join-waitlist", lambda a, w: a.post(f"/api/v1/slots/{w.full_slot.id}/waitlist", {}),
             _statuses(201, resident=409),
             lambda w: read(select(func.count()).select_from(WaitlistEntry)
                            .where(WaitlistEntry.slot_id == w.full_slot.id))),
        Case("leave-waitlist", lambda a, w: a("DELETE", f"/api/v1/waitlist/{w.entry.id}"),
             _statuses(404, resident=204),
             lambda w: read(select(WaitlistEntry.status).where(WaitlistEntry.id == w.entry.id))),
        Case("store-bookings", lambda a, w: a.get(
            f"/api/v1/stores/{w.store.id}/bookings?day={w.slot.starts_at.astimezone(SHANGHAI).date()}"),
             _statuses(404, **STORE_PEOPLE)),
        Case("booking-detail", lambda a, w: a.get(f"/api/v1/bookings/{w.booking.id}"),
             _statuses(404, **SEE_BOOKING)),
        Case("booking-ics", lambda a, w: a.get(f"/api/v1/bookings/{w.booking.id}.ics"),
             _statuses(404, **SEE_BOOKING)),
    ]


CASES = _cases()


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_access_matrix(client, world, case, who):
    caller = Api(client, world.users[who])
    before = case.state(world) if case.state else None
    response = case.send(caller, world)
    expected = case.expected[who]
    assert response.status_code == expected, (who, response.get_data(as_text=True))
    if expected >= 400:
        body = response.get_json()
        assert body["error"]["code"] in {"unauthenticated", "forbidden", "not_found", "already_booked"}
    if case.state:
        after = case.state(world)
        if 200 <= expected < 300:
            assert after != before, f"{who} got {expected} but nothing changed"
        else:
            assert after == before, f"{who} was refused but the state changed"
    if case.id == "store-bookings" and expected == 200:
        assert [b["id"] for b in response.get_json()["items"]] == [world.booking.id]
    if case.id == "booking-detail" and expected == 200:
        assert response.get_json()["code"] == world.booking.code


def test_a_session_cookie_without_csrf_cannot_book(client, auth, world):
    auth.login(world.resident.email)
    response = client.post("/api/v1/bookings", json={"slot_id": world.free_slot.id})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf_failed"
    token = auth.csrf("/")
    ok = client.post("/api/v1/bookings", json={"slot_id": world.free_slot.id}, headers={"X-CSRFToken": token})
    assert ok.status_code == 201


# -- fuzz: nothing answers 500 ---------------------------------------------------------------------

ODD_VALUES = [None, True, False, 0, -1, 1, 2**31, 2**63, -(2**63), 1e308, -0.0, "", " ", "1", "x" * 10_000,
              "\x00", "💥", "10:00", "2031-03-10", "25:61", [], [1], {}, {"a": 1}, [[[]]]]


def _odd(rng: random.Random):
    return rng.choice(ODD_VALUES)


def _fuzz_bodies(rng: random.Random, fields: list[str], n: int):
    yield from (None, [], "string", 42, {})
    for _ in range(n):
        body = {name: _odd(rng) for name in fields if rng.random() < 0.8}
        if rng.random() < 0.2:
            body[rng.choice(["extra", "__proto__", ""])] = _odd(rng)
        yield body


def _assert_clean(response, what):
    assert response.status_code < 500, (what, response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        body = response.get_json()
        assert body and "code" in body["error"], what


def test_fuzz_json_endpoints_never_answer_500(client, world):
    rng = random.Random(20310310)
    owner, resident = Api(client, world.owner), Api(client, world.resident)
    targets = [
        (resident, "POST", "/api/v1/bookings", ["slot_id", "party_size", "note"]),
        (resident, "POST", f"/api/v1/bookings/{world.booking.id}/cancel", ["reason"]),
        (resident, "POST", f"/api/v1/bookings/{world.booking.id}/reschedule", ["slot_id"]),
        (owner, "POST", f"/api/v1/bookings/{world.pending.id}/reject", ["reason"]),
        (owner, "POST", f"/api/v1/slots/{world.free_slot.id}/cancel", ["reason"]),
        (resident, "POST", f"/api/v1/slots/{world.full_slot.id}/waitlist", ["party_size", "note"]),
        (owner, "PUT", f"/api/v1/offerings/{world.offering.id}/schedule",
         ["weekly", "every", "weeks_ahead", "min_notice_minutes", "checkin_opens_minutes", "requires_approval",
          "exceptions"]),
        # The check-in endpoints share the blueprint: no 500 from them either (429 is a clean answer).
        (owner, "POST", "/api/v1/checkins", ["code", "store_id", "nonce"]),
        (resident, "POST", f"/api/v1/bookings/{world.booking.id}/self-checkin", ["lat", "lng", "accuracy",
                                                                                 "store_code"]),
        (owner, "POST", f"/api/v1/bookings/{world.booking.id}/payments", ["amount", "method", "note",
                                                                          "supersedes_id"]),
    ]
    for caller, method, path, fields in targets:
        for body in _fuzz_bodies(rng, fields, 40):
            _assert_clean(caller(method, path, body), (path, body))
    # Nested shapes of a schedule, one field at a time.
    for _ in range(60):
        body = {"weekly": [{"weekday": _odd(rng), "times": [_odd(rng), "10:00"]}],
                "every": rng.choice([None, {"weekdays": [_odd(rng)], "from": _odd(rng), "to": _odd(rng),
                                            "minutes": _odd(rng)}]),
                "exceptions": [{"date": _odd(rng), "kind": rng.choice(["day_off", "extra_slot", _odd(rng)]),
                                "time": _odd(rng)}]}
        _assert_clean(owner("PUT", f"/api/v1/offerings/{world.offering.id}/schedule", body), body)
    # Headers and raw bodies.
    for key in ["", " ", "k" * 5000, "ü", "a\tb"]:
        _assert_clean(resident.post("/api/v1/bookings", {"slot_id": world.free_slot.id},
                                    headers={"Idempotency-Key": key}), key)
    for raw, kind in [(b"\xff\xfe", "application/json"), (b"[1,2", "application/json"),
                      (b"slot_id=1", "application/x-www-form-urlencoded"), (b"", "application/json"),
                      (json.dumps({"slot_id": world.free_slot.id}).encode(), "text/plain")]:
        _assert_clean(client.post("/api/v1/bookings", data=raw, content_type=kind, headers=resident.headers), raw)


@pytest.mark.parametrize("query", [
    "from=9999-12-31", "from=9999-12-20&to=9999-12-31", "from=0001-01-01", "from=0001-01-01&to=0001-01-02",
    "to=0001-01-01", "from=2031-02-29", "from=" + "9" * 50, "from=2031-03-10&to=2031-03-10T10:00",
])
def test_fuzz_slot_ranges_never_answer_500(client, world, query):
    _assert_clean(client.get(f"/api/v1/offerings/{world.offering.id}/slots?{query}"), query)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2031-13-01", "-1", "%00"])
def test_fuzz_store_days_never_answer_500(client, world, day):
    for path in (f"/api/v1/stores/{world.store.id}/bookings?day={day}",
                 f"/api/v1/stores/{world.store.id}/roster?day={day}"):
        _assert_clean(Api(client, world.owner).get(path), (path, day))
