"""The booking services on PostGIS: schedules and slots, booking, cancel, reschedule, waitlist,
merchant actions, the cron sweep, the outbox, the audit trail and calendar files.

Time is frozen by passing ``now`` to every service: NOW is Monday 10 March 2031, 08:00 in Shanghai.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select, text

from app.auth.models import Role
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.merchants.models import BusinessStatus, StoreStatus
from app.offerings.models import OfferingStatus
from bookings import services
from bookings.calendar import ics_for
from bookings.errors import (
    AlreadyBooked,
    AlreadyWaiting,
    InvalidTransition,
    SlotClosed,
    SlotFull,
    SlotHasRoom,
    SlotInPast,
    SlotNotFound,
)
from bookings.models import (
    Booking,
    BookingEvent,
    IdempotencyKey,
    Notification,
    OutboxEmail,
    Schedule,
    Slot,
    WaitlistEntry,
)
from bookings.services import records  # the module that issues codes, patched by one test
from bookings.states import SlotStatus
from tests import factories as f

NOW = datetime(2031, 3, 10, 0, 0, tzinfo=UTC)  # Mon 10 Mar 2031, 08:00 Asia/Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY = 1


@pytest.fixture
def shop(db):
    owner = f.create_merchant(email="owner@shop.test")
    store = f.create_store(f.create_business(owner), name="Clay Corner", address="1 Nanshan Road")
    offering = f.create_offering(store, title="Pottery", capacity=4, price_amount=Decimal("88.00"),
                                 duration_min=60, cancel_cutoff_hours=24, policy_text="Bring an apron.")
    return SimpleNamespace(owner=owner, store=store, offering=offering,
                           staff=f.add_staff(store, f.create_user(Role.STAFF)),
                           resident=f.create_user(email="ann@resident.test"),
                           other=f.create_user(email="bob@resident.test"))


def slot_in(shop, hours: float, **kw) -> Slot:
    """A slot of the shop's experience starting ``hours`` after NOW."""
    return f.create_slot(shop.offering, NOW + timedelta(hours=hours), **kw)


def fresh(db, *rows):
    db.session.flush()  # a refresh would drop changes a service made but left to the route's commit
    for row in rows:
        db.session.refresh(row)
    return rows[0] if len(rows) == 1 else rows


def reload(db) -> None:
    db.session.flush()
    db.session.expire_all()


def slots_of(db, offering) -> list[tuple[str, str, int, int]]:
    reload(db)
    rows = db.session.scalars(select(Slot).where(Slot.offering_id == offering.id).order_by(Slot.starts_at))
    zone = ZoneInfo(offering.store.timezone)
    return [(s.starts_at.astimezone(zone).strftime("%a %d %H:%M"), s.status, s.capacity, s.seats_taken)
            for s in rows]


def last_event(db, booking) -> tuple:
    event = db.session.scalars(select(BookingEvent).where(BookingEvent.booking_id == booking.id)
                               .order_by(BookingEvent.id.desc())).first()
    return event.actor_id, event.from_status, event.to_status, event.reason


def inbox(db, user, kind: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


def mails_to(db, user) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_email == user.email)
                                   .order_by(OutboxEmail.id)))


def schedule(shop, weekly, *, now=NOW, **rules):
    return services.set_schedule(shop.owner, shop.offering, {"weekly": weekly, **rules}, now)


def tuesdays(*times: str) -> list[dict]:
    return [{"weekday": TUESDAY, "times": list(times)}]


# -- schedules and slots --------------------------------------------------------------------------

def test_set_schedule_creates_the_slots_of_the_next_weeks(db, shop):
    result = schedule(shop, tuesdays("10:00", "14:00"), weeks_ahead=2)
    assert (result.created, result.removed, result.kept_with_bookings) == (4, 0, 0)
    assert slots_of(db, shop.offering) == [("Tue 11 10:00", "open", 4, 0), ("Tue 11 14:00", "open", 4, 0),
                                           ("Tue 18 10:00", "open", 4, 0), ("Tue 18 14:00", "open", 4, 0)]
    slot = db.session.scalars(select(Slot).where(Slot.offering_id == shop.offering.id)).first()
    assert slot.ends_at - slot.starts_at == timedelta(minutes=60)
    stored = services.get_schedule(shop.offering)
    assert (stored.weeks_ahead, stored.min_notice_minutes, stored.requires_approval) == (2, 60, False)
    assert [(t.weekday, t.starts_at) for t in stored.times] == [(1, time(10)), (1, time(14))]


def test_weeks_ahead_default_is_eight_and_sets_the_horizon(db, shop):
    assert schedule(shop, [{"weekday": d, "times": ["10:00"]} for d in range(7)]).created == 8 * 7
    assert services.get_schedule(shop.offering).weeks_ahead == 8


def test_no_slot_is_created_in_the_past(db, shop):
    # NOW is Monday 08:00 local: 07:00 has gone, 10:00 is still ahead.
    result = schedule(shop, [{"weekday": 0, "times": ["07:00", "10:00"]}], weeks_ahead=1)
    assert result.created == 1
    assert slots_of(db, shop.offering) == [("Mon 10 10:00", "open", 4, 0)]


def test_setting_the_same_schedule_again_changes_nothing(db, shop):
    schedule(shop, tuesdays("10:00"), weeks_ahead=3)
    before = slots_of(db, shop.offering)
    result = schedule(shop, tuesdays("10:00"), weeks_ahead=3)
    assert (result.created, result.removed, result.kept_with_bookings, result.capacity_updated) == (0, 0, 0, 0)
    assert slots_of(db, shop.offering) == before


def test_changed_times_drop_unbooked_slots_and_keep_booked_ones(db, shop):
    schedule(shop, tuesdays("10:00", "14:00"), weeks_ahead=2)
    booked = db.session.scalar(select(Slot).where(Slot.offering_id == shop.offering.id).order_by(Slot.starts_at)
                               .offset(1))  # Tue 11 14:00
    services.book(shop.resident, booked.id, 2, "", NOW)
    result = schedule(shop, tuesdays("10:00", "16:00"), weeks_ahead=2)
    assert (result.created, result.removed, result.kept_with_bookings) == (2, 1, 1)
    assert slots_of(db, shop.offering) == [
        ("Tue 11 10:00", "open", 4, 0), ("Tue 11 14:00", "open", 4, 2), ("Tue 11 16:00", "open", 4, 0),
        ("Tue 18 10:00", "open", 4, 0), ("Tue 18 16:00", "open", 4, 0)]
    # It is still counted on every save, until the owner cancels it.
    assert schedule(shop, tuesdays("10:00", "16:00"), weeks_ahead=2).kept_with_bookings == 1
    services.cancel_slot(shop.owner, booked, "Moved to 16:00", NOW)
    assert schedule(shop, tuesdays("10:00", "16:00"), weeks_ahead=2).kept_with_bookings == 0


def test_a_dropped_slot_whose_bookings_were_all_cancelled_is_closed_not_deleted(db, shop):
    schedule(shop, tuesdays("10:00"), weeks_ahead=1)
    slot = db.session.scalar(select(Slot).where(Slot.offering_id == shop.offering.id))
    booking = services.book(shop.resident, slot.id, 1, "", NOW)
    services.cancel(shop.resident, booking.id, "", NOW)
    result = schedule(shop, tuesdays("11:00"), weeks_ahead=1)
    assert (result.removed, result.kept_with_bookings) == (0, 0)
    fresh(db, slot)
    assert (slot.status, slot.cancel_reason) == (SlotStatus.UNPLANNED, None)
    assert db.session.get(Booking, booking.id).slot_id == slot.id
    # Planned again, it opens again.
    schedule(shop, tuesdays("10:00", "11:00"), weeks_ahead=1)
    assert fresh(db, slot).status == SlotStatus.OPEN


