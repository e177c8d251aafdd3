"""Journey 1 in real Chromium: a resident shares their position by West Lake, sees offers on the
map and in a list, filters by category, and opens an experience."""

import os
import re
import time
from urllib.parse import urlencode

import psycopg
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

    expect(page.get_by_label("Sort")).to_have_value("relevance")  # "Best match" is the default order
    page.get_by_label("Sort").select_option("distance")
    expect(page.locator("#status")).to_have_text("")  # cleared in the same task that draws the new list
    distances = [_metres(text) for text in page.locator(".result-item .small span:nth-child(2)").all_inner_texts()]
    assert distances == sorted(distances), "nearest first"

    page.get_by_label("Category").select_option("food_tasting")
    expect(page.locator("#result-summary")).not_to_contain_text(f"{total}+")
    expect(results.first).to_be_visible()
    filtered_ids = [int(i) for i in page.locator(".result-item").evaluate_all(
        "items => items.map(li => li.dataset.offeringId)")]
    api = page.request.get(f"{live_server}/api/v1/offerings/nearby?lat=30.246500&lng=120.148500"
                           "&radius_m=3000&limit=50&category=food_tasting&sort=distance").json()
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


def test_zooming_out_shows_every_experience_in_view(page: Page, live_server: str, outside_requests):
    page.goto(live_server + "/explore")
    expect(page.get_by_test_id("results").locator("li").first).to_be_visible()
    listed = page.get_by_test_id("results").locator("li").count()

    for zoom in range(13, 8, -1):  # as a resident does it: the zoom control, one step at a time
        page.get_by_role("button", name="Zoom out").click()
        _until(page, f"() => window[{MAP}].getZoom() === {zoom} && !window[{MAP}]._animatingZoom")

    bounds = page.evaluate(f"() => {{ const b = window[{MAP}].getBounds(); "
                           "return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }")
    expected = _visible_offerings_in(*bounds)
    assert expected > listed, "the whole city holds more than the list"
    # Every experience in view is on the map exactly once: the numbers of Leaflet's groups, the server's
    # clusters (if any) and the lone pins add up to what the database holds in the map's bounds.
    _until(page, f"() => ({MAP_COUNT})() === {expected}", fail=False)  # the assertion says what it shows
    assert page.evaluate(MAP_COUNT) == expected
    expect(page.locator("#map-summary")).to_have_text(f"{expected} experiences in view")
    expect(page.locator("#map-summary")).to_have_attribute("data-zoom", "9")
    assert outside_requests == []


MAP = "document.getElementById('explore-map').dataset.mapName"


