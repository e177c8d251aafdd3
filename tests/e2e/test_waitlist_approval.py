"""A waitlist in real Chromium, on an experience whose store approves each booking (issue 11, bug 3 and
the waitlist's party in bug 8): a resident waits for a full slot with the party typed in the booking form,
is promoted when a seat frees up and sees the booking as waiting for the store, not confirmed; the merchant
approves it on the store's day and the resident sees it confirmed.

The experience and the booking that fills it are set up through the API; the rest only through pages.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from app import clock
from tests.e2e.checkin_setup import DEMO_MERCHANT, DEMO_RESIDENT, Visit, archive, call, demo_studio, token_of
from tests.e2e.conftest import new_context
from tests.e2e.test_checkin_journey import guard_outside, log_in

pytestmark = pytest.mark.e2e

PENDING = "Waiting for the store to confirm"


def _approval_experience(base: str, studio, token: str) -> tuple[int, str, dict, str]:
    """A two-seat experience that needs the store's approval, with one slot two days ahead; return
    (offering id, title, slot, its store-local day)."""
    store = studio.first
    title = f"E2E approval waitlist {uuid.uuid4().hex[:8]}"
    offering = call(base, "POST", "/api/v1/offerings", {
        "store_id": store["id"], "title": title, "category": "beauty_makeup",
        "price_amount": "98.00", "currency": "CNY", "duration_min": 60, "capacity": 2,
    }, token=token)
    assert offering.status == 201, offering.body
    local = (clock.now() + timedelta(days=2)).astimezone(ZoneInfo(store["timezone"]))
    schedule = call(base, "PUT", f"/api/v1/offerings/{offering.body['id']}/schedule", {
        "weekly": [], "min_notice_minutes": 0, "requires_approval": True,
        "exceptions": [{"date": local.date().isoformat(), "kind": "extra_slot", "time": "14:00"}],
    }, token=token)
    assert schedule.status == 200 and schedule.body["created"] == 1, schedule.body
    slots = call(base, "GET", f"/api/v1/offerings/{offering.body['id']}/slots?from={local.date().isoformat()}")
    assert slots.status == 200 and len(slots.body["items"]) == 1, slots.body
    return offering.body["id"], title, slots.body["items"][0], local.date().isoformat()


def test_a_promoted_resident_waits_for_approval_and_the_merchant_approves(browser: Browser, page: Page,
                                                                          live_server: str, outside_requests):
    studio = demo_studio(live_server)
    offering_id, title, slot, day = _approval_experience(live_server, studio, studio.merchant_token)
    # Someone else takes both seats first: a request, which holds its seats while the store decides.
    email = f"first-{uuid.uuid4().hex[:10]}@e2e.onsite"
    registered = call(live_server, "POST", "/api/v1/auth/register", {
        "email": email, "password": "e2e-first-pass-7", "display_name": "First In Line", "role": "resident"})
    assert registered.status == 201, registered.body
    first = token_of(live_server, email, "e2e-first-pass-7")
    taken = call(live_server, "POST", "/api/v1/bookings", {"slot_id": slot["id"], "party_size": 2}, token=first)
    assert taken.status == 201 and taken.body["status"] == "pending", taken.body

    merchant_context = new_context(browser)
    merchant_outside = guard_outside(merchant_context)
    try:
        log_in(page, live_server, *DEMO_RESIDENT, "Demo Resident 示范居民")
        page.goto(f"{live_server}/experiences/{offering_id}?day={day}")
        page.get_by_label("People").fill("2")
        page.get_by_text("A time you want is full? Join its waitlist").click()
        page.get_by_role("button", name="Wait for 14:00").click()
        expect(page.locator("body")).to_contain_text("You are on the waitlist.")
        expect(page.locator("li", has_text=title)).to_contain_text("party of 2")  # the party typed, not 1

        cancelled = call(live_server, "POST", f"/api/v1/bookings/{taken.body['id']}/cancel", {}, token=first)
        assert cancelled.status == 200, cancelled.body

        page.goto(f"{live_server}/me/visits")
        row = page.get_by_test_id("upcoming").locator("li", has_text=title)
        expect(row).to_contain_text(PENDING)
        expect(row).not_to_contain_text("Confirmed")
        row.get_by_role("link").click()
        expect(page.get_by_test_id("status")).to_have_text(PENDING)
        booking_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        page.goto(f"{live_server}/me/inbox")
        expect(page.locator("body")).to_contain_text("waiting for the store's approval")

        merchant = merchant_context.new_page()
        log_in(merchant, live_server, *DEMO_MERCHANT, "Demo Merchant 示范商家")
        merchant.goto(f"{live_server}/merchant/stores/{studio.first['id']}/bookings?day={day}")
        mine = merchant.locator(f"tr[data-booking-id='{booking_id}']")
        expect(mine).to_contain_text(PENDING)
        expect(mine).to_contain_text("Demo Resident 示范居民")
        mine.get_by_role("button", name="Approve").click()
        expect(merchant.locator("body")).to_contain_text("Confirmed.")
        expect(merchant.locator(f"tr[data-booking-id='{booking_id}']")).to_contain_text("Confirmed")

        page.goto(f"{live_server}/bookings/{booking_id}")
        expect(page.get_by_test_id("status")).to_have_text("Confirmed")
        assert not merchant_outside
    finally:
        merchant_context.close()
        archive(live_server, studio, Visit({}, offering_id, studio.first))