def test_a_slot_the_owner_cancelled_stays_cancelled_whatever_the_reason_says(db, shop):
    schedule(shop, tuesdays("10:00"), weeks_ahead=1)
    slot = db.session.scalar(select(Slot).where(Slot.offering_id == shop.offering.id))
    services.cancel_slot(shop.owner, slot, "No longer in the schedule.", NOW)  # once the reason was the flag
    schedule(shop, tuesdays("11:00"), weeks_ahead=1)
    schedule(shop, tuesdays("10:00"), weeks_ahead=1)
    assert (fresh(db, slot).status, slot.cancel_reason) == (SlotStatus.CANCELLED, "No longer in the schedule.")


def test_capacity_change_reaches_future_slots_but_never_below_seats_taken(db, shop):
    schedule(shop, tuesdays("10:00", "14:00"), weeks_ahead=1)
    ten, two = db.session.scalars(select(Slot).where(Slot.offering_id == shop.offering.id)
                                  .order_by(Slot.starts_at)).all()
    services.book(shop.resident, ten.id, 3, "", NOW)
    shop.offering.capacity = 2
    result = schedule(shop, tuesdays("10:00", "14:00"), weeks_ahead=1)
    assert result.capacity_updated == 1
    assert slots_of(db, shop.offering) == [("Tue 11 10:00", "open", 4, 3), ("Tue 11 14:00", "open", 2, 0)]
    shop.offering.capacity = 6
    assert schedule(shop, tuesdays("10:00", "14:00"), weeks_ahead=1).capacity_updated == 2
    assert slots_of(db, shop.offering) == [("Tue 11 10:00", "open", 6, 3), ("Tue 11 14:00", "open", 6, 0)]


def test_past_slots_keep_their_capacity(db, shop):
    past = slot_in(shop, -30)
    shop.offering.capacity = 9
    schedule(shop, tuesdays("10:00"), weeks_ahead=1)
    assert fresh(db, past).capacity == 4


def test_days_off_and_extra_slots_shape_the_slots(db, shop):
    schedule(shop, tuesdays("10:00"), weeks_ahead=2, exceptions=[
        {"date": "2031-03-11", "kind": "day_off"},
        {"date": "2031-03-13", "kind": "extra_slot", "time": "19:00"}])
    assert slots_of(db, shop.offering) == [("Thu 13 19:00", "open", 4, 0), ("Tue 18 10:00", "open", 4, 0)]
    stored = services.get_schedule(shop.offering)
    assert [(e.day, e.kind, e.starts_at) for e in stored.exceptions] == [
        (date(2031, 3, 11), "day_off", None), (date(2031, 3, 13), "extra_slot", time(19))]


def test_slots_of_a_paris_store_stay_at_ten_local_across_the_spring_change(db, shop):
    shop.store.timezone = "Europe/Paris"
    # Paris springs forward on Sunday 30 March 2031.
    schedule(shop, [{"weekday": d, "times": ["10:00"]} for d in range(7)], weeks_ahead=4)
    starts = db.session.scalars(select(Slot.starts_at).where(Slot.offering_id == shop.offering.id)
                                .order_by(Slot.starts_at)).all()
    paris = ZoneInfo("Europe/Paris")
    assert {s.astimezone(paris).time() for s in starts} == {time(10)}
    by_day = {s.astimezone(paris).date(): s.astimezone(UTC).time() for s in starts}
    assert by_day[date(2031, 3, 29)] == time(9) and by_day[date(2031, 3, 30)] == time(8)


@pytest.mark.parametrize("data,field", [
    ({"weekly": tuesdays("25:00")}, "weekly[0].times"),
    ({"weekly": [{"weekday": 9, "times": ["10:00"]}]}, "weekly[0].weekday"),
    ({"weeks_ahead": 0}, "weeks_ahead"),
    ({"weeks_ahead": 53}, "weeks_ahead"),
    ({"min_notice_minutes": -1}, "min_notice_minutes"),
    ({"checkin_opens_minutes": 5000}, "checkin_opens_minutes"),
    ({"requires_approval": "yes"}, "requires_approval"),
    ({"exceptions": "2031-03-11"}, "exceptions"),
    ({"exceptions": [{"date": "11/03/2031"}]}, "exceptions[0]"),
    ({"exceptions": [{"date": "2031-03-11", "kind": "holiday"}]}, "exceptions[0]"),
    ({"exceptions": [{"date": "2031-03-11", "kind": "extra_slot"}]}, "exceptions[0]"),
    ({"exceptions": [{"date": "2031-03-11", "kind": "extra_slot", "time": "7pm"}]}, "exceptions[0]"),
    ({"exceptions": ["2031-03-11"]}, "exceptions[0]"),
])
def test_bad_schedules_are_refused_field_by_field_and_save_nothing(db, shop, data, field):
    with pytest.raises(ValidationFailed) as excinfo:
        services.set_schedule(shop.owner, shop.offering, {"weekly": tuesdays("10:00"), **data}, NOW)
    assert excinfo.value.code == "validation_failed"
    assert field in excinfo.value.details
    assert services.get_schedule(shop.offering) is None
    assert slots_of(db, shop.offering) == []


@pytest.mark.parametrize("who", ["staff", "other_owner", "resident"])
def test_only_the_owner_or_an_admin_sets_a_schedule(db, shop, who):
    actor = {"staff": shop.staff, "other_owner": f.create_merchant(), "resident": shop.resident}[who]
    with pytest.raises(PermissionDenied):
        services.set_schedule(actor, shop.offering, {"weekly": tuesdays("10:00")}, NOW)
    assert services.get_schedule(shop.offering) is None
    admin = f.create_user(Role.ADMIN)
    assert services.set_schedule(admin, shop.offering, {"weekly": tuesdays("10:00")}, NOW).created == 8


def test_an_archived_experience_gets_no_new_slots_and_loses_unbooked_ones(db, shop):
    schedule(shop, tuesdays("10:00"), weeks_ahead=2)
    first = db.session.scalars(select(Slot).where(Slot.offering_id == shop.offering.id)
                               .order_by(Slot.starts_at)).first()
    services.book(shop.resident, first.id, 1, "", NOW)
    shop.offering.status = OfferingStatus.ARCHIVED
    result = services.sync_slots(shop.offering, NOW)
    assert (result.created, result.removed, result.kept_with_bookings) == (0, 1, 1)


def test_list_slots_returns_open_slots_in_the_range_in_order(db, shop):
    later, cancelled, sooner, outside = (slot_in(shop, 50), slot_in(shop, 40, status="cancelled"),
                                         slot_in(shop, 30), slot_in(shop, 24 * 30))
    found = services.list_slots(shop.offering, NOW, NOW + timedelta(days=7))
    assert [s.id for s in found] == [sooner.id, later.id]
    assert cancelled.id not in [s.id for s in found] and outside.id not in [s.id for s in found]
    # The range is [from, to): a slot starting exactly at ``to`` is not in it.
    assert services.list_slots(shop.offering, NOW, sooner.starts_at) == []


@pytest.mark.parametrize("start,end", [
    (NOW, NOW), (NOW, NOW - timedelta(hours=1)), (NOW, NOW + timedelta(days=62, seconds=1))])
def test_list_slots_refuses_inverted_or_too_long_ranges(db, shop, start, end):
    with pytest.raises(ValidationFailed) as excinfo:
        services.list_slots(shop.offering, start, end)
    assert "to" in excinfo.value.details


