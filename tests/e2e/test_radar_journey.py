"""The demand radar in real Chromium: the demo merchant opens "Demand near you" and sees hexagons on the map
and a ranked list of opportunities from the demo city's year of searches, then the store's dashboard with its
charts, tables and CSV links; no request leaves 127.0.0.1."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.checkin_setup import DEMO_MERCHANT
from tests.e2e.test_checkin_journey import log_in

pytestmark = pytest.mark.e2e


def test_the_demo_merchant_sees_demand_near_the_studio_and_the_dashboard(page: Page, live_server: str,
                                                                         outside_requests):
    log_in(page, live_server, *DEMO_MERCHANT, "Demo Merchant 示范商家")
    page.goto(live_server + "/merchant/demand")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Demand near you")
    hexagons = page.locator("path.radar-cell")
    expect(hexagons.first).to_be_visible()
    assert hexagons.count() >= 10
    opportunities = page.get_by_test_id("opportunities").locator("li")
    expect(opportunities.first).to_be_visible()
    # The demo studio's pottery class overflows at weekends: workshops lead, and the list names the class.
    first = opportunities.first
    expect(first).to_contain_text("Class & workshop")
    expect(first).to_contain_text("found every seat taken")
    expect(first).to_contain_text("Pottery Wheel")
    hexagons.first.hover()
    expect(page.locator(".leaflet-tooltip")).to_contain_text("searches")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")
    charts = page.locator("svg.insights-chart")
    expect(charts).to_have_count(6)
    for key in ("bookings", "rates", "takings", "capacity", "ratings", "residents"):
        section = page.get_by_test_id(f"chart-{key}")
        expect(section.locator("svg")).to_be_visible()
        expect(section.get_by_role("link", name="Download CSV")).to_have_attribute("href", f"/merchant/stores/"
                                                                                          f"{page.url.split('/')[-2]}"
                                                                                          f"/dashboard/{key}.csv?days=28")
    with page.expect_download() as download:
        page.get_by_test_id("chart-bookings").get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith("-bookings.csv")
    assert outside_requests == []
