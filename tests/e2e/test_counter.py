"""The counter as staff meet it on a tablet whose clock is set to UTC: every time is said in the store's
zone, an empty code gets an answer, and the roster moves when a visitor is checked in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.checkin_setup import DEMO_RESIDENT, DEMO_STAFF, archive, demo_studio, open_visit, token_of
from tests.e2e.conftest import new_context
from tests.e2e.test_checkin_journey import log_in

pytestmark = pytest.mark.e2e


def test_the_counter_speaks_store_time_and_keeps_its_roster_current(browser: Browser, live_server: str):
    studio = demo_studio(live_server)
    resident = token_of(live_server, *DEMO_RESIDENT)
    early = open_visit(live_server, studio, resident, minutes_ahead=180)
    due = open_visit(live_server, studio, resident, minutes_ahead=10)
    context = new_context(browser, timezone_id="UTC", locale="en-US")
    try:
        page = context.new_page()
        log_in(page, live_server, *DEMO_STAFF, "Demo Staff 示范店员")
        day = due.booking["slot"]["starts_at"][:10]
        page.goto(f"{live_server}/merchant/stores/{due.store['id']}/checkin?day={day}")
        result = page.get_by_test_id("checkin-result")

        page.get_by_role("button", name="Check in", exact=True).click()
        expect(result).to_contain_text("Type or scan a code")

        page.get_by_label("Visitor's code").fill(early.code)
        page.get_by_role("button", name="Check in", exact=True).click()
        expect(result).to_contain_text("Not the time for this visit")
        zone = ZoneInfo(early.store["timezone"])
        opens = datetime.fromisoformat(early.booking["slot"]["starts_at"]) - timedelta(minutes=30)
        local = opens.astimezone(zone)
        # Shanghai's 21:00 on the tablet's UTC clock is still "21:00", in the site's 24-hour format.
        expect(result).to_contain_text(re.compile(
            rf"Check-in opens \D*{local.day}\D.*{local:%H:%M} \({re.escape(early.store['timezone'])}\)"))

        title = due.booking["offering"]["title"]
        expect(page.get_by_test_id("roster-expected")).to_contain_text(title)
        expect(page.get_by_test_id("roster-arrived")).not_to_contain_text(title)
        page.get_by_label("Visitor's code").fill(due.code)
        page.get_by_role("button", name="Check in", exact=True).click()
        expect(result).to_contain_text("Checked in")
        expect(page.get_by_test_id("roster-arrived")).to_contain_text(title)  # no reload
        expect(page.get_by_test_id("roster-expected")).not_to_contain_text(title)
        assert page.get_by_label("Visitor's code").evaluate("el => el === document.activeElement")
    finally:
        context.close()
        archive(live_server, studio, early)
        archive(live_server, studio, due)
