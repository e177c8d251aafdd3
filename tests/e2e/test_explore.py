"""Journey 1 in real Chromium: a resident shares their position by West Lake, sees offers on the
map and in a list, filters by category, and opens an experience."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_resident_finds_experiences_near_west_lake(page: Page, live_server: str, outside_requests):
    page.goto(live_server + "/explore")
    results = page.get_by_test_id("results").locator("li")
    expect(results.first).to_be_visible()

    page.get_by_role("button", name="Use my location").click()
    expect(page.locator("#result-summary")).to_contain_text("of you")
    expect(results.first).to_be_visible()
    total = results.count()
    assert total > 5
    # The map shows the same results: markers or marker clusters are on it.
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()

    distances = [_metres(text) for text in page.locator(".result-item .small span:nth-child(2)").all_inner_texts()]
    assert distances == sorted(distances), "nearest first"

    page.get_by_label("Category").select_option("food_tasting")
    expect(page.locator("#result-summary")).not_to_contain_text(f"{total}+")
    expect(results.first).to_be_visible()
    filtered_ids = [int(i) for i in page.locator(".result-item").evaluate_all(
        "items => items.map(li => li.dataset.offeringId)")]
    api = page.request.get(f"{live_server}/api/v1/offerings/nearby?lat=30.246500&lng=120.148500"
                           "&radius_m=3000&limit=50&category=food_tasting").json()
    assert filtered_ids == [item["id"] for item in api["items"]]
    assert all(item["category"] == "food_tasting" for item in api["items"])

    first = results.first.locator("a").first
    title = first.inner_text()
    first.click()
    expect(page).to_have_url(re.compile(r"/experiences/\d+$"))
    expect(page.get_by_test_id("offering-title")).to_contain_text(title)
    expect(page.get_by_text("Food & tasting")).to_be_visible()
    assert outside_requests == []


def test_place_box_moves_the_search_offline(page: Page, live_server: str, outside_requests):
    page.goto(live_server + "/explore")
    page.get_by_label("Place").fill("滨江")
    page.get_by_role("button", name=re.compile("Binjiang, Hangzhou")).click()
    expect(page.locator("#result-summary")).to_contain_text("Binjiang")
    expect(page.get_by_test_id("results").locator("li").first).to_be_visible()
    assert outside_requests == []


def _metres(text: str) -> float:
    value, unit = text.split()
    return float(value) * (1000 if unit == "km" else 1)