def test_list_slots_accepts_exactly_62_days(db, shop):
    slot = slot_in(shop, 24 * 61)
    assert [s.id for s in services.list_slots(shop.offering, NOW, NOW + timedelta(days=62))] == [slot.id]


# -- book -------------------------------------------------------------------------------------------

def test_book_takes_seats_and_prices_the_party(db, shop):
    slot = slot_in(shop, 48)
    booking = services.book(shop.resident, slot.id, 3, "  window seat please  ", NOW)
    assert booking.status == "confirmed" and booking.payment_status == "unpaid"
    assert (booking.unit_price, booking.price_due, booking.currency) == (Decimal("88.00"), Decimal("264.00"), "CNY")
    assert (booking.party_size, booking.note, booking.starts_at) == (3, "window seat please", slot.starts_at)
    assert (booking.store_id, booking.offering_id) == (shop.store.id, shop.offering.id)
    assert fresh(db, slot).seats_taken == 3
    assert last_event(db, booking) == (shop.resident.id, None, "confirmed", "booked")


def test_a_free_experience_costs_nothing_at_the_store(db, shop):
    shop.offering.price_amount = Decimal("0")
    booking = services.book(shop.resident, slot_in(shop, 48).id, 2, None, NOW)
    assert booking.price_due == Decimal("0.00") and booking.note == ""


def test_an_experience_that_needs_approval_books_as_pending(db, shop):
    schedule(shop, [], requires_approval=True, min_notice_minutes=0)
    booking = services.book(shop.resident, slot_in(shop, 48).id, 1, "", NOW)
    assert booking.status == "pending"
    assert last_event(db, booking) == (shop.resident.id, None, "pending", "booked")
    assert "waiting for your approval" in inbox(db, shop.owner, "new_booking")[0].body


def test_book_refuses_a_party_bigger_than_what_is_left(db, shop):
    slot = slot_in(shop, 48)
    services.book(shop.resident, slot.id, 3, "", NOW)
    with pytest.raises(SlotFull) as excinfo:
        services.book(shop.other, slot.id, 2, "", NOW)
    assert excinfo.value.code == "slot_full" and excinfo.value.http_status == 409
    assert excinfo.value.details == {"remaining": 1, "party_size": 2}
    assert services.book(shop.other, slot.id, 1, "", NOW).party_size == 1
    assert fresh(db, slot).seats_taken == 4
    with pytest.raises(SlotFull):
        services.book(f.create_user(), slot.id, 1, "", NOW)
    assert fresh(db, slot).seats_taken == 4
    assert db.session.scalar(select(func.count()).select_from(Booking).where(Booking.slot_id == slot.id)) == 2


def test_book_refuses_a_slot_that_has_started(db, shop):
    slot = slot_in(shop, -0.5)  # started half an hour ago
    with pytest.raises(SlotInPast) as excinfo:
        services.book(shop.resident, slot.id, 1, "", NOW)
    assert excinfo.value.code == "slot_in_past"
    assert fresh(db, slot).seats_taken == 0


def test_book_refuses_a_slot_within_the_minimum_notice(db, shop):
    schedule(shop, [], min_notice_minutes=120)
    too_soon, exactly, fine = slot_in(shop, 1.5), slot_in(shop, 2), slot_in(shop, 2.25)
    for slot in (too_soon, exactly):
        with pytest.raises(SlotInPast):
            services.book(shop.resident, slot.id, 1, "", NOW)
    assert services.book(shop.resident, fine.id, 1, "", NOW).status == "confirmed"


@pytest.mark.parametrize("how", ["slot_cancelled", "offering_archived", "business_suspended", "store_closed"])
def test_book_refuses_a_closed_slot(db, shop, how):
    slot = slot_in(shop, 48)
    if how == "slot_cancelled":
        slot.status = "cancelled"
    elif how == "offering_archived":
        shop.offering.status = OfferingStatus.ARCHIVED
    elif how == "business_suspended":
        shop.store.business.status = BusinessStatus.SUSPENDED
    else:
        shop.store.status = StoreStatus.CLOSED
    db.session.flush()
    with pytest.raises(SlotClosed) as excinfo:
        services.book(shop.resident, slot.id, 1, "", NOW)
    assert excinfo.value.code == "slot_closed" and excinfo.value.http_status == 409
    assert fresh(db, slot).seats_taken == 0


def test_book_refuses_an_unknown_slot(db, shop):
    with pytest.raises(SlotNotFound) as excinfo:
        services.book(shop.resident, 2**31 - 1, 1, "", NOW)
    assert (excinfo.value.code, excinfo.value.http_status) == ("slot_not_found", 404)


@pytest.mark.parametrize("slot_id", [0, -1, 2**31, True, "1", None, 1.0])
def test_book_refuses_a_malformed_slot_id(db, shop, slot_id):
    with pytest.raises(ValidationFailed) as excinfo:
        services.book(shop.resident, slot_id, 1, "", NOW)
    assert "slot_id" in excinfo.value.details


@pytest.mark.parametrize("party,note,fields", [
    (0, "", {"party_size"}), (51, "", {"party_size"}), ("2", "", {"party_size"}), (True, "", {"party_size"}),
    (None, "", {"party_size"}), (2.0, "", {"party_size"}), (1, "x" * 501, {"note"}), (1, 42, {"note"}),
    (0, "x" * 501, {"party_size", "note"}),
])
def test_book_validates_party_and_note(db, shop, party, note, fields):
    slot = slot_in(shop, 48)
    with pytest.raises(ValidationFailed) as excinfo:
        services.book(shop.resident, slot.id, party, note, NOW)
    assert set(excinfo.value.details) == fields
    assert fresh(db, slot).seats_taken == 0


def test_one_active_booking_per_resident_per_slot(db, shop):
    slot = slot_in(shop, 48)
    first = services.book(shop.resident, slot.id, 1, "", NOW)
    with pytest.raises(AlreadyBooked) as excinfo:
        services.book(shop.resident, slot.id, 1, "", NOW)
    assert excinfo.value.code == "already_booked"
    assert fresh(db, slot).seats_taken == 1
    services.cancel(shop.resident, first.id, "", NOW)
    assert services.book(shop.resident, slot.id, 2, "", NOW).id != first.id
    assert fresh(db, slot).seats_taken == 2


def test_codes_are_eight_unambiguous_characters_and_unique(db, shop):
    slot = slot_in(shop, 48, capacity=40)
    codes = [services.book(f.create_user(), slot.id, 1, "", NOW).code for _ in range(40)]
    assert len(set(codes)) == 40
    assert all(len(code) == 8 and set(code) <= set(services.CODE_ALPHABET) for code in codes)
    assert not set("01IO") & set(services.CODE_ALPHABET)


def test_a_code_collision_is_retried_with_a_new_code(db, shop, monkeypatch):
    slot = slot_in(shop, 48)
    taken = services.book(shop.resident, slot.id, 1, "", NOW).code
    issued = iter([taken, taken, "NEWCODE2"])
    monkeypatch.setattr(records, "new_code", lambda: next(issued))
    assert services.book(shop.other, slot.id, 1, "", NOW).code == "NEWCODE2"
    assert fresh(db, slot).seats_taken == 2


def test_the_capacity_check_is_in_the_database(db, shop):
    slot = slot_in(shop, 48)
    with pytest.raises(Exception, match="not_overbooked"), db.session.begin_nested():
        db.session.execute(text("UPDATE slots SET seats_taken = capacity + 1 WHERE id = :id"), {"id": slot.id})


