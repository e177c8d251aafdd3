"""Journey 2 in real Chromium: a resident signs up, books a slot for two, sees the price to pay at the
store, gets a QR code and a short code, downloads the calendar file, reschedules, then cancels."""

import re
import uuid

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_resident_books_reschedules_and_cancels(page: Page, live_server: str, outside_requests, tmp_path):
    page.goto(live_server + "/auth/register")
    page.get_by_label("Your name").fill("Zhou Xin")
    page.get_by_label("E-mail").fill(f"resident-{uuid.uuid4().hex[:10]}@e2e.onsite")
    page.get_by_label("Password", exact=True).fill("e2e-password-2")
    page.get_by_label("Repeat password").fill("e2e-password-2")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_test_id("whoami")).to_have_text("Zhou Xin")

    page.goto(live_server + "/explore")
    page.get_by_test_id("results").locator("li a").first.click()
    expect(page).to_have_url(re.compile(r"/experiences/\d+$"))

    page.locator("nav[aria-label=Days] a:not(.disabled)").first.click()
    unit = float(page.locator("#pay-at-store").get_attribute("data-unit") or 0)
    first_slot = page.locator("#book-form input[name=slot_id]:not([disabled])").first
    first_slot.check()
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
    page.get_by_label("Move to").select_option(index=0)
    page.get_by_role("button", name="Reschedule").click()
    expect(page.get_by_text("Moved. Your code stays the same.")).to_be_visible()
    assert page.get_by_test_id("when").inner_text() != when_before
    assert page.get_by_test_id("code").inner_text() == code

    page.get_by_role("button", name=re.compile("Cancel booking|Cancel anyway")).click()
    expect(page.get_by_test_id("status")).to_have_text("Cancelled by you")
    page.goto(live_server + "/me/visits")
    expect(page.get_by_test_id("upcoming")).to_contain_text("Cancelled by you")
    assert outside_requests == []
