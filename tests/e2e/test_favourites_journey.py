"""Favourites in real Chromium: the demo resident taps the heart on an experience page (fetch, no reload) and
finds it on the Saved page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.checkin_setup import DEMO_RESIDENT, call
from tests.e2e.test_checkin_journey import log_in

pytestmark = pytest.mark.e2e


def test_heart_on_the_experience_page_then_saved_lists_it(live_server, page):
    issued = call(live_server, "POST", "/api/v1/auth/tokens",
                  {"email": DEMO_RESIDENT[0], "password": DEMO_RESIDENT[1]})
    token, resident_id = issued.body["token"], issued.body["user"]["id"]
    saved = call(live_server, "GET", f"/api/v1/residents/{resident_id}/favourites", token=token)
    assert saved.status == 200 and saved.body["saved_experiences"], saved.body
    experience = saved.body["saved_experiences"][0]
    assert call(live_server, "DELETE", f"/api/v1/saved-experiences/{experience['offering_id']}",
                token=token).status == 204
    log_in(page, live_server, *DEMO_RESIDENT, "Demo Resident 示范居民")
    page.goto(f"{live_server}/experiences/{experience['offering_id']}")
    heart = page.get_by_test_id("heart")
    expect(heart).to_have_attribute("aria-pressed", "false")
    heart.click()
    expect(heart).to_have_attribute("aria-pressed", "true")
    page.goto(f"{live_server}/saved")
    expect(page.get_by_test_id("saved-experiences")).to_contain_text(experience["title"])


def test_heart_on_the_explore_list_and_its_map_popup(live_server, page):
    issued = call(live_server, "POST", "/api/v1/auth/tokens",
                  {"email": DEMO_RESIDENT[0], "password": DEMO_RESIDENT[1]})
    token = issued.body["token"]
    log_in(page, live_server, *DEMO_RESIDENT, "Demo Resident 示范居民")
    page.goto(f"{live_server}/explore")
    first = page.get_by_test_id("results").locator("li").first
    expect(first).to_be_visible()
    offering_id = int(first.get_attribute("data-offering-id"))
    title = first.locator("a").first.inner_text()
    if first.get_by_test_id("heart").get_attribute("aria-pressed") == "true":  # saved before: start unsaved
        assert call(live_server, "DELETE", f"/api/v1/saved-experiences/{offering_id}", token=token).status == 204
        page.reload()
        first = page.locator(f".result-item[data-offering-id='{offering_id}']")
    heart = first.get_by_test_id("heart")
    expect(heart).to_have_attribute("aria-pressed", "false")
    heart.click()
    expect(heart).to_have_attribute("aria-pressed", "true")
    expect(page).to_have_url(f"{live_server}/explore")  # saved in place, no page change
    first.locator(".small").first.click()  # the item shows its pin: the popup's heart is saved too
    popup_heart = page.locator(".leaflet-popup").get_by_test_id("heart")
    expect(popup_heart).to_have_attribute("aria-pressed", "true")
    page.goto(f"{live_server}/saved")
    expect(page.get_by_test_id("saved-experiences")).to_contain_text(title)
    assert call(live_server, "DELETE", f"/api/v1/saved-experiences/{offering_id}", token=token).status == 204