# -- cancel -------------------------------------------------------------------------------------------

def test_cancel_before_the_cutoff_is_free_and_gives_the_seats_back(db, shop):
    slot = slot_in(shop, 48)  # cut-off 24 h before: 24 h from now
    booking = services.book(shop.resident, slot.id, 2, "", NOW)
    services.cancel(shop.resident, booking.id, "", NOW + timedelta(hours=23, minutes=59))
    assert (booking.status, booking.is_late_cancel, booking.cancel_reason) == ("cancelled_by_resident", False, None)
    assert fresh(db, slot).seats_taken == 0
    assert last_event(db, booking) == (shop.resident.id, "confirmed", "cancelled_by_resident", "")
    assert "cancelled" in inbox(db, shop.owner, "cancelled")[0].body
    assert "(late)" not in inbox(db, shop.owner, "cancelled")[0].body


def test_cancel_after_the_cutoff_is_a_late_cancel(db, shop):
    slot = slot_in(shop, 48)
    booking = services.book(shop.resident, slot.id, 2, "", NOW)
    services.cancel(shop.resident, booking.id, "stuck at work", NOW + timedelta(hours=24))
    assert (booking.status, booking.is_late_cancel) == ("cancelled_by_resident", True)
    assert fresh(db, slot).seats_taken == 0
    event = db.session.scalars(select(BookingEvent).where(BookingEvent.booking_id == booking.id)
                               .order_by(BookingEvent.id.desc())).first()
    assert event.data == {"late": True} and event.reason == "stuck at work"
    assert "(late)" in inbox(db, shop.owner, "cancelled")[0].body


def test_a_pending_booking_can_be_cancelled(db, shop):
    booking = f.create_booking(slot_in(shop, 48), shop.resident, status="pending")
    services.cancel(shop.resident, booking.id, "", NOW)
    assert booking.status == "cancelled_by_resident"


def test_cancelling_twice_is_an_invalid_transition(db, shop):
    slot = slot_in(shop, 48)
    booking = services.book(shop.resident, slot.id, 1, "", NOW)
    services.cancel(shop.resident, booking.id, "", NOW)
    with pytest.raises(InvalidTransition) as excinfo:
        services.cancel(shop.resident, booking.id, "", NOW)
    assert excinfo.value.code == "invalid_transition"
    assert fresh(db, slot).seats_taken == 0  # the seat was not given back twice


def test_the_merchant_must_give_a_reason_and_the_resident_is_told(db, shop):
    booking = services.book(shop.resident, slot_in(shop, 48).id, 1, "", NOW)
    for empty in ("", "   ", None):
        with pytest.raises(ValidationFailed) as excinfo:
            services.cancel(shop.owner, booking.id, empty, NOW)
        assert "reason" in excinfo.value.details
    with pytest.raises(ValidationFailed):
        services.cancel(shop.owner, booking.id, "x" * 301, NOW)
    services.cancel(shop.owner, booking.id, " Kiln broke ", NOW)
    assert (booking.status, booking.cancel_reason, booking.is_late_cancel) == (
        "cancelled_by_merchant", "Kiln broke", False)
    assert last_event(db, booking) == (shop.owner.id, "confirmed", "cancelled_by_merchant", "Kiln broke")
    told = inbox(db, shop.resident, "cancelled")
    assert len(told) == 1 and "Kiln broke" in told[0].body and told[0].booking_id == booking.id
    assert any("Kiln broke" in mail.body for mail in mails_to(db, shop.resident))


def test_staff_cannot_cancel_for_the_store_and_strangers_cannot_see_it(db, shop):
    booking = services.book(shop.resident, slot_in(shop, 48).id, 1, "", NOW)
    with pytest.raises(PermissionDenied):
        services.cancel(shop.staff, booking.id, "reason", NOW)
    with pytest.raises(NotFound):
        services.cancel(shop.other, booking.id, "", NOW)
    with pytest.raises(NotFound):
        services.cancel(f.create_merchant(), booking.id, "reason", NOW)
    assert fresh(db, booking).status == "confirmed"


# -- reschedule ---------------------------------------------------------------------------------------

def test_reschedule_moves_the_seats_to_the_new_slot(db, shop):
    old, new = slot_in(shop, 48), slot_in(shop, 72)
    booking = services.book(shop.resident, old.id, 3, "", NOW)
    code = booking.code
    services.reschedule(shop.resident, booking.id, new.id, NOW)
    fresh(db, old, new, booking)
    assert (old.seats_taken, new.seats_taken) == (0, 3)
    assert (booking.slot_id, booking.starts_at, booking.code, booking.status) == (
        new.id, new.starts_at, code, "confirmed")
    assert last_event(db, booking) == (shop.resident.id, "confirmed", "confirmed", "rescheduled")
    assert inbox(db, shop.resident, "rescheduled") and inbox(db, shop.owner, "rescheduled")


def test_reschedule_after_the_cutoff_is_refused(db, shop):
    old, new = slot_in(shop, 48), slot_in(shop, 72)
    booking = services.book(shop.resident, old.id, 1, "", NOW)
    with pytest.raises(Conflict) as excinfo:
        services.reschedule(shop.resident, booking.id, new.id, NOW + timedelta(hours=24))
    assert excinfo.value.code == "past_cutoff" and "cutoff" in excinfo.value.details
    assert (fresh(db, old).seats_taken, fresh(db, new).seats_taken) == (1, 0)


def test_reschedule_to_another_experiences_slot_is_a_validation_error(db, shop):
    other_offering = f.create_offering(shop.store, capacity=4)
    booking = services.book(shop.resident, slot_in(shop, 48).id, 1, "", NOW)
    foreign = f.create_slot(other_offering, NOW + timedelta(hours=72))
    with pytest.raises(ValidationFailed) as excinfo:
        services.reschedule(shop.resident, booking.id, foreign.id, NOW)
    assert excinfo.value.http_status == 422 and "slot_id" in excinfo.value.details
    assert fresh(db, foreign).seats_taken == 0


def test_reschedule_to_a_full_slot_changes_nothing(db, shop):
    old, full = slot_in(shop, 48), slot_in(shop, 72, capacity=2)
    booking = services.book(shop.resident, old.id, 2, "", NOW)
    services.book(shop.other, full.id, 1, "", NOW)
    with pytest.raises(SlotFull):
        services.reschedule(shop.resident, booking.id, full.id, NOW)
    fresh(db, old, full, booking)
    assert (old.seats_taken, full.seats_taken, booking.slot_id) == (2, 1, old.id)
    assert last_event(db, booking)[3] == "booked"


def test_reschedule_refusals(db, shop):
    old, new = slot_in(shop, 48), slot_in(shop, 72)
    booking = services.book(shop.resident, old.id, 1, "", NOW)
    with pytest.raises(Conflict) as excinfo:
        services.reschedule(shop.resident, booking.id, old.id, NOW)
    assert excinfo.value.code == "same_slot"
    with pytest.raises(PermissionDenied):
        services.reschedule(shop.owner, booking.id, new.id, NOW)
    with pytest.raises(NotFound):
        services.reschedule(shop.other, booking.id, new.id, NOW)
    services.book(shop.resident, new.id, 1, "", NOW)
    with pytest.raises(AlreadyBooked):
        services.reschedule(shop.resident, booking.id, new.id, NOW)
    services.cancel(shop.resident, booking.id, "", NOW)
    with pytest.raises(Conflict) as excinfo:
        services.reschedule(shop.resident, booking.id, slot_in(shop, 96).id, NOW)
    assert excinfo.value.code == "invalid_transition"


