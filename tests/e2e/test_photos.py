"""Photos in real Chromium: the demo merchant uploads a phone photo on an experience's edit page and makes it
the cover; a resident then sees it in the explore list, in the map popup and on the experience page, drawn
from srcset variants without its GPS position, and no request leaves this machine."""

from __future__ import annotations

import io
import re

import pytest
from PIL import ExifTags, Image
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

WORKSHOP = "Parent-child Watercolour Workshop"  # the demo studio's, at its Nanshan Road store
NANSHAN_ROAD = {"lat": 30.2452, "lng": 120.1612}


def phone_photo() -> bytes:
    """A landscape JPEG as a phone writes it: camera, GPS position and an orientation tag in EXIF."""
    image = Image.new("RGB", (1600, 1200), (40, 110, 170))
    image.paste((240, 200, 60), (0, 0, 800, 1200))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Onsite Phone"
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (30.0, 14.0, 42.0),
                                  ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (120.0, 9.0, 40.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def log_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_be_visible()


def expect_loaded(image, digest: str) -> None:
    """The <img> offers the photo's variants in srcset and the browser drew one of them."""
    expect(image).to_have_attribute("srcset", re.compile(rf"/media/{digest}-320\.jpg 320w, .*{digest}-1200\.jpg"))
    image.scroll_into_view_if_needed()
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    assert digest in image.evaluate("img => img.currentSrc")


def test_merchant_uploads_a_cover_and_a_resident_sees_it_everywhere(page: Page, live_server: str,
                                                                   outside_requests):
    found = page.request.get(f"{live_server}/api/v1/offerings/nearby?lat={NANSHAN_ROAD['lat']}"
                             f"&lng={NANSHAN_ROAD['lng']}&radius_m=200&q=watercolour").json()["items"]
    offering_id = next(item["id"] for item in found if WORKSHOP in item["title"])

    # The merchant adds a photo on the edit page and makes it the cover.
    log_in(page, live_server, "merchant@demo.onsite", "demo-merchant-pass")
    page.goto(f"{live_server}/merchant/experiences/{offering_id}/edit")
    manager = page.get_by_test_id("photo-manager")
    rows = manager.locator(".photo-row")
    before = rows.count()
    assert before >= 1  # the demo city's drawn pictures
    manager.get_by_label("Add photos").set_input_files(
        files=[{"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}])
    manager.get_by_label("Description (optional)").fill("Painting the lake in yellow and blue")
    manager.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("Photo added.")).to_be_visible()
    expect(rows).to_have_count(before + 1)
    added = rows.last
    expect(added.get_by_label(re.compile("Description of photo"))).to_have_value("Painting the lake in yellow and blue")
    digest = re.search(r"/media/([0-9a-f]{32})-", added.locator("img").get_attribute("src")).group(1)
    added.get_by_role("button", name="Make cover").click()
    expect(page.get_by_text("Cover chosen.")).to_be_visible()
    expect(rows.first.locator("img")).to_have_attribute("src", re.compile(digest))
    expect(rows.first.get_by_text("Cover")).to_be_visible()

    # Turned upright (the phone was held sideways) and stripped: no camera, no GPS position.
    served = page.request.get(f"{live_server}/media/{digest}-1200.jpg")
    assert served.ok and "immutable" in served.headers["cache-control"]
    photo = Image.open(io.BytesIO(served.body()))
    assert photo.size == (1200, 1600) and len(photo.getexif()) == 0 and b"Onsite Phone" not in served.body()

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, "resident@demo.onsite", "demo-resident-pass")

    # The list, then the map popup of the same experience.
    page.goto(f"{live_server}/explore?lat={NANSHAN_ROAD['lat']}&lng={NANSHAN_ROAD['lng']}")
    item = page.locator(f'.result-item[data-offering-id="{offering_id}"]')
    expect(item).to_be_visible()
    expect_loaded(item.locator("img.result-photo"), digest)
    expect(item.locator("img.result-photo")).to_have_attribute("sizes", "88px")
    item.locator(".small").first.click()  # not the link: the list shows the experience on the map
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(WORKSHOP)
    expect_loaded(popup.locator("img.popup-photo"), digest)

    # The experience page's gallery opens on the new cover.
    popup.get_by_role("link", name=re.compile(WORKSHOP)).click()
    expect(page).to_have_url(re.compile(rf"/experiences/{offering_id}$"))
    cover = page.get_by_test_id("gallery").locator(".gallery-image").first
    expect(cover).to_have_attribute("alt", "Painting the lake in yellow and blue")
    expect_loaded(cover, digest)
    assert outside_requests == []
