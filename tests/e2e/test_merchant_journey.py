"""Journey 3 in real Chromium: a merchant signs up, places a store by clicking the map,
lists an experience, and the experience page shows it."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_merchant_places_store_and_lists_experience(page: Page, live_server: str, outside_requests):
    email = f"merchant-{uuid.uuid4().hex[:10]}@e2e.onsite"
    page.goto(live_server + "/auth/register?role=merchant")
    page.get_by_label("Your name").fill("Lin Mei")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill("e2e-password-1")
    page.get_by_label("Repeat password").fill("e2e-password-1")
    page.get_by_label("a merchant listing my store").check()
    page.get_by_role("button", name="Sign up").click()

    # Signing up answers alike for new and known addresses, so it does not log in: the login form follows.
    expect(page.get_by_text("Check your e-mail")).to_be_visible()
    expect(page.get_by_label("E-mail")).to_have_value(email)
    page.get_by_label("Password", exact=True).fill("e2e-password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/merchant/businesses/new$"))
    page.get_by_label("Business name").fill("Lakeside Pottery 湖畔陶艺")
    page.get_by_label("Category").select_option("crafts")
    page.get_by_role("button", name="Create business").click()

    expect(page).to_have_url(re.compile(r"/merchant/businesses/\d+/stores/new$"))
    lat_input, lng_input = page.locator("#lat"), page.locator("#lng")
    expect(lat_input).to_have_value("")
    map_box = page.locator(".folium-map").bounding_box()
    assert map_box is not None and map_box["width"] > 100
    page.mouse.click(map_box["x"] + map_box["width"] * 0.6, map_box["y"] + map_box["height"] * 0.4)
    expect(lat_input).not_to_have_value("")
    lat, lng = float(lat_input.input_value()), float(lng_input.input_value())
    assert 29.5 < lat < 31 and 119.5 < lng < 121, (lat, lng)  # the map opens on Hangzhou
    page.locator(".leaflet-marker-icon").first.wait_for()
    page.get_by_label("Store name").fill("Lakeside Pottery · Nanshan Rd")
    page.get_by_label("Address").fill("杭州市西湖区南山路 12 号")
    page.get_by_role("button", name="Create store").click()

    expect(page).to_have_url(re.compile(r"/merchant/stores/\d+/hours$"))
    page.get_by_label("Sat opens", exact=True).fill("10:00")
    page.get_by_label("Sat closes", exact=True).fill("18:00")
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_text("Opening hours saved.")).to_be_visible()
    page.get_by_role("link", name="Next: add an experience").click()

    page.get_by_label("Title").fill("Throw your first tea cup 拉坯体验")
    page.get_by_label("Category").select_option("class_workshop")
    page.get_by_label("Price paid at the store").fill("168")
    page.get_by_label("People per slot").fill("6")
    page.get_by_role("button", name="List experience").click()

    expect(page).to_have_url(re.compile(r"/experiences/\d+$"))
    expect(page.get_by_test_id("offering-title")).to_contain_text("Throw your first tea cup")
    expect(page.get_by_test_id("price")).to_contain_text("168.00")
    page.get_by_role("link", name="Lakeside Pottery · Nanshan Rd").click()
    coordinates = page.locator("[data-lat]")
    assert abs(float(coordinates.get_attribute("data-lat")) - lat) < 1e-6
    assert abs(float(coordinates.get_attribute("data-lng")) - lng) < 1e-6
    expect(page.get_by_text("Throw your first tea cup")).to_be_visible()
    assert outside_requests == []