def test_reschedule_into_a_slot_within_the_minimum_notice_is_refused(db, shop):
    schedule(shop, [], min_notice_minutes=240)
    # Cut-off 0 h, so only the notice stands in the way.
    shop.offering.cancel_cutoff_hours = 0
    old, soon = slot_in(shop, 48), slot_in(shop, 3)
    booking = services.book(shop.resident, old.id, 1, "", NOW)
    with pytest.raises(SlotInPast):
        services.reschedule(shop.resident, booking.id, soon.id, NOW)
    assert fresh(db, old).seats_taken == 1


def test_a_reminded_booking_moved_to_another_day_is_reminded_again(db, shop):
    shop.offering.cancel_cutoff_hours = 2
    old, later = slot_in(shop, 20), slot_in(shop, 24 * 7)
    booking = services.book(shop.resident, old.id, 1, "", NOW)
    assert services.sweep(NOW)["reminded"] == 1
    services.reschedule(shop.resident, booking.id, later.id, NOW + timedelta(hours=1))
    assert services.sweep(later.starts_at - timedelta(hours=20))["reminded"] == 1
    assert len(inbox(db, shop.resident, "reminder")) == 2


# -- waitlist -------------------------------------------------------------------------------------------

def test_joining_the_waitlist_of_a_slot_with_room_is_refused(db, shop):
    slot = slot_in(shop, 48)
    services.book(shop.resident, slot.id, 2, "", NOW)
    with pytest.raises(SlotHasRoom) as excinfo:
        services.join_waitlist(shop.other, slot.id, 2, "", NOW)
    assert excinfo.value.code == "slot_has_room" and excinfo.value.details == {"remaining": 2}


def test_a_freed_seat_goes_to_the_first_in_line(db, shop):
    slot = slot_in(shop, 48)
    holder = services.book(shop.resident, slot.id, 4, "", NOW)
    first = services.join_waitlist(shop.other, slot.id, 2, "by the window", NOW)
    second_user = f.create_user()
    second = services.join_waitlist(second_user, slot.id, 2, "", NOW)
    services.cancel(shop.resident, holder.id, "", NOW)
    reload(db)
    assert (first.status, second.status) == ("promoted", "promoted")  # 4 seats freed: both fit
    promoted = db.session.get(Booking, first.booking_id)
    assert (promoted.resident_id, promoted.status, promoted.party_size, promoted.note, promoted.price_due) == (
        shop.other.id, "confirmed", 2, "by the window", Decimal("176.00"))
    assert last_event(db, promoted) == (None, None, "confirmed", "promoted from the waitlist")
    assert fresh(db, slot).seats_taken == 4
    assert [n.booking_id for n in inbox(db, shop.other, "promoted")] == [promoted.id]
    assert mails_to(db, second_user)


def test_a_promotion_waits_for_the_stores_approval_when_bookings_do(db, shop):
    f.create_schedule(shop.offering, [], requires_approval=True, now=NOW)
    slot = slot_in(shop, 48)
    holder = services.book(shop.resident, slot.id, 4, "", NOW)
    services.confirm(shop.owner, holder.id)
    entry = services.join_waitlist(shop.other, slot.id, 2, "", NOW)
    services.cancel(shop.resident, holder.id, "", NOW)
    reload(db)
    promoted = db.session.get(Booking, entry.booking_id)
    assert (entry.status, promoted.status) == ("promoted", "pending")  # as a direct booking would be
    assert last_event(db, promoted) == (None, None, "pending", "promoted from the waitlist")
    assert "waiting for the store's approval" in inbox(db, shop.other, "promoted")[0].body
    assert "from the waitlist — waiting for your approval" in inbox(db, shop.owner, "new_booking")[-1].body
    services.confirm(shop.owner, promoted.id)
    assert fresh(db, promoted).status == "confirmed"


def test_the_queue_order_decides_who_gets_a_single_seat(db, shop):
    slot = slot_in(shop, 48)
    holder = services.book(shop.resident, slot.id, 1, "", NOW)
    services.book(f.create_user(), slot.id, 3, "", NOW)
    first = services.join_waitlist(shop.other, slot.id, 1, "", NOW)
    later = services.join_waitlist(f.create_user(), slot.id, 1, "", NOW)
    services.cancel(shop.resident, holder.id, "", NOW)
    reload(db)
    assert (first.status, later.status) == ("promoted", "waiting")


def test_a_party_that_does_not_fit_is_skipped_not_blocking(db, shop):
    slot = slot_in(shop, 48)
    holder = services.book(shop.resident, slot.id, 2, "", NOW)
    services.book(f.create_user(), slot.id, 2, "", NOW)
    big = services.join_waitlist(shop.other, slot.id, 3, "", NOW)
    small = services.join_waitlist(f.create_user(), slot.id, 2, "", NOW)
    services.cancel(shop.resident, holder.id, "", NOW)
    reload(db)
    assert (big.status, small.status) == ("waiting", "promoted")
    assert fresh(db, slot).seats_taken == 4


def test_nobody_on_the_waitlist_is_seated_twice(db, shop):
    slot = slot_in(shop, 48)
    a = services.book(f.create_user(), slot.id, 1, "", NOW)
    b = services.book(f.create_user(), slot.id, 1, "", NOW)
    services.book(f.create_user(), slot.id, 2, "", NOW)
    entry = services.join_waitlist(shop.other, slot.id, 2, "", NOW)
    services.cancel(a.resident, a.id, "", NOW)  # one seat: the party of 2 waits on
    assert fresh(db, entry).status == "waiting"
    services.book(shop.other, slot.id, 1, "", NOW)  # meanwhile they take that seat themselves
    services.cancel(b.resident, b.id, "", NOW)  # another seat: they hold a booking, so no second one
    reload(db)
    assert entry.status == "expired" and entry.booking_id is None
    active = db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.slot_id == slot.id, Booking.resident_id == shop.other.id,
        Booking.status.in_(("pending", "confirmed", "checked_in"))))
    assert active == 1
    assert fresh(db, slot).seats_taken == 3


def test_a_promoted_entry_is_not_promoted_again(db, shop):
    slot = slot_in(shop, 48)
    holders = [services.book(f.create_user(), slot.id, 2, "", NOW) for _ in range(2)]
    entry = services.join_waitlist(shop.other, slot.id, 2, "", NOW)
    services.cancel(holders[0].resident, holders[0].id, "", NOW)
    assert fresh(db, entry).status == "promoted"
    services.cancel(holders[1].resident, holders[1].id, "", NOW)
    assert services.promote_waitlist(slot.id, NOW) == []
    mine = db.session.scalars(select(Booking).where(Booking.resident_id == shop.other.id)).all()
    assert len(mine) == 1 and fresh(db, slot).seats_taken == 2


def test_waitlist_refusals(db, shop):
    slot = slot_in(shop, 48)
    services.book(shop.resident, slot.id, 4, "", NOW)
    services.join_waitlist(shop.other, slot.id, 1, "", NOW)
    with pytest.raises(AlreadyWaiting) as excinfo:
        services.join_waitlist(shop.other, slot.id, 2, "", NOW)
    assert excinfo.value.code == "already_waiting"
    with pytest.raises(AlreadyBooked):
        services.join_waitlist(shop.resident, slot.id, 1, "", NOW)
    with pytest.raises(ValidationFailed) as excinfo:
        services.join_waitlist(f.create_user(), slot.id, 5, "", NOW)
    assert "party_size" in excinfo.value.details
    with pytest.raises(ValidationFailed):
        services.join_waitlist(f.create_user(), slot.id, 0, "", NOW)
    past = slot_in(shop, -1, capacity=1, seats_taken=1)
    with pytest.raises(SlotInPast):
        services.join_waitlist(f.create_user(), past.id, 1, "", NOW)
    closed = slot_in(shop, 72, status="cancelled")
    with pytest.raises(SlotClosed):
        services.join_waitlist(f.create_user(), closed.id, 1, "", NOW)
    with pytest.raises(SlotNotFound):
        services.join_waitlist(f.create_user(), 2**31 - 1, 1, "", NOW)