def _until(page: Page, predicate: str, *, seconds: float = 10, fail: bool = True) -> bool:
    """Evaluate ``predicate`` until it is true. Polled from here: the page's timers run on the installed
    clock, which page.wait_for_function's own polling does not see move."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if page.evaluate(predicate):
            return True
        time.sleep(0.1)
    assert not fail, f"never true: {predicate}"
    return False


# What the map shows, summed: each Leaflet group's number, each server cluster's count, each lone pin.
MAP_COUNT = """() => {
  const icons = [...document.querySelectorAll("#explore-map .leaflet-marker-icon")];
  return icons.reduce((sum, icon) => sum + (icon.classList.contains("marker-cluster")
      || icon.classList.contains("density-marker") ? Number(icon.textContent.trim()) : 1), 0);
}"""


def _visible_offerings_in(min_lng: float, min_lat: float, max_lng: float, max_lat: float) -> int:
    url = re.sub(r"^postgresql\+psycopg://", "postgresql://", os.environ["E2E_DATABASE_URL"])
    with psycopg.connect(url) as connection:
        return connection.execute("""
            SELECT count(*) FROM offerings o JOIN stores s ON s.id = o.store_id
            JOIN businesses b ON b.id = s.business_id
            WHERE o.status = 'active' AND s.status = 'active' AND b.status = 'active'
              AND ST_X(o.location::geometry) BETWEEN %s AND %s AND ST_Y(o.location::geometry) BETWEEN %s AND %s
        """, (min_lng, max_lng, min_lat, max_lat)).fetchone()[0]


def _listed_ids(page: Page) -> list[int]:
    return [int(i) for i in page.locator(".result-item").evaluate_all(
        "items => items.map(li => li.dataset.offeringId)")]


def _all_ids(page: Page, live_server: str, **params) -> list[int]:
    """Every result of a nearby search, through the API, following the cursors."""
    found: list[int] = []
    cursor = None
    while True:
        query = {**params, "limit": 50, **({"cursor": cursor} if cursor else {})}
        body = page.request.get(f"{live_server}/api/v1/offerings/nearby?{urlencode(query)}").json()
        found += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return found


def test_when_can_i_go_narrows_the_list_and_the_map(page: Page, live_server: str, outside_requests):
    page.goto(live_server + "/explore")
    results = page.get_by_test_id("results").locator("li")
    expect(results.first).to_be_visible()
    day = page.get_by_label("When can I go?")
    expect(page.get_by_label("Time of day")).to_be_disabled()
    summary = page.locator("#map-summary")
    expect(summary).to_contain_text("in view")
    centre = page.evaluate("() => JSON.parse(document.getElementById('initial-results').textContent)")
    where = {"lat": f"{centre['lat']:.6f}", "lng": f"{centre['lng']:.6f}", "radius_m": centre["radius_m"]}
    in_view_before = int(summary.inner_text().split()[0].replace(",", ""))

    expect(day.locator("option").nth(2)).to_have_text("Tomorrow")
    tomorrow = day.locator("option").nth(2).get_attribute("value")
    day.select_option(tomorrow)
    page.get_by_label("Time of day").select_option("afternoon")
    page.get_by_label("People").select_option("4")
    expect(page.locator("#result-summary")).to_contain_text("free tomorrow afternoon for 4")

    when = {"available_on": tomorrow, "part_of_day": "afternoon", "party": 4}
    expected = _all_ids(page, live_server, **where, **when)
    everything = _all_ids(page, live_server, **where)
    assert expected and len(expected) < len(everything), "the filter must narrow this search"
    expect(results).to_have_count(min(len(expected), 50))
    assert _listed_ids(page) == expected[:50]
    # The map follows: what is in view is counted with the same filter.
    expect(summary).not_to_have_text(f"{in_view_before} experiences in view")
    assert int(summary.inner_text().split()[0].replace(",", "")) < in_view_before

    page.get_by_label("When can I go?").select_option("")  # any day again: everything is back
    expect(page.get_by_label("Time of day")).to_be_disabled()
    expect(summary).to_have_text(f"{in_view_before} experiences in view")
    assert outside_requests == []


def test_an_invalid_max_price_clears_the_old_results(page: Page, live_server: str, outside_requests):
    page.goto(live_server + "/explore")
    results = page.get_by_test_id("results").locator("li")
    expect(results.first).to_be_visible()

    page.get_by_label("Max price").fill("abc")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(results).to_have_count(0)
    expect(page.locator("#result-summary")).to_contain_text("No results")
    expect(page.get_by_role("alert")).to_contain_text("Max price:")  # the form's words, not max_price

    page.get_by_label("Max price").fill("200")
    expect(page.get_by_role("alert")).to_be_hidden()
    expect(results.first).to_be_visible()
    prices = page.locator(".result-item .badge").all_inner_texts()
    assert prices and all(p == "Free" or float(re.sub(r"[^\d.]", "", p)) <= 200 for p in prices)
    assert outside_requests == []


def test_the_place_box_says_when_no_place_matches(page: Page, live_server: str, outside_requests):
    page.goto(live_server + "/explore")
    page.get_by_label("Place").fill("Qwxzzy")
    expect(page.locator("#place-results")).to_have_text("No place called “Qwxzzy”")
    page.get_by_label("Place").fill("滨江")
    expect(page.get_by_role("button", name=re.compile("Binjiang, Hangzhou"))).to_be_visible()
    expect(page.locator("#place-results")).not_to_contain_text("No place called")
    assert outside_requests == []


def _metres(text: str) -> float:
    value, unit = text.split()
    return float(value) * (1000 if unit == "km" else 1)
