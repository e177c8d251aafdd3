"""Journey 2 in real Chromium: a resident signs up, books a slot for two, sees the price to pay at the
store, gets a QR code and a short code, downloads the calendar file, reschedules, then cancels.

The experience is the test's own (a new merchant's, by West Lake), with slots at 10:00 and 15:00 every
day; the resident books three local days ahead, so the slot is outside the 24-hour cancellation cut-off
at whatever instant the run is at (``--at``), and moves to the day after.
"""

import re
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect

from app import clock
from tests.e2e.checkin_setup import call, token_of

pytestmark = pytest.mark.e2e
TZ = "Asia/Shanghai"


def own_experience(base: str) -> tuple[str, int, list[dict]]:
    """A new merchant's experience by West Lake; return its title, id and its slots 3 and 4 days ahead."""
    email = f"merchant-{uuid.uuid4().hex[:10]}@e2e.onsite"
    assert call(base, "POST", "/api/v1/auth/register", {
        "email": email, "password": "e2e-merchant-pass", "display_name": "E2E Kiln", "role": "merchant"}).status == 201
    token = token_of(base, email, "e2e-merchant-pass")
    business = call(base, "POST", "/api/v1/businesses", {"name": "E2E Kiln", "category": "crafts"}, token=token)
    assert business.status == 201, business.body
    store = call(base, "POST", "/api/v1/stores", {
        "business_id": business.body["id"], "name": "E2E Kiln · Nanshan Rd", "address": "12 Nanshan Road",
        "lat": 30.2463, "lng": 120.1487, "timezone": TZ}, token=token)
    assert store.status == 201, store.body
    title = f"Kiln taster {uuid.uuid4().hex[:8]}"
    offering = call(base, "POST", "/api/v1/offerings", {
        "store_id": store.body["id"], "title": title, "category": "class_workshop", "price_amount": "88.00",
        "currency": "CNY", "duration_min": 90, "capacity": 6, "cancel_cutoff_hours": 24}, token=token)
    assert offering.status == 201, offering.body
    schedule = call(base, "PUT", f"/api/v1/offerings/{offering.body['id']}/schedule", {
        "weekly": [{"weekday": day, "times": ["10:00", "15:00"]} for day in range(7)],
        "weeks_ahead": 2, "min_notice_minutes": 0, "requires_approval": False}, token=token)
    assert schedule.status == 200, schedule.body
    first = clock.today(ZoneInfo(TZ)) + timedelta(days=3)
    slots = call(base, "GET", f"/api/v1/offerings/{offering.body['id']}/slots?from={first}"
                              f"&to={first + timedelta(days=2)}")
    assert slots.status == 200 and len(slots.body["items"]) == 4, slots.body
    return title, offering.body["id"], slots.body["items"]


def test_resident_books_reschedules_and_cancels(page: Page, live_server: str, outside_requests, tmp_path):
    title, offering_id, (booked, _, moved_to, _) = own_experience(live_server)
    page.goto(live_server + "/auth/register")
    page.get_by_label("Your name").fill("Zhou Xin")
    page.get_by_label("E-mail").fill(f"resident-{uuid.uuid4().hex[:10]}@e2e.onsite")
    page.get_by_label("Password", exact=True).fill("e2e-password-2")
    page.get_by_label("Repeat password").fill("e2e-password-2")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("Check your e-mail")).to_be_visible()  # then log in, the address filled in
    page.get_by_label("Password", exact=True).fill("e2e-password-2")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_have_text("Zhou Xin")

    page.goto(live_server + "/explore")
    page.get_by_label("Search").fill(title)
    page.get_by_label("Search").press("Enter")
    page.get_by_test_id("results").get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(rf"/experiences/{offering_id}$"))

    page.locator(f"nav[aria-label=Days] a[data-day='{booked['starts_at'][:10]}']").click()
    unit = float(page.locator("#pay-at-store").get_attribute("data-unit") or 0)
    assert unit == 88.0
    page.locator(f"#slot-{booked['id']}").check(force=True)  # a radio styled as a button
    page.get_by_label("People").fill("2")
    if unit:
        expect(page.locator("#price-total")).to_contain_text("2 people")
    page.get_by_label("Note for the store (optional)").fill("Two beginners")
    page.get_by_role("button", name="Book", exact=True).click()

    expect(page).to_have_url(re.compile(r"/bookings/\d+$"))
    expect(page.get_by_test_id("status")).to_have_text(re.compile("Confirmed|Waiting for the store"))
    code = page.get_by_test_id("code").inner_text()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", code)
    expect(page.get_by_test_id("price-due")).to_contain_text("Free" if not unit else f"{unit * 2:,.2f}")
    expect(page.get_by_test_id("qr").locator("svg")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to calendar (.ics)").click()
    ics = (tmp_path / "visit.ics")
    download_info.value.save_as(ics)
    event = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")[0]
    assert str(event["DTSTART"].dt.tzinfo) == "Asia/Shanghai"
    assert event["GEO"].latitude and event["GEO"].longitude
    assert code in str(event["DESCRIPTION"])

    when_before = page.get_by_test_id("when").inner_text()
    assert booked["starts_at"][11:16] in when_before
    page.get_by_label("Move to").select_option(str(moved_to["id"]))
    page.get_by_role("button", name="Reschedule").click()
    expect(page.get_by_text("Moved. Your code stays the same.")).to_be_visible()
    assert moved_to["starts_at"][11:16] in page.get_by_test_id("when").inner_text() != when_before
    assert page.get_by_test_id("code").inner_text() == code

    page.get_by_role("button", name="Cancel booking").click()  # still before the cut-off: free
    expect(page.get_by_test_id("status")).to_have_text("Cancelled by you")
    page.goto(live_server + "/me/visits")
    expect(page.get_by_test_id("cancelled")).to_contain_text("Cancelled by you")
    expect(page.get_by_test_id("upcoming")).not_to_contain_text(title)  # not "coming up" any more
    assert outside_requests == []