def test_leaving_the_waitlist(db, shop):
    slot = slot_in(shop, 48)
    holder = services.book(shop.resident, slot.id, 4, "", NOW)
    entry = services.join_waitlist(shop.other, slot.id, 1, "", NOW)
    with pytest.raises(NotFound):
        services.leave_waitlist(shop.owner, entry.id)
    services.leave_waitlist(shop.other, entry.id)
    assert entry.status == "left"
    with pytest.raises(NotFound):
        services.leave_waitlist(shop.other, entry.id)
    services.cancel(shop.resident, holder.id, "", NOW)
    assert db.session.scalars(select(Booking).where(Booking.resident_id == shop.other.id)).all() == []
    # Having left, they may queue again.
    assert services.waitlist_of(shop.other, slot.id) is None


# -- confirm / reject / no-show ---------------------------------------------------------------------

@pytest.mark.parametrize("who", ["owner", "staff"])
def test_the_store_confirms_a_pending_booking(db, shop, who):
    schedule(shop, [], requires_approval=True, min_notice_minutes=0)
    booking = services.book(shop.resident, slot_in(shop, 48).id, 1, "", NOW)
    actor = getattr(shop, who)
    services.confirm(actor, booking.id)
    assert booking.status == "confirmed"
    assert last_event(db, booking) == (actor.id, "pending", "confirmed", "approved")
    assert booking.code in inbox(db, shop.resident, "confirmed")[0].body
    with pytest.raises(InvalidTransition):
        services.confirm(actor, booking.id)


def test_the_store_rejects_a_pending_booking_and_the_seats_go_to_the_waitlist(db, shop):
    slot = slot_in(shop, 48)
    booking = f.create_booking(slot, shop.resident, status="pending", party_size=4)
    entry = services.join_waitlist(shop.other, slot.id, 2, "", NOW)
    services.reject(shop.staff, booking.id, "Fully booked by a group", NOW)
    assert (booking.status, booking.cancel_reason) == ("rejected", "Fully booked by a group")
    assert last_event(db, booking) == (shop.staff.id, "pending", "rejected", "Fully booked by a group")
    assert "Fully booked by a group" in inbox(db, shop.resident, "rejected")[0].body
    assert fresh(db, entry).status == "promoted"
    assert fresh(db, slot).seats_taken == 2


@pytest.mark.parametrize("verb", ["confirm", "reject"])
def test_only_pending_bookings_are_confirmed_or_rejected(db, shop, verb):
    slot = slot_in(shop, 48)
    booking = services.book(shop.resident, slot.id, 1, "", NOW)
    with pytest.raises(InvalidTransition):
        if verb == "confirm":
            services.confirm(shop.owner, booking.id)
        else:
            services.reject(shop.owner, booking.id, "", NOW)
    assert fresh(db, booking).status == "confirmed" and fresh(db, slot).seats_taken == 1


@pytest.mark.parametrize("who", ["resident", "other_resident", "other_owner", "other_staff"])
def test_only_the_stores_people_confirm_reject_or_mark_no_shows(db, shop, who):
    other_store = f.create_store()
    actor = {"resident": shop.resident, "other_resident": shop.other, "other_owner": other_store.business.owner,
             "other_staff": f.add_staff(other_store)}[who]
    pending = f.create_booking(slot_in(shop, 48), shop.resident, status="pending")
    ended = f.create_booking(slot_in(shop, -5), shop.resident)
    with pytest.raises(NotFound):
        services.confirm(actor, pending.id)
    with pytest.raises(NotFound):
        services.reject(actor, pending.id, "", NOW)
    with pytest.raises(NotFound):
        services.mark_no_show(actor, ended.id, NOW)
    assert (fresh(db, pending).status, fresh(db, ended).status) == ("pending", "confirmed")


def test_no_show_only_once_the_slot_is_over(db, shop):
    slot = slot_in(shop, -0.5)  # started 30 min ago, ends in 30 min
    booking = f.create_booking(slot, shop.resident)
    with pytest.raises(Conflict) as excinfo:
        services.mark_no_show(shop.staff, booking.id, NOW)
    assert excinfo.value.code == "slot_not_over"
    services.mark_no_show(shop.staff, booking.id, slot.ends_at)
    assert booking.status == "no_show"
    assert last_event(db, booking) == (shop.staff.id, "confirmed", "no_show", "marked by the store")
    assert fresh(db, slot).seats_taken == 1  # a no-show held the seat
    with pytest.raises(InvalidTransition):
        services.mark_no_show(shop.staff, booking.id, slot.ends_at)


def test_a_pending_or_checked_in_booking_is_no_no_show(db, shop):
    slot = slot_in(shop, -5)
    for status in ("pending", "checked_in", "cancelled_by_resident"):
        booking = f.create_booking(slot, status=status)
        with pytest.raises(InvalidTransition):
            services.mark_no_show(shop.owner, booking.id, NOW)


# -- cancel a slot --------------------------------------------------------------------------------------

def test_cancel_slot_cancels_every_booking_and_tells_everyone(db, shop):
    slot = slot_in(shop, 48)
    confirmed = services.book(shop.resident, slot.id, 2, "", NOW)
    pending = f.create_booking(slot, shop.other, status="pending", party_size=1)
    gone = f.create_booking(slot, f.create_user(), status="cancelled_by_resident")
    waiter = f.create_user()
    services.book(f.create_user(), slot.id, 1, "", NOW)
    entry = services.join_waitlist(waiter, slot.id, 1, "", NOW)
    count = services.cancel_slot(shop.owner, slot, "  Power cut  ", NOW)
    assert count == 3
    reload(db)
    assert (slot.status, slot.cancel_reason, slot.seats_taken) == ("cancelled", "Power cut", 0)
    assert (confirmed.status, pending.status, gone.status) == (
        "cancelled_by_merchant", "cancelled_by_merchant", "cancelled_by_resident")
    assert confirmed.cancel_reason == "Power cut"
    assert last_event(db, confirmed) == (shop.owner.id, "confirmed", "cancelled_by_merchant", "Power cut")
    assert last_event(db, pending) == (shop.owner.id, "pending", "cancelled_by_merchant", "Power cut")
    for user in (shop.resident, shop.other):
        assert "Power cut" in inbox(db, user, "cancelled")[0].body
        assert mails_to(db, user)
    assert entry.status == "expired" and inbox(db, waiter, "waitlist_closed")


def test_cancel_slot_refusals(db, shop):
    slot = slot_in(shop, 48)
    booking = services.book(shop.resident, slot.id, 1, "", NOW)
    with pytest.raises(ValidationFailed) as excinfo:
        services.cancel_slot(shop.owner, slot, " ", NOW)
    assert "reason" in excinfo.value.details
    for actor in (shop.staff, shop.resident, f.create_merchant()):
        with pytest.raises(PermissionDenied):
            services.cancel_slot(actor, slot, "No", NOW)
    assert fresh(db, booking).status == "confirmed" and fresh(db, slot).status == "open"
    services.cancel_slot(f.create_user(Role.ADMIN), slot, "Closed by the platform", NOW)
    with pytest.raises(SlotClosed):
        services.cancel_slot(shop.owner, slot, "again", NOW)


