"""Journey 5 (reviews) in real Chromium: a resident checked in at the counter reviews the visit from My
visits with a photo; the merchant replies from their reviews page; another resident sees the review with its
"Visited" badge, the photo and the reply, and marks it helpful.

The visit is set up through the API (tests/e2e/checkin_setup.py) and checked in by the demo staff at the
counter (the API the counter page uses). Reviews open at the slot's end: the live server's clock cannot be
moved for one test, so the visit's slot and check-in are moved three hours into the past in the live
server's database, as if the visit had happened then.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.checkin_setup import (
    DEMO_MERCHANT,
    DEMO_RESIDENT,
    archive,
    call,
    checked_in_visit,
    demo_studio,
    photo_bytes,
    token_of,
)
from tests.e2e.conftest import new_context
from tests.e2e.test_checkin_journey import guard_outside, log_in

pytestmark = pytest.mark.e2e


def test_a_resident_reviews_the_merchant_replies_another_resident_sees_it(browser: Browser, page: Page,
                                                                          live_server: str, outside_requests):
    studio = demo_studio(live_server)
    visit = checked_in_visit(live_server, studio, token_of(live_server, *DEMO_RESIDENT), hours_ago=3)
    words = f"Lovely hour at the wheel, patient teacher {uuid.uuid4().hex[:6]}."
    merchant_context = new_context(browser)
    other_context = new_context(browser)
    outside = [guard_outside(merchant_context), guard_outside(other_context)]
    try:
        log_in(page, live_server, *DEMO_RESIDENT, "Demo Resident 示范居民")
        page.goto(f"{live_server}/bookings/{visit.booking['id']}")
        expect(page.get_by_test_id("review-link")).to_be_visible()
        page.goto(f"{live_server}/me/visits")
        page.locator(f"[data-booking-id='{visit.booking['id']}']").get_by_role("link", name="Review your visit").click()
        expect(page.get_by_role("heading", name="Review your visit")).to_be_visible()
        for name, stars in (("rating", 5), ("rating_described", 5), ("rating_service", 4), ("rating_value", 5)):
            page.locator(f"#{name}-{stars}").check()
        page.get_by_label("Your review").fill(words)
        page.get_by_label("Photos (optional)").set_input_files(
            files=[{"name": "visit.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes((180, 90, 60))}])
        page.get_by_role("button", name="Publish review").click()
        expect(page.get_by_text("Thank you for your review!")).to_be_visible()
        mine = page.locator("[data-testid=review]", has_text=words)
        expect(mine.get_by_test_id("review-badge")).to_have_text("Visited")
        expect(mine.get_by_test_id("review-photos").locator("img")).to_have_count(1)

        merchant = merchant_context.new_page()
        log_in(merchant, live_server, *DEMO_MERCHANT, "Demo Merchant 示范商家")
        merchant.goto(f"{live_server}/merchant/reviews?unreplied=1")
        waiting = merchant.locator("[data-testid=review]", has_text=words)
        waiting.get_by_label("Reply as the store").fill("Thank you for coming, see you at the wheel again!")
        waiting.get_by_role("button", name="Publish reply").click()
        expect(merchant.get_by_text("Your reply is published.")).to_be_visible()
        merchant.goto(f"{live_server}/merchant/reviews?unreplied=1")
        expect(merchant.locator("[data-testid=review]", has_text=words)).to_have_count(0)

        email = f"reader-{uuid.uuid4().hex[:10]}@e2e.onsite"
        registered = call(live_server, "POST", "/api/v1/auth/register", {
            "email": email, "password": "tulip-harbour-93", "display_name": "E2E Reader", "role": "resident"})
        assert registered.status == 201, registered.body
        other = other_context.new_page()
        log_in(other, live_server, email, "tulip-harbour-93", "E2E Reader")
        other.goto(f"{live_server}/experiences/{visit.offering_id}/reviews")
        seen = other.locator("[data-testid=review]", has_text=words)
        expect(seen.get_by_test_id("review-badge")).to_have_text("Visited")
        expect(seen.get_by_test_id("review-reply")).to_contain_text("Thank you for coming, see you at the wheel again!")
        image = seen.get_by_test_id("review-photos").locator("img")
        expect(image).to_have_count(1)
        assert other.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
        seen.get_by_role("button", name="Helpful").click()
        seen = other.locator("[data-testid=review]", has_text=words)
        expect(seen.get_by_test_id("helpful-count")).to_have_text("1 person found this helpful")
        expect(other.get_by_text("★★★★★").first).to_be_visible()
    finally:
        merchant_context.close()
        other_context.close()
        archive(live_server, studio, visit)
    assert outside_requests == []
    assert outside == [[], []]
