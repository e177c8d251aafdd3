"""The live server, the commands that prepared its database and the browser all run at the suite's
instant (``--at``), so a browser test at 23:55 on 31 December really is one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page

from app import clock
from tests.e2e.checkin_setup import call

pytestmark = pytest.mark.e2e


def test_server_and_browser_read_the_runs_clock(page: Page, live_server: str):
    item = call(live_server, "GET", "/api/v1/offerings/nearby?lat=30.2465&lng=120.1485&limit=1").body["items"][0]
    html = call(live_server, "GET", f"/experiences/{item['id']}").body
    first_day = re.search(r'data-day="(\d{4}-\d\d-\d\d)"', html).group(1)
    # The page's first bookable day is the server's today in the store's zone (the demo city's).
    assert first_day == clock.today(ZoneInfo("Asia/Shanghai")).isoformat()

    page.goto(live_server + "/auth/login")
    browser_now = datetime.fromtimestamp(page.evaluate("Date.now()") / 1000, UTC)
    assert abs(browser_now - clock.now()) < timedelta(minutes=1)
