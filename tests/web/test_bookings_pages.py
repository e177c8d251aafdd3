"""The booking pages: book from an experience, a visit's page, my visits, the inbox, the store's day,
the availability editor; who may open or post each one; and no form input that answers 500."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.web import format_price
from bookings import services
from bookings.models import Booking, Notification, Schedule, ScheduleTime, Slot, WaitlistEntry
from tests import factories as f
from tests.web._bookings_world import ACTORS, World, booking_state, build_world, hour, read, scalar

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(db) -> World:
    return build_world()


def html_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def local_day(slot) -> str:
    return slot.starts_at.astimezone(SHANGHAI).date().isoformat()


def input_value(html: str, name: str) -> str | None:
    for tag in re.findall(r"<input[^>]*>", html):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            match = re.search(r'\bvalue="([^"]*)"', tag)
            return match.group(1) if match else ""
    return None


def follow(client, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"])


# -- the experience page --------------------------------------------------------------------------

def test_the_experience_page_shows_days_slots_price_and_policy(client, world):
    page = client.get(f"/experiences/{world.offering.id}?day={local_day(world.slot)}")
    assert page.status_code == 200
    html = html_of(page)
    today = clock.today(SHANGHAI)
    assert f'data-day="{today.isoformat()}"' in html  # the next days to pick from
    assert len(re.findall(r'data-day="\d{4}-\d\d-\d\d"', html)) == 15
    assert 'aria-current="date"' in html and f'data-day="{local_day(world.slot)}"' in html
    assert re.search(rf'id="slot-{world.slot.id}"[^>]*data-remaining="2"', html)
    start = world.slot.starts_at.astimezone(SHANGHAI).strftime("%H:%M")
    assert re.search(rf"{start}\s*<small[^>]*>2 left</small>", html)
    assert "Pay at the store" in html and format_price(Decimal("88.00"), "CNY") in html
    assert "Free cancellation until 24 h before the start" in html
    assert "Aprons provided; arrive ten minutes early." in html
    assert "Log in to book" in html and 'id="waitlist-form"' not in html


def test_a_full_slot_shows_full_and_offers_the_waitlist(client, auth, world):
    auth.login("bob@resident.test")
    html = html_of(client.get(f"/experiences/{world.offering.id}?day={local_day(world.full_slot)}"))
    assert re.search(rf'id="slot-{world.full_slot.id}"[^>]*disabled', html)
    assert re.search(r"<small[^>]*>full</small>", html)
    assert f'formaction="/slots/{world.full_slot.id}/waitlist"' in html
    assert ">Book</button>" in html


def test_an_experience_without_a_schedule_says_bookings_are_not_open(client, world):
    offering = f.create_offering(world.store, title="Coming soon")
    html = html_of(client.get(f"/experiences/{offering.id}"))
    assert "has not opened bookings for this experience yet" in html


def test_booking_through_the_form_shows_the_code_and_price(client, auth, world):
    auth.login("bob@resident.test")
    response = auth.post("/bookings", {"offering_id": world.offering.id, "slot_id": world.free_slot.id,
                                       "party_size": "3", "note": "Two beginners", "day": local_day(world.free_slot)})
    booking = scalar(select(Booking).where(Booking.slot_id == world.free_slot.id))
    assert response.headers["Location"].endswith(f"/bookings/{booking.id}")
    html = html_of(follow(client, response))
    assert "Booked! Show your code at the store; you pay there." in html
    assert re.search(rf'data-testid="code">{booking.code}<', html)
    assert re.search(rf'data-testid="price-due">{re.escape(format_price(Decimal("264.00"), "CNY"))}<', html)
    assert "Two beginners" in html and "Confirmed" in html
    assert booking.party_size == 3 and booking.price_due == Decimal("264.00")


def test_booking_a_pending_experience_through_the_form(client, auth, world):
    services.get_schedule(world.offering).requires_approval = True
    db.session.flush()
    auth.login("bob@resident.test")
    html = html_of(follow(client, auth.post("/bookings", {"offering_id": world.offering.id,
                                                          "slot_id": world.free_slot.id, "party_size": "1"})))
    assert "Requested: the store will confirm your booking." in html
    assert "Waiting for the store to confirm" in html


@pytest.mark.parametrize("form,message", [
    ({"slot": "full_slot", "party_size": "1"}, "no room left"),
    ({"slot": "free_slot", "party_size": "0"}, "Choose a party of 1 to 4 people."),
    ({"slot": "free_slot", "party_size": "-3"}, "Choose a party of 1 to 4 people."),
    ({"slot": "free_slot", "party_size": "many"}, "Enter the number of people as a whole number."),
    ({"slot": "free_slot", "party_size": "5"}, "Choose a party of 1 to 4 people."),
    ({"slot": None, "party_size": "1"}, "must be a slot id"),
    ({"slot": "free_slot", "party_size": "1", "note": "x" * 501}, "at most 500 characters"),
])
def test_a_refused_form_goes_back_to_the_experience_with_the_reason(client, auth, world, form, message):
    auth.login("bob@resident.test")
    slot = getattr(world, form.pop("slot")) if form.get("slot") else None
    form.pop("slot", None)
    data = {"offering_id": world.offering.id, "day": local_day(world.free_slot), **form}
    if slot is not None:
        data["slot_id"] = slot.id
    response = auth.post("/bookings", data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/experiences/{world.offering.id}?day=")
    assert message in html_of(client.get(response.headers["Location"]))
    assert scalar(select(func.count()).select_from(Booking).where(Booking.resident_id == world.users[
        "other_resident"].id)) == 0


def test_booking_an_unknown_slot_is_a_404_page(client, auth, world):
    auth.login("bob@resident.test")
    assert auth.post("/bookings", {"offering_id": world.offering.id, "slot_id": "999999999",
                                   "party_size": "1"}).status_code == 404


# -- a visit's page ---------------------------------------------------------------------------------

def test_the_residents_visit_page(client, auth, world):
    auth.login(world.resident.email)
    html = html_of(client.get(f"/bookings/{world.booking.id}"))
    assert world.booking.code in html and format_price(Decimal("176.00"), "CNY") in html
    assert "Free cancellation until" in html and "Cancel booking" in html
    assert f'<option value="{world.free_slot.id}">' in html  # a slot to move to
    assert f'<option value="{world.full_slot.id}">' not in html  # full: not offered
    assert 'data-testid="qr"' in html and "<svg" in html
    assert f"/api/v1/bookings/{world.booking.id}.ics" in html
    assert "For the store" not in html


def test_the_stores_view_of_a_visit(client, auth, world):
    auth.login("staff@shop.test")
    html = html_of(client.get(f"/bookings/{world.pending.id}"))
    assert "For the store" in html and world.resident.email in html
    assert ">Approve</button>" in html and ">Decline</button>" in html
    assert "Cancel booking" not in html and 'data-testid="qr"' not in html
    html = html_of(client.get(f"/bookings/{world.ended.id}"))
    assert "Mark no-show" in html


def test_cancel_and_reschedule_from_the_visit_page(client, auth, world):
    auth.login(world.resident.email)
    moved = auth.post(f"/bookings/{world.booking.id}/reschedule", {"slot_id": world.free_slot.id})
    assert "Moved. Your code stays the same." in html_of(follow(client, moved))
    assert booking_state()(world) == [("confirmed", world.free_slot.id, None)]
    cancelled = auth.post(f"/bookings/{world.booking.id}/cancel")
    assert "Cancelled. Nothing to pay." in html_of(follow(client, cancelled))
    assert booking_state()(world) == [("cancelled_by_resident", world.free_slot.id, None)]
    again = auth.post(f"/bookings/{world.booking.id}/cancel")
    assert "cannot become" in html_of(follow(client, again))


def test_a_late_cancel_is_called_one(client, auth, world):
    soon = f.create_booking(f.create_slot(world.offering, hour(hours=3)), world.resident)
    auth.login(world.resident.email)
    html = html_of(client.get(f"/bookings/{soon.id}"))
    assert "cut-off" in html and "Cancel anyway (late)" in html
    html = html_of(follow(client, auth.post(f"/bookings/{soon.id}/cancel")))
    assert "this counts as a late cancel" in html and "late cancel" in html
    assert scalar(select(Booking.is_late_cancel).where(Booking.id == soon.id)) is True


def test_the_store_cancels_with_a_reason(client, auth, world):
    auth.login(world.owner.email)
    refused = auth.post(f"/bookings/{world.booking.id}/cancel", {"reason": ""})
    assert "Tell the residents why." in html_of(follow(client, refused))
    assert booking_state()(world) == [("confirmed", world.slot.id, None)]
    auth.post(f"/bookings/{world.booking.id}/cancel", {"reason": "Kiln broke"})
    assert booking_state()(world) == [("cancelled_by_merchant", world.slot.id, "Kiln broke")]


# -- my visits and the inbox -------------------------------------------------------------------------

def test_my_visits_lists_upcoming_past_and_waitlists(client, auth, world):
    old = f.create_booking(f.create_slot(world.offering, hour(days=-3)), world.resident, status="completed")
    auth.login(world.resident.email)
    html = html_of(client.get("/me/visits"))
    upcoming, past = html.split('<h2 class="h5">Past</h2>')
    for booking in (world.booking, world.pending, world.ended):
        assert f'data-booking-id="{booking.id}"' in upcoming
    assert f'data-booking-id="{old.id}"' in past and "Completed" in past
    assert "Waiting lists" in upcoming and f"/waitlist/{world.entry.id}/leave" in upcoming
    assert format_price(Decimal("176.00"), "CNY") + " at the store" in upcoming
    leave = auth.post(f"/waitlist/{world.entry.id}/leave")
    assert "You left the waitlist." in html_of(follow(client, leave))
    assert read(select(WaitlistEntry.status).where(WaitlistEntry.id == world.entry.id)) == [("left",)]


def test_cancelled_visits_are_not_coming_up(client, auth, world):
    called_off = f.create_booking(f.create_slot(world.offering, hour(days=4)), world.resident,
                                  status="cancelled_by_resident")
    declined = f.create_booking(f.create_slot(world.offering, hour(days=3)), world.resident, status="rejected")
    auth.login(world.resident.email)
    html = html_of(client.get("/me/visits"))
    upcoming, rest = html.split('<h2 class="h5">Cancelled</h2>')
    cancelled = rest.split('<h2 class="h5">Past</h2>')[0]
    for booking in (called_off, declined):
        assert f'data-booking-id="{booking.id}"' not in upcoming
        assert f'data-booking-id="{booking.id}"' in cancelled
    assert "Cancelled by you" in cancelled and "Declined by the store" in cancelled
    assert f'data-booking-id="{world.booking.id}"' in upcoming


def test_my_visits_for_someone_with_none(client, auth, world):
    auth.login("bob@resident.test")
    html = html_of(client.get("/me/visits"))
    assert "Nothing booked." in html and "No past visits yet." in html and "Waiting lists" not in html


def test_joining_a_waitlist_from_the_page(client, auth, world):
    auth.login("bob@resident.test")
    response = auth.post(f"/slots/{world.full_slot.id}/waitlist", {"party_size": "1"})
    assert response.headers["Location"].endswith("/me/visits")
    assert "You are on the waitlist." in html_of(client.get(response.headers["Location"]))
    refused = auth.post(f"/slots/{world.free_slot.id}/waitlist", {"party_size": "1"})
    assert "still has room" in html_of(follow(client, refused))
    twice = auth.post(f"/slots/{world.full_slot.id}/waitlist", {"party_size": "1"})
    # Back on the slot's own day, where the resident was: not today's first page.
    assert twice.headers["Location"].endswith(f"/experiences/{world.offering.id}?day={local_day(world.full_slot)}#book")
    assert "already on this slot's waitlist" in html_of(follow(client, twice))


def test_the_inbox_shows_messages_and_a_button_marks_them_read(client, auth, world):
    services.book(world.users["other_resident"], world.free_slot.id, 1, "", clock.now())
    auth.login("bob@resident.test")
    html = html_of(client.get("/me/inbox"))
    assert "Booked: Pottery taster" in html and "list-group-item-primary" in html
    assert "Open the booking" in html and "Mark all read" in html
    assert "list-group-item-primary" in html_of(client.get("/me/inbox"))  # looking changes nothing
    auth.post("/me/inbox/read")
    assert scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == world.users["other_resident"].id, Notification.read_at.is_(None))) == 0
    html = html_of(client.get("/me/inbox"))
    assert "list-group-item-primary" not in html and "Mark all read" not in html


def test_an_empty_inbox(client, auth, world):
    auth.login("admin@onsite.test")
    assert "No messages." in html_of(client.get("/me/inbox"))


# -- the store's day ----------------------------------------------------------------------------------

def test_the_stores_day_with_approve_decline_and_cancel(client, auth, world):
    auth.login(world.owner.email)
    path = f"/merchant/stores/{world.store.id}/bookings?day={local_day(world.pending.slot)}"
    html = html_of(client.get(path))
    assert f'data-booking-id="{world.pending.id}"' in html and "Ann Resident" in html
    assert ">Approve</button>" in html and ">Decline</button>" in html
    assert 'placeholder="Reason to cancel"' in html  # the owner may cancel for the store
    assert "Waiting for the store to confirm" in html and format_price(Decimal("88.00"), "CNY") in html
    approved = auth.post(f"/bookings/{world.pending.id}/confirm", {"next": path})
    assert approved.headers["Location"] == path
    assert "Confirmed." in html_of(client.get(path))
    assert booking_state("pending")(world)[0][0] == "confirmed"


def test_staff_see_the_day_without_the_cancel_button(client, auth, world):
    auth.login("staff@shop.test")
    html = html_of(client.get(f"/merchant/stores/{world.store.id}/bookings?day={local_day(world.pending.slot)}"))
    assert ">Approve</button>" in html and 'placeholder="Reason to cancel"' not in html
    html = html_of(client.get(f"/merchant/stores/{world.store.id}/bookings?day={local_day(world.ended.slot)}"))
    assert f'data-booking-id="{world.ended.id}"' in html and ">No-show</button>" in html
    declined = auth.post(f"/bookings/{world.pending.id}/reject", {"reason": "Private event"})
    assert declined.status_code == 302
    assert booking_state("pending")(world) == [("rejected", world.pending.slot_id, "Private event")]
    no_show = auth.post(f"/bookings/{world.ended.id}/no-show")
    assert "Marked as a no-show." in html_of(follow(client, no_show))
    early = auth.post(f"/bookings/{world.booking.id}/no-show")
    assert "Wait until the slot is over" in html_of(follow(client, early))


def test_a_quiet_day_and_a_bad_day(client, auth, world):
    auth.login(world.owner.email)
    html = html_of(client.get(f"/merchant/stores/{world.store.id}/bookings?day=2031-01-01"))
    assert "No bookings on this day." in html and "Wednesday 1 January 2031" in html
    assert 'href="?day=2030-12-31"' in html and 'href="?day=2031-01-02"' in html
    today = clock.today(SHANGHAI)
    page = html_of(client.get(f"/merchant/stores/{world.store.id}/bookings?day=x"))
    assert f"{today:%A} {today.day} {today:%B %Y}" in page


# -- the availability editor ---------------------------------------------------------------------------

def test_the_availability_editor_saves_a_week(client, auth, world):
    auth.login(world.owner.email)
    page = client.get(f"/merchant/experiences/{world.offering.id}/schedule")
    assert page.status_code == 200 and "Asia/Shanghai" in html_of(page)
    response = auth.post(f"/merchant/experiences/{world.offering.id}/schedule", {
        "times_1": "10:00, 14:00", "times_5": "09:30", "weeks_ahead": "2", "min_notice_minutes": "30",
        "checkin_opens_minutes": "15", "requires_approval": "on", "exceptions": "2031-12-25\n2031-12-24 19:00"})
    html = html_of(follow(client, response))
    assert "Availability saved:" in html
    schedule = scalar(select(Schedule).where(Schedule.offering_id == world.offering.id))
    assert (schedule.weeks_ahead, schedule.min_notice_minutes, schedule.checkin_opens_minutes,
            schedule.requires_approval) == (2, 30, 15, True)
    assert sorted((t.weekday, t.starts_at.strftime("%H:%M")) for t in schedule.times) == [
        (1, "10:00"), (1, "14:00"), (5, "09:30")]
    assert [(e.day.isoformat(), e.kind) for e in schedule.exceptions] == [
        ("2031-12-24", "extra_slot"), ("2031-12-25", "day_off")]
    assert input_value(html, "times_1") == "10:00, 14:00"  # the saved week, shown again
    assert "slots no longer planned still hold bookings" in html  # the hand-made booked slots


def test_every_n_minutes_from_the_editor(client, auth, world):
    auth.login(world.owner.email)
    form = {"every_minutes": "30", "every_from": "10:00", "every_to": "12:00", "weeks_ahead": "1",
            **{f"every_day_{d}": "on" for d in (0, 2)}}
    assert auth.post(f"/merchant/experiences/{world.offering.id}/schedule", form).status_code == 302
    times = read(select(ScheduleTime.weekday, ScheduleTime.starts_at).join(Schedule)
                 .where(Schedule.offering_id == world.offering.id).order_by(ScheduleTime.weekday,
                                                                              ScheduleTime.starts_at))
    assert [(d, t.strftime("%H:%M")) for d, t in times] == [
        (d, t) for d in (0, 2) for t in ("10:00", "10:30", "11:00", "11:30")]


@pytest.mark.parametrize("form,message", [
    ({"times_1": "10:00, 25:00", "weeks_ahead": "3"}, "Tuesday: 25:00 is not a time: use HH:MM"),
    ({"times_0": "09:00", "times_4": "25:99, abc", "weeks_ahead": "3"}, "Friday: 25:99 is not a time: use HH:MM"),
    ({"times_2": "10:00", "weeks_ahead": "99"}, "Weeks ahead: must be a whole number from 1 to 52"),
    ({"times_2": "10:00", "weeks_ahead": "3", "every_minutes": "30", "every_from": "12:00", "every_to": "10:00"},
     "Every … minutes: must be after the first start time."),
    ({"times_2": "10:00", "weeks_ahead": "3", "every_minutes": "ten", "every_from": "10:00", "every_to": "12:00"},
     "Every … minutes: must be a whole number of minutes."),
    ({"times_2": "10:00", "weeks_ahead": "3", "exceptions": "2031-01-01\nChristmas"},
     "Exceptions, line 2: needs a date"),
])
def test_a_bad_availability_form_is_422_and_keeps_what_was_typed(client, auth, world, form, message):
    auth.login(world.owner.email)
    response = auth.post(f"/merchant/experiences/{world.offering.id}/schedule", form)
    assert response.status_code == 422
    html = html_of(response)
    assert re.search(r'class="alert alert-danger"[^>]*>[^<]*' + re.escape(message), html), html[:3000]
    for name in ("times_1", "times_2", "weeks_ahead", "every_minutes", "every_from", "every_to"):
        if name in form:
            assert input_value(html, name) == form[name], name
    if "exceptions" in form:
        assert "Christmas</textarea>" in html
    assert read(select(ScheduleTime.id).join(Schedule).where(Schedule.offering_id == world.offering.id)) == []
    assert scalar(select(Schedule.weeks_ahead).where(Schedule.offering_id == world.offering.id)) == 8


def test_cancel_a_slot_from_the_editor(client, auth, world):
    auth.login(world.owner.email)
    html = html_of(client.get(f"/merchant/experiences/{world.offering.id}/schedule"))
    assert f'data-slot-id="{world.slot.id}"' in html and "2 / 4" in html
    refused = auth.post(f"/merchant/slots/{world.slot.id}/cancel", {"reason": " "})
    assert "Tell the residents why." in html_of(follow(client, refused))
    done = auth.post(f"/merchant/slots/{world.slot.id}/cancel", {"reason": "Flooded"})
    assert "Slot cancelled; 1 booking(s) cancelled" in html_of(follow(client, done))
    assert booking_state()(world) == [("cancelled_by_merchant", world.slot.id, "Flooded")]
    assert f'data-slot-id="{world.slot.id}"' not in html_of(client.get(
        f"/merchant/experiences/{world.offering.id}/schedule"))
    missing = auth.post("/merchant/slots/2147483647/cancel", {"reason": "x"})
    assert missing.status_code == 302 and "No such slot." in html_of(client.get(missing.headers["Location"]))


# -- the access matrix --------------------------------------------------------------------------------

@dataclass
class Case:
    id: str
    send: Callable[[object, World], object]  # (auth, world) -> response
    expected: dict[str, int]
    state: Callable[[World], object] | None = None
    changes: frozenset[str] = frozenset()


def _expect(default: int, **overrides: int) -> dict[str, int]:
    return {name: overrides.get(name, default) for name in ACTORS} | {"anonymous": 302}


STORE_PEOPLE = {"owner": 302, "staff": 302, "admin": 302}
EVERYONE = frozenset(ACTORS) - {"anonymous"}


def _cases() -> list[Case]:
    return [
        Case("book", lambda a, w: a.post("/bookings", {"offering_id": w.offering.id, "slot_id": w.free_slot.id,
                                                       "party_size": "1"}),
             _expect(302), lambda w: read(select(func.count()).select_from(Booking)
                                          .where(Booking.slot_id == w.free_slot.id)), EVERYONE),
        Case("cancel", lambda a, w: a.post(f"/bookings/{w.booking.id}/cancel", {"reason": "Closing early"}),
             _expect(404, resident=302, owner=302, admin=302, staff=403), booking_state(),
             frozenset({"resident", "owner", "admin"})),
        Case("reschedule", lambda a, w: a.post(f"/bookings/{w.booking.id}/reschedule", {"slot_id": w.free_slot.id}),
             _expect(404, resident=302, owner=403, staff=403, admin=403), booking_state(), frozenset({"resident"})),
        Case("confirm", lambda a, w: a.post(f"/bookings/{w.pending.id}/confirm"),
             _expect(404, **STORE_PEOPLE), booking_state("pending"), frozenset(STORE_PEOPLE)),
        Case("reject", lambda a, w: a.post(f"/bookings/{w.pending.id}/reject", {"reason": "Full"}),
             _expect(404, **STORE_PEOPLE), booking_state("pending"), frozenset(STORE_PEOPLE)),
        Case("no-show", lambda a, w: a.post(f"/bookings/{w.ended.id}/no-show"),
             _expect(404, **STORE_PEOPLE), booking_state("ended"), frozenset(STORE_PEOPLE)),
        Case("cancel-slot", lambda a, w: a.post(f"/merchant/slots/{w.slot.id}/cancel", {"reason": "Flooded"}),
             _expect(403, owner=302, admin=302), lambda w: read(select(Slot.status).where(Slot.id == w.slot.id)),
             frozenset({"owner", "admin"})),
        Case("put-schedule", lambda a, w: a.post(f"/merchant/experiences/{w.offering.id}/schedule",
                                                 {"times_2": "10:00", "weeks_ahead": "1"}),
             _expect(403, owner=302, admin=302),
             lambda w: read(select(ScheduleTime.weekday).join(Schedule).where(Schedule.offering_id == w.offering.id)),
             frozenset({"owner", "admin"})),
        Case("join-waitlist", lambda a, w: a.post(f"/slots/{w.full_slot.id}/waitlist", {"party_size": "1"}),
             _expect(302), lambda w: read(select(func.count()).select_from(WaitlistEntry)
                                          .where(WaitlistEntry.slot_id == w.full_slot.id)),
             EVERYONE - {"resident"}),  # the resident holds the slot's only seat: refused with a message
        Case("leave-waitlist", lambda a, w: a.post(f"/waitlist/{w.entry.id}/leave"),
             _expect(404, resident=302),
             lambda w: read(select(WaitlistEntry.status).where(WaitlistEntry.id == w.entry.id)),
             frozenset({"resident"})),
        Case("store-day", lambda a, w: a.client.get(f"/merchant/stores/{w.store.id}/bookings?day="
                                                    f"{local_day(w.slot)}"),
             _expect(404, owner=200, staff=200, admin=200)),
        Case("booking-page", lambda a, w: a.client.get(f"/bookings/{w.booking.id}"),
             _expect(404, resident=200, owner=200, staff=200, admin=200)),
        Case("schedule-page", lambda a, w: a.client.get(f"/merchant/experiences/{w.offering.id}/schedule"),
             _expect(403, owner=200, admin=200)),
        Case("my-visits", lambda a, w: a.client.get("/me/visits"), _expect(200)),
        Case("inbox", lambda a, w: a.client.get("/me/inbox"), _expect(200)),
    ]


CASES = _cases()


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_access_matrix(auth, world, case, who):
    user = world.users[who]
    if user is not None:
        assert auth.login(user.email).status_code == 302
    before = case.state(world) if case.state else None
    response = case.send(auth, world)
    expected = case.expected[who]
    assert response.status_code == expected, (who, response.get_data(as_text=True)[:400])
    if who == "anonymous":
        assert "/auth/login" in response.headers["Location"]
    if case.state:
        after = case.state(world)
        if who in case.changes:
            assert after != before, f"{who} was allowed but nothing changed"
        else:
            assert after == before, f"{who} was refused but the state changed"
    if case.id == "store-day" and expected == 200:
        assert f'data-booking-id="{world.booking.id}"' in response.get_data(as_text=True)
    if case.id == "booking-page" and expected == 200:
        assert world.booking.code in response.get_data(as_text=True)


# -- fuzz: no form input answers 500 --------------------------------------------------------------------

ODD = ["", " ", "0", "-1", "99999999999999999999", "1.5", "x" * 5000, "\x00", "💥", "2147483648", "25:61",
       "10:00,,;; 11:00", "9999-12-31", "0001-01-01", "on"]


def test_fuzz_booking_forms_never_answer_500(auth, world):
    auth.login(world.owner.email)
    for value in ODD:
        for path, data in [
            ("/bookings", {"offering_id": value, "slot_id": value, "party_size": value, "note": value, "day": value}),
            (f"/bookings/{world.booking.id}/reschedule", {"slot_id": value}),
            (f"/bookings/{world.pending.id}/reject", {"reason": value, "next": value}),
            (f"/slots/{world.full_slot.id}/waitlist", {"party_size": value, "note": value}),
            (f"/merchant/experiences/{world.offering.id}/schedule", {
                **{f"times_{d}": value for d in range(7)}, "weeks_ahead": value, "min_notice_minutes": value,
                "checkin_opens_minutes": value, "every_minutes": value, "every_from": value, "every_to": value,
                "exceptions": f"{value}\n2031-01-01 {value}\n{value} {value} {value}", "requires_approval": value}),
        ]:
            response = auth.post(path, data)
            assert response.status_code < 500, (path, value, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "9999-12-30", "2031-02-29", "-5", "2031-1-1"])
def test_fuzz_day_parameters_never_answer_500(client, auth, world, day):
    auth.login(world.owner.email)
    for path in (f"/merchant/stores/{world.store.id}/bookings?day={day}",
                 f"/experiences/{world.offering.id}?day={day}"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