def test_a_cancelled_slot_stays_cancelled_when_the_schedule_is_synced(db, shop):
    schedule(shop, tuesdays("10:00"), weeks_ahead=1)
    slot = db.session.scalar(select(Slot).where(Slot.offering_id == shop.offering.id))
    booking = services.book(shop.resident, slot.id, 1, "", NOW)
    services.cancel_slot(shop.owner, slot, "Instructor ill", NOW)
    services.sweep(NOW + timedelta(minutes=5))
    schedule(shop, tuesdays("10:00"), weeks_ahead=1, now=NOW + timedelta(minutes=10))
    fresh(db, slot)
    assert (slot.status, slot.cancel_reason) == ("cancelled", "Instructor ill")
    with pytest.raises(SlotClosed):
        services.book(shop.other, slot.id, 1, "", NOW + timedelta(minutes=10))
    assert fresh(db, booking).status == "cancelled_by_merchant"


# -- sweep ------------------------------------------------------------------------------------------------

def test_sweep_does_the_housekeeping_once(db, shop):
    schedule(shop, [{"weekday": d, "times": ["10:00"]} for d in range(7)], weeks_ahead=1,
             now=NOW - timedelta(days=7))
    ended_long_ago = slot_in(shop, -5)  # ended 4 h ago: past the 2 h grace
    ended_recently = slot_in(shop, -1.5)  # ended 30 min ago: within the grace
    started = slot_in(shop, -0.25)
    no_show = f.create_booking(ended_long_ago, f.create_user())
    within_grace = f.create_booking(ended_recently, f.create_user())
    checked_in = f.create_booking(ended_recently, f.create_user(), status="checked_in")
    still_on = f.create_booking(started, f.create_user(), status="checked_in")
    expired = f.create_booking(started, shop.resident, status="pending", party_size=2)
    tomorrow = slot_in(shop, 20)
    remind = f.create_booking(tomorrow, shop.other)
    not_yet = f.create_booking(slot_in(shop, 30), f.create_user())
    pending_tomorrow = f.create_booking(tomorrow, f.create_user(), status="pending")
    user = shop.resident
    db.session.add_all([
        IdempotencyKey(user_id=user.id, key="old", request_hash="h", status_code=201, body={},
                       created_at=NOW - timedelta(hours=24, seconds=1)),
        IdempotencyKey(user_id=user.id, key="fresh", request_hash="h", status_code=201, body={},
                       created_at=NOW - timedelta(hours=23))])
    db.session.flush()
    slots_before = len(slots_of(db, shop.offering))

    counts = services.sweep(NOW)

    assert counts == {"no_show": 1, "completed": 1, "expired_pending": 1, "reminded": 1, "slots_created": 7,
                      "schedules_rolled": 1, "idempotency_keys_deleted": 1}
    reload(db)
    assert [b.status for b in (no_show, within_grace, checked_in, still_on, expired)] == [
        "no_show", "confirmed", "completed", "checked_in", "rejected"]
    assert last_event(db, no_show) == (None, "confirmed", "no_show", "not checked in by the end of the grace period")
    assert last_event(db, checked_in) == (None, "checked_in", "completed", "slot over")
    assert last_event(db, expired)[1:3] == ("pending", "rejected")
    assert started.seats_taken == 1  # the expired pending party of 2 gave its seats back
    assert inbox(db, shop.resident, "rejected")
    assert remind.reminded_at == NOW and not_yet.reminded_at is None and pending_tomorrow.reminded_at is None
    assert [n.booking_id for n in inbox(db, shop.other, "reminder")] == [remind.id]
    assert db.session.scalars(select(IdempotencyKey.key).where(IdempotencyKey.user_id == user.id)).all() == [
        "fresh"]
    assert len(slots_of(db, shop.offering)) == slots_before + 7

    state = (slots_of(db, shop.offering), db.session.scalar(select(func.count()).select_from(BookingEvent)),
             db.session.scalar(select(func.count()).select_from(Notification)),
             db.session.scalar(select(func.count()).select_from(OutboxEmail)))
    assert services.sweep(NOW) == dict.fromkeys(counts, 0)
    assert services.sweep(NOW + timedelta(minutes=1)) == dict.fromkeys(counts, 0)
    assert (slots_of(db, shop.offering), db.session.scalar(select(func.count()).select_from(BookingEvent)),
            db.session.scalar(select(func.count()).select_from(Notification)),
            db.session.scalar(select(func.count()).select_from(OutboxEmail))) == state


def test_sweep_later_marks_the_no_show_it_waited_for(db, shop):
    booking = f.create_booking(slot_in(shop, -1.5), shop.resident)
    assert services.sweep(NOW)["no_show"] == 0
    assert services.sweep(NOW + timedelta(hours=2))["no_show"] == 1
    assert fresh(db, booking).status == "no_show"


def test_sweep_steps_aside_while_another_sweep_runs(db, shop, app):
    booking = f.create_booking(slot_in(shop, -5), shop.resident)
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": services.SWEEP_LOCK})
        try:
            assert services.sweep(NOW) == {"skipped": 1}
        finally:
            other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": services.SWEEP_LOCK})
    assert fresh(db, booking).status == "confirmed"


# -- outbox -------------------------------------------------------------------------------------------------

def test_deliver_outbox_sends_the_others_when_one_address_fails(db, shop):
    rows = [OutboxEmail(to_email=to, subject="s", body="b")
            for to in ("a@mail.test", "refused@mail.test", "c@mail.test")]
    db.session.add_all(rows)
    db.session.flush()
    sent_to = []

    def sender(to, subject, body):
        if to == "refused@mail.test":
            raise OSError("550 mailbox unavailable")
        sent_to.append(to)

    assert services.deliver_outbox(sender) == (2, 1)
    assert sent_to == ["a@mail.test", "c@mail.test"]
    ok1, bad, ok2 = fresh(db, *rows)
    assert ok1.sent_at is not None and ok2.sent_at is not None and bad.sent_at is None
    assert (ok1.attempts, bad.attempts, ok2.attempts) == (1, 1, 1)
    assert bad.last_error == "550 mailbox unavailable"
    # Sent ones are not sent again; the refused one is retried, up to five attempts in all.
    for attempt in range(2, 6):
        assert services.deliver_outbox(sender) == (0, 1)
        assert fresh(db, bad).attempts == attempt
    assert services.deliver_outbox(sender) == (0, 0)
    assert sent_to == ["a@mail.test", "c@mail.test"]


def test_deliver_outbox_respects_the_limit(db):
    db.session.add_all([OutboxEmail(to_email=f"r{n}@mail.test", subject="s", body="b") for n in range(3)])
    db.session.flush()
    sent = []
    assert services.deliver_outbox(lambda to, s, b: sent.append(to), limit=2) == (2, 0)
    assert services.deliver_outbox(lambda to, s, b: sent.append(to), limit=2) == (1, 0)
    assert sent == ["r0@mail.test", "r1@mail.test", "r2@mail.test"]


# -- audit trail and notifications -------------------------------------------------------------------------

