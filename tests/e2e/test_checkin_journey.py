"""Journey 4 in real Chromium: at the counter, the demo staff type a resident's short code, see
"Checked in", record the payment with the prefilled amount, and a second try says "Already checked in"
(when and by whom); then the resident's own page shows the visit as checked in by staff.

The visit is set up through the API (tests/e2e/checkin_setup.py); the check-in itself only through pages.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.checkin_setup import DEMO_RESIDENT, DEMO_STAFF, archive, demo_studio, open_visit, token_of
from tests.e2e.conftest import LOCAL_HOSTS, new_context

pytestmark = pytest.mark.e2e


def log_in(page: Page, base: str, email: str, password: str, name: str) -> None:
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_have_text(name)


def guard_outside(context: BrowserContext) -> list[str]:
    """Block and record every request from ``context`` to anything but this machine."""
    seen: list[str] = []

    def guard(route):
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            seen.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return seen


def checked_in_at(booking_id: int, timezone: str) -> str:
    """The check-in's store-local HH:MM, read from the live server's database."""
    url = re.sub(r"^postgresql\+psycopg://", "postgresql://", os.environ["E2E_DATABASE_URL"])
    with psycopg.connect(url) as connection:
        ((at,),) = connection.execute("SELECT checked_in_at FROM check_ins WHERE booking_id = %s",
                                      (booking_id,)).fetchall()
    return at.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def test_staff_check_a_resident_in_and_the_resident_sees_it(browser: Browser, page: Page, live_server: str,
                                                            outside_requests):
    studio = demo_studio(live_server)
    visit = open_visit(live_server, studio, token_of(live_server, *DEMO_RESIDENT), party_size=2)
    resident_context = new_context(browser)
    resident_outside = guard_outside(resident_context)
    try:
        log_in(page, live_server, *DEMO_STAFF, "Demo Staff 示范店员")
        page.goto(f"{live_server}/merchant/stores/{visit.store['id']}/checkin")
        expect(page.get_by_test_id("store-code")).to_have_text(re.compile(r"^\d{6}$"))

        code = page.get_by_label("Visitor's code")
        code.fill(f"{visit.code[:4]}-{visit.code[4:]}".lower())  # read out and typed as people do
        page.get_by_role("button", name="Check in", exact=True).click()
        result = page.get_by_test_id("checkin-result")
        expect(result).to_contain_text("Checked in")
        expect(result).to_contain_text("Demo Resident 示范居民 · party of 2")
        expect(result).to_contain_text(visit.booking["slot"]["starts_at"][11:16])
        expect(result).to_contain_text("Collect ¥336.00")

        expect(page.get_by_test_id("payment-form")).to_be_visible()
        expect(page.get_by_label("Amount")).to_have_value("336.00")
        page.get_by_label("Method").select_option("cash")
        page.get_by_label("Note").fill("paid in cash at the counter")
        page.get_by_role("button", name="Record payment").click()
        expect(page.locator("#payment-result")).to_have_text("Recorded ¥336.00.")

        code.fill(visit.code)
        page.get_by_role("button", name="Check in", exact=True).click()
        expect(result).to_contain_text("Already checked in")
        local = checked_in_at(visit.booking["id"], visit.store["timezone"])
        expect(result).to_contain_text(f"at {local} by Demo Staff 示范店员")
        expect(page.get_by_test_id("payment-form")).to_be_hidden()

        # The visit's own local day: near midnight it is tomorrow, not the counter's today.
        page.goto(f"{live_server}/merchant/stores/{visit.store['id']}/checkin?day={visit.booking['slot']['starts_at'][:10]}")
        expect(page.get_by_test_id("roster-arrived")).to_contain_text("Demo Resident 示范居民")
        expect(page.get_by_test_id("roster-arrived")).to_contain_text("typed")

        resident = resident_context.new_page()
        log_in(resident, live_server, *DEMO_RESIDENT, "Demo Resident 示范居民")
        resident.goto(f"{live_server}/bookings/{visit.booking['id']}")
        expect(resident.get_by_test_id("status")).to_have_text("Checked in")
        expect(resident.get_by_test_id("check-in")).to_contain_text(f"Checked in {local}")
        expect(resident.get_by_test_id("check-in")).to_contain_text("checked in by staff (code typed)")
        expect(resident.get_by_text("paid at the store")).to_be_visible()
        expect(resident.get_by_test_id("qr")).to_have_count(0)
    finally:
        resident_context.close()
        archive(live_server, studio, visit)
    assert outside_requests == []
    assert resident_outside == []