def test_every_state_change_has_an_audit_row(db, shop):
    schedule(shop, [], requires_approval=True, min_notice_minutes=0)
    slot, later = slot_in(shop, 48), slot_in(shop, 72)
    booking = services.book(shop.resident, slot.id, 1, "", NOW)
    services.confirm(shop.staff, booking.id)
    services.reschedule(shop.resident, booking.id, later.id, NOW)
    services.cancel(shop.owner, booking.id, "Closed for a private event", NOW)
    events = db.session.scalars(select(BookingEvent).where(BookingEvent.booking_id == booking.id)
                                .order_by(BookingEvent.id)).all()
    assert [(e.actor_id, e.from_status, e.to_status, e.reason) for e in events] == [
        (shop.resident.id, None, "pending", "booked"),
        (shop.staff.id, "pending", "confirmed", "approved"),
        (shop.resident.id, "confirmed", "confirmed", "rescheduled"),
        (shop.owner.id, "confirmed", "cancelled_by_merchant", "Closed for a private event"),
    ]
    assert events[2].data == {"from_slot": slot.id, "to_slot": later.id}
    assert all(e.created_at is not None for e in events)


def test_notifications_are_queued_in_the_transaction_and_nothing_is_sent(db, shop, monkeypatch):
    import smtplib

    def no_smtp(*args, **kwargs):
        raise AssertionError("an e-mail was sent inside the transaction")

    monkeypatch.setattr(smtplib, "SMTP", no_smtp)
    slot = slot_in(shop, 48)
    booking = services.book(shop.resident, slot.id, 2, "", NOW)
    kinds = {(n.user_id, n.kind) for n in db.session.scalars(
        select(Notification).where(Notification.booking_id == booking.id))}
    assert kinds == {(shop.resident.id, "booked"), (shop.owner.id, "new_booking")}
    mails = mails_to(db, shop.resident) + mails_to(db, shop.owner)
    assert len(mails) == 2 and all(m.sent_at is None and m.attempts == 0 for m in mails)
    assert booking.code in mails_to(db, shop.resident)[0].body
    ids = [m.id for m in mails]
    # Another connection does not see them: they commit (or roll back) with the booking.
    with db.engine.connect() as other:
        assert other.execute(text("SELECT count(*) FROM outbox_emails WHERE id = ANY(:ids)"),
                             {"ids": ids}).scalar() == 0
    nested = db.session.begin_nested()
    rolled_back = services.book(shop.other, slot.id, 1, "", NOW)
    booking_id = rolled_back.id
    nested.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.booking_id == booking_id)) == 0
    assert mails_to(db, shop.other) == []


def test_a_refused_booking_queues_nothing(db, shop):
    slot = slot_in(shop, 48, capacity=1, seats_taken=1)
    with pytest.raises(SlotFull):
        services.book(shop.resident, slot.id, 1, "", NOW)
    assert inbox(db, shop.resident) == [] and inbox(db, shop.owner) == []
    assert mails_to(db, shop.resident) == [] and mails_to(db, shop.owner) == []


def test_the_inbox_lists_newest_first_and_marks_read(db, shop):
    booking = services.book(shop.resident, slot_in(shop, 48).id, 1, "", NOW)
    services.cancel(shop.owner, booking.id, "Sorry", NOW)
    assert services.unread_count(shop.resident) == 2
    assert [n.kind for n in services.notifications_of(shop.resident)] == ["cancelled", "booked"]
    assert services.mark_notifications_read(shop.resident, NOW) == 2
    assert services.unread_count(shop.resident) == 0


# -- lists ----------------------------------------------------------------------------------------------------

def test_store_day_lists_the_stores_bookings_on_a_local_date(db, shop):
    # 23:30 local on Tue 11 March is 15:30 UTC; 00:30 local on Wed 12 March is 16:30 UTC the day before.
    late = f.create_booking(f.create_slot(shop.offering, datetime(2031, 3, 11, 15, 30, tzinfo=UTC)))
    early = f.create_booking(f.create_slot(shop.offering, datetime(2031, 3, 10, 16, 30, tzinfo=UTC)))
    f.create_booking(f.create_slot(f.create_offering(), datetime(2031, 3, 11, 4, 0, tzinfo=UTC)))  # elsewhere
    assert [b.id for b in services.bookings_of_store_day(shop.staff, shop.store, date(2031, 3, 11))] == [
        early.id, late.id]
    assert services.bookings_of_store_day(shop.owner, shop.store, date(2031, 3, 12)) == []
    with pytest.raises(NotFound):
        services.bookings_of_store_day(shop.resident, shop.store, date(2031, 3, 11))


def test_resident_lists_split_upcoming_and_past(db, shop):
    past = f.create_booking(slot_in(shop, -48), shop.resident)
    soon = f.create_booking(slot_in(shop, 24), shop.resident)
    later = f.create_booking(slot_in(shop, 96), shop.resident)
    f.create_booking(slot_in(shop, 30), shop.other)
    assert [b.id for b in services.bookings_of_resident(shop.resident, upcoming=True, now=NOW)] == [
        soon.id, later.id]
    assert [b.id for b in services.bookings_of_resident(shop.resident, upcoming=False, now=NOW)] == [past.id]


# -- calendar files --------------------------------------------------------------------------------------------

def test_ics_is_in_the_stores_zone_with_address_and_geo(db):
    owner = f.create_merchant()
    store = f.create_store(f.create_business(owner), name="Atelier", address="12 Rue de Rivoli, Paris",
                           lng=2.3522, lat=48.8566, timezone="Europe/Paris")
    offering = f.create_offering(store, title="Croissant class", capacity=6, duration_min=90)
    # Monday 31 March 2031, 10:00 in Paris (CEST, UTC+2), the day after the clocks changed.
    slot = f.create_slot(offering, datetime(2031, 3, 31, 8, 0, tzinfo=UTC))
    booking = services.book(f.create_user(), slot.id, 2, "", datetime(2031, 3, 1, tzinfo=UTC))
    raw = ics_for(booking, now=datetime(2031, 3, 1, tzinfo=UTC))
    assert b"DTSTART;TZID=Europe/Paris:20310331T100000" in raw
    calendar = Calendar.from_ical(raw)
    event = calendar.walk("VEVENT")[0]
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    start = event.decoded("DTSTART")
    assert (start.replace(tzinfo=None), start.astimezone(UTC)) == (datetime(2031, 3, 31, 10, 0), slot.starts_at)
    assert event.decoded("DTEND").replace(tzinfo=None) == datetime(2031, 3, 31, 11, 30)
    assert (round(event["GEO"].latitude, 4), round(event["GEO"].longitude, 4)) == (48.8566, 2.3522)
    assert "12 Rue de Rivoli, Paris" in str(event["LOCATION"]) and "Atelier" in str(event["LOCATION"])
    assert booking.code in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED" and str(event["UID"]) == f"booking-{booking.id}@onsite"
    zones = calendar.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["Europe/Paris"]
    services.cancel(booking.resident, booking.id, "", datetime(2031, 3, 2, tzinfo=UTC))
    assert str(Calendar.from_ical(ics_for(booking)).walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


def test_ics_of_a_shanghai_store(db, shop):
    booking = f.create_booking(f.create_slot(shop.offering, datetime(2031, 3, 11, 2, 0, tzinfo=UTC)))
    event = Calendar.from_ical(ics_for(booking)).walk("VEVENT")[0]
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2031, 3, 11, 10, 0)
    assert (round(event["GEO"].latitude, 3), round(event["GEO"].longitude, 3)) == (30.246, 120.149)
    assert "1 Nanshan Road" in str(event["LOCATION"])


def test_schedule_model_has_one_row_per_offering(db, shop):
    schedule(shop, tuesdays("10:00"))
    schedule(shop, tuesdays("11:00"))
    assert db.session.scalar(select(func.count()).select_from(Schedule)
                             .where(Schedule.offering_id == shop.offering.id)) == 1
    assert db.session.scalar(select(func.count()).select_from(WaitlistEntry)) == 0
