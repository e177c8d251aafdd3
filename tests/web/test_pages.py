"""Every page renders for the right person; forms keep what was typed; nothing loads from outside."""

from __future__ import annotations

import json
import re
import warnings
from datetime import date
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from app.auth.models import Role
from app.merchants.models import HoursException, Store
from app.offerings.models import Offering, OfferingStatus
from geo.points import LngLat
from tests import factories as f


@pytest.fixture
def shop(db):
    """A merchant with one store, one paid, one free and one archived experience, and a staff member."""
    owner = f.create_merchant(email="owner@test.onsite", display_name="Owner Wang")
    business = f.create_business(owner, name="Clay & Tea Co", phone="0571-8888")
    store = f.create_store(business, name="Lakeside Studio", address="12 Nanshan Road", lng=120.1552, lat=30.2741)
    paid = f.create_offering(store, title="Pottery for beginners", price_amount=Decimal("88.00"))
    free = f.create_offering(store, title="Tea tasting", price_amount=Decimal("0"))
    archived = f.create_offering(store, title="Retired workshop", status=OfferingStatus.ARCHIVED)
    db.session.add(HoursException(store_id=store.id, day=date(2031, 1, 29), is_closed=True, note="Spring Festival"))
    staff = f.add_staff(store, f.create_user(Role.STAFF, email="staff@test.onsite", display_name="Staff Li"))
    db.session.flush()
    return {"owner": owner, "business": business, "store": store, "paid": paid, "free": free,
            "archived": archived, "staff": staff}


def _html(response) -> str:
    return response.get_data(as_text=True)


def _input_value(html: str, name: str) -> str | None:
    for tag in re.findall(r"<input[^>]*>", html):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            match = re.search(r'\bvalue="([^"]*)"', tag)
            return unescape(match.group(1)) if match else ""
    return None


def _field_errors(html: str, name: str) -> list[str]:
    return [unescape(m) for m in re.findall(rf'data-field="{re.escape(name)}">([^<]*)<', html)]


class _Urls(HTMLParser):
    """Collect every src/href, and the text of inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.urls.extend((tag, value or "") for name, value in attrs if name in ("src", "href", "srcset", "action"))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


def _assert_nothing_external(path: str, html: str) -> None:
    parser = _Urls()
    parser.feed(html)
    outside = [(tag, url) for tag, url in parser.urls if EXTERNAL.match(url)]
    assert outside == [], f"{path} references {outside}"
    # Inline scripts may name a tile server (TILE_URL), which is empty in TestConfig.
    for script in parser.scripts:
        assert "http://" not in script and "https://" not in script, f"{path} script: {script[:300]}"
    assert "//cdn." not in html and "cdnjs" not in html and "jsdelivr" not in html


# -- the public pages ------------------------------------------------------------

def test_home_renders(client, shop):
    response = client.get("/")
    assert response.status_code == 200
    html = _html(response)
    assert "Experiences near you" in html
    assert "/static/vendor/leaflet/leaflet.js" in html
    initial = json.loads(unescape(re.search(r'id="initial-results">(.*?)</script>', html, re.S).group(1)))
    titles = {item["title"] for item in initial["items"]}
    assert {"Pottery for beginners", "Tea tasting"} <= titles
    assert "Retired workshop" not in titles


@pytest.mark.parametrize("path, text", [("/auth/login", "Log in"), ("/auth/register", "Create your Onsite account")])
def test_account_pages_render(client, db, path, text):
    response = client.get(path)
    assert response.status_code == 200
    assert text in _html(response) and 'name="csrf_token"' in _html(response)


def test_store_page_shows_hours_pin_and_experiences(client, shop):
    store = shop["store"]
    response = client.get(f"/stores/{store.id}")
    html = _html(response)
    assert response.status_code == 200
    assert "Lakeside Studio" in html and "12 Nanshan Road" in html and "Clay &amp; Tea Co" in html
    assert html.count("10:00–20:00") == 7
    assert "2031-01-29: closed Spring Festival" in html
    assert 'data-lat="30.2741" data-lng="120.1552"' in html
    assert re.search(r"L\.marker\(\s*\[30\.2741, 120\.1552\]", html), "no pin at the store"
    assert "Pottery for beginners" in html and "Tea tasting" in html
    assert "Retired workshop" not in html
    assert "Edit store" not in html


def test_store_page_shows_management_links_to_the_owner(auth, shop):
    auth.login(shop["owner"].email)
    html = _html(auth.client.get(f"/stores/{shop['store'].id}"))
    assert f"/merchant/stores/{shop['store'].id}/edit" in html
    assert "Retired workshop" in html


def test_experience_page_shows_price_paid_at_store(client, shop):
    response = client.get(f"/experiences/{shop['paid'].id}")
    html = _html(response)
    assert response.status_code == 200
    assert "Pottery for beginners" in html
    assert "Pay at the store: ¥88.00" in html
    assert "Lakeside Studio" in html and re.search(r"L\.marker\(\s*\[30\.2741, 120\.1552\]", html)
    assert "Free cancellation until 24 hours before the start." in html


def test_free_experience_page_says_free(client, shop):
    html = _html(client.get(f"/experiences/{shop['free'].id}"))
    assert re.search(r'data-testid="price">Free<', html)
    assert "Pay at the store" not in html


@pytest.mark.parametrize("path", [
    "/stores/987654321", "/experiences/987654321", "/stores/99999999999999999999",
    "/experiences/99999999999999999999", "/no-such-page", "/stores/abc",
], ids=["store", "experience", "huge-store", "huge-experience", "unknown-path", "text-id"])
def test_unknown_ids_render_the_404_page(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    html = _html(response)
    assert "<h1 class=\"h3\">Not found</h1>" in html
    assert "Traceback" not in html


@pytest.mark.parametrize("path", [
    "/merchant/stores/987654321/edit", "/merchant/stores/987654321/hours", "/merchant/stores/987654321/staff",
    "/merchant/businesses/987654321/edit", "/merchant/businesses/987654321/stores/new",
    "/merchant/experiences/987654321/edit", "/merchant/stores/987654321/experiences/new",
    "/merchant/stores/99999999999999999999/edit",
])
def test_unknown_ids_on_merchant_pages_are_404(auth, shop, path):
    auth.login(shop["owner"].email)
    response = auth.client.get(path)
    assert response.status_code == 404
    assert "Not found" in _html(response)


def test_unknown_ids_on_merchant_writes_are_404(auth, shop):
    auth.login(shop["owner"].email)
    store = shop["store"]
    assert auth.post(f"/merchant/stores/{store.id}/exceptions/987654321/delete").status_code == 404
    assert auth.post(f"/merchant/stores/{store.id}/staff/987654321/delete").status_code == 404
    assert auth.post(f"/merchant/stores/{store.id}/staff/99999999999999999999/delete").status_code == 404


# -- the merchant pages ----------------------------------------------------------

def test_dashboard_lists_the_merchants_stores_and_experiences(auth, shop):
    auth.login(shop["owner"].email)
    response = auth.client.get("/merchant/")
    html = _html(response)
    assert response.status_code == 200
    assert f'data-business-id="{shop["business"].id}"' in html
    assert f'data-store-id="{shop["store"].id}"' in html
    for title in ("Pottery for beginners", "Tea tasting", "Retired workshop"):
        assert title in html
    assert f'/merchant/experiences/{shop["archived"].id}/restore' in html
    assert f'/merchant/experiences/{shop["paid"].id}/archive' in html


def test_dashboard_for_an_empty_merchant_invites_a_business(auth, db):
    f.create_merchant(email="new@test.onsite")
    auth.login("new@test.onsite")
    html = _html(auth.client.get("/merchant/"))
    assert "Create a business" in html
    assert "data-business-id" not in html


def test_dashboard_for_staff_lists_their_store(auth, shop):
    auth.login(shop["staff"].email)
    response = auth.client.get("/merchant/")
    html = _html(response)
    assert response.status_code == 200
    assert f'data-staff-store-id="{shop["store"].id}"' in html
    assert "Stores I work at" in html and "Pottery for beginners" in html
    assert "data-business-id" not in html


def test_dashboard_needs_login(client, db):
    response = client.get("/merchant/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_new_business_form_renders(auth, shop):
    auth.login(shop["owner"].email)
    html = _html(auth.client.get("/merchant/businesses/new"))
    assert 'name="name"' in html and 'name="category"' in html and 'value="crafts"' in html


def test_new_business_form_keeps_input_on_error(auth, shop):
    auth.login(shop["owner"].email)
    response = auth.post("/merchant/businesses/new", {"name": "", "phone": "12345", "category": "food"})
    assert response.status_code == 422
    assert _field_errors(_html(response), "name") == ["This field is required."]
    assert _input_value(_html(response), "phone") == "12345"


def test_new_store_form_has_a_map_and_coordinate_inputs(auth, shop):
    auth.login(shop["owner"].email)
    response = auth.client.get(f"/merchant/businesses/{shop['business'].id}/stores/new")
    html = _html(response)
    assert response.status_code == 200
    assert 'id="store-map"' in html and 'class="folium-map"' in html
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/vendor/leaflet/leaflet.css" in html
    assert "L.map(" in html and "/static/js/store-form.js" in html
    assert _input_value(html, "lat") == "" and _input_value(html, "lng") == ""
    assert 'id="lat"' in html and 'id="lng"' in html
    assert _input_value(html, "timezone") == "Asia/Shanghai"


def test_edit_store_form_shows_the_current_place(auth, shop):
    auth.login(shop["owner"].email)
    html = _html(auth.client.get(f"/merchant/stores/{shop['store'].id}/edit"))
    assert _input_value(html, "lat") == "30.274100"
    assert _input_value(html, "lng") == "120.155200"
    assert _input_value(html, "name") == "Lakeside Studio"
    assert re.search(r"L\.marker\(\s*\[30\.2741, 120\.1552\]", html)


def test_hours_page_shows_the_week_and_exceptions(auth, shop):
    auth.login(shop["owner"].email)
    html = _html(auth.client.get(f"/merchant/stores/{shop['store'].id}/hours"))
    assert _input_value(html, "d0_0_opens") == "10:00" and _input_value(html, "d6_0_closes") == "20:00"
    assert _input_value(html, "d0_1_opens") == ""
    assert "2031-01-29" in html and "Spring Festival" in html


def test_hours_page_refuses_overlap_and_keeps_input(auth, shop, db):
    auth.login(shop["owner"].email)
    store = shop["store"]
    response = auth.post(f"/merchant/stores/{store.id}/hours", {
        "d0_0_opens": "09:00", "d0_0_closes": "13:00", "d0_1_opens": "12:00", "d0_1_closes": "18:00"})
    html = _html(response)
    assert response.status_code == 422
    assert "intervals overlap on Mon" in html
    assert _input_value(html, "d0_1_opens") == "12:00"
    db.session.expire_all()
    assert len(db.session.get(Store, store.id).hours) == 7


@pytest.mark.parametrize("opens, closes, message", [
    ("25:00", "26:00", "must be a time HH:MM"),
    ("09:00", "", "must be a time HH:MM"),
    ("9am", "5pm", "must be a time HH:MM"),
    ("10:00+08:00", "12:00", "must be a time HH:MM"),
], ids=["hour-25", "missing-close", "words", "with-offset"])
def test_hours_page_refuses_bad_times(auth, shop, db, opens, closes, message):
    auth.login(shop["owner"].email)
    response = auth.post(f"/merchant/stores/{shop['store'].id}/hours", {"d2_0_opens": opens, "d2_0_closes": closes})
    assert response.status_code == 422
    assert message in _html(response)
    assert _input_value(_html(response), "d2_0_opens") == opens
    db.session.expire_all()
    assert [h.weekday for h in db.session.get(Store, shop["store"].id).hours] == list(range(7))


def test_hours_page_saves(auth, shop, db):
    auth.login(shop["owner"].email)
    store = shop["store"]
    response = auth.post(f"/merchant/stores/{store.id}/hours", {
        "d0_0_opens": "09:00", "d0_0_closes": "12:00", "d0_1_opens": "13:00", "d0_1_closes": "18:00"})
    assert response.status_code == 302
    db.session.expire_all()
    hours = [(h.weekday, h.opens_at.isoformat("minutes"), h.closes_at.isoformat("minutes"))
             for h in db.session.get(Store, store.id).hours]
    assert hours == [(0, "09:00", "12:00"), (0, "13:00", "18:00")]
    page = _html(auth.client.get(f"/merchant/stores/{store.id}/hours"))
    assert _input_value(page, "d0_1_opens") == "13:00"


def test_exception_with_special_hours_and_bad_times(auth, shop, db):
    auth.login(shop["owner"].email)
    store = shop["store"]
    ok = auth.post(f"/merchant/stores/{store.id}/exceptions",
                   {"day": "2031-10-01", "opens": "12:00", "closes": "16:00", "note": "National Day"})
    assert ok.status_code == 302
    bad = auth.post(f"/merchant/stores/{store.id}/exceptions",
                    {"day": "2031-10-02", "opens": "16:00", "closes": "4pm"})
    assert bad.status_code == 302
    rows = db.session.execute(select(HoursException.day, HoursException.is_closed, HoursException.opens_at)
                              .where(HoursException.store_id == store.id).order_by(HoursException.day)).all()
    assert [(r.day.isoformat(), r.is_closed) for r in rows] == [("2031-01-29", True), ("2031-10-01", False)]
    page = _html(auth.client.get(f"/merchant/stores/{store.id}/hours"))
    assert "2031-10-01" in page and "12:00–16:00" in page


def test_staff_page_lists_staff_and_invites_by_email(auth, shop, db):
    auth.login(shop["owner"].email)
    store = shop["store"]
    html = _html(auth.client.get(f"/merchant/stores/{store.id}/staff"))
    assert "staff@test.onsite" in html and "Staff Li" in html
    invited = auth.post(f"/merchant/stores/{store.id}/staff", {"email": "nobody@test.onsite"},
                        follow_redirects=True)
    assert invited.status_code == 200
    assert "Invitation sent to nobody@test.onsite" in _html(invited)
    assert "nobody@test.onsite" in _html(invited).split('data-testid="staff-invitations"')[1]
    bad = auth.post(f"/merchant/stores/{store.id}/staff", {"email": "not an address"})
    assert bad.status_code == 422
    again = auth.post(f"/merchant/stores/{store.id}/staff", {"email": "staff@test.onsite"})
    assert again.status_code == 422
    assert "Already staff at this store." in _html(again)


def test_new_and_edit_offering_forms_render(auth, shop):
    auth.login(shop["owner"].email)
    new = auth.client.get(f"/merchant/stores/{shop['store'].id}/experiences/new")
    assert new.status_code == 200
    assert 'enctype="multipart/form-data"' in _html(new) and 'name="photos"' in _html(new)
    edit = auth.client.get(f"/merchant/experiences/{shop['paid'].id}/edit")
    assert edit.status_code == 200
    assert _input_value(_html(edit), "title") == "Pottery for beginners"
    assert _input_value(_html(edit), "price_amount") == "88.00"


# -- docs and spec ---------------------------------------------------------------

def test_docs_work_offline(client, db):
    response = client.get("/docs")
    html = _html(response)
    assert response.status_code == 200
    parser = _Urls()
    parser.feed(html)
    assets = [url for tag, url in parser.urls]
    # The only absolute URL a script may name is a comment pointing at Swagger's manual; nothing loads from it.
    for script in parser.scripts:
        assert not re.search(r"""["'`](?:https?:)?//""", script), script
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in assets
    assert "/static/vendor/swagger-ui/swagger-ui.css" in assets
    for asset in assets:
        assert asset.startswith("/static/vendor/swagger-ui/")
        served = client.get(asset)
        assert served.status_code == 200, asset
        served.close()
    assert '"validatorUrl": null' in html


def test_openapi_spec_lists_the_api(client, db):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json["paths"]
    for path, method in [("/api/v1/stores", "get"), ("/api/v1/stores", "post"), ("/api/v1/stores/{store_id}", "get"),
                         ("/api/v1/stores/{store_id}", "patch"), ("/api/v1/offerings", "get"),
                         ("/api/v1/offerings", "post"), ("/api/v1/offerings/{offering_id}", "get"),
                         ("/api/v1/offerings/{offering_id}", "patch"), ("/api/v1/offerings/{offering_id}", "delete"),
                         ("/api/v1/auth/register", "post"), ("/api/v1/auth/tokens", "post")]:
        assert method in paths[path], (path, method)
    store_out = response.json["components"]["schemas"]["StoreOut"]["properties"]
    assert {"lat", "lng"} <= set(store_out)


def test_openapi_spec_builds_without_warnings(app):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = app.spec  # built afresh on every access
    renamed = [name for name in spec["components"]["schemas"] if name[-1].isdigit()]
    assert renamed == [], "two schemas share a class name; apispec renamed them"


# -- no page loads anything from outside ------------------------------------------

def test_no_page_references_an_external_url(auth, shop):
    client = auth.client
    store, business = shop["store"], shop["business"]
    anonymous = ["/", "/explore", "/auth/login", "/auth/register", f"/stores/{store.id}",
                 f"/experiences/{shop['paid'].id}", f"/experiences/{shop['free'].id}", "/stores/987654321"]
    owner = ["/merchant/", "/merchant/businesses/new", f"/merchant/businesses/{business.id}/edit",
             f"/merchant/businesses/{business.id}/stores/new", f"/merchant/stores/{store.id}/edit",
             f"/merchant/stores/{store.id}/hours", f"/merchant/stores/{store.id}/staff",
             f"/merchant/stores/{store.id}/experiences/new", f"/merchant/experiences/{shop['paid'].id}/edit",
             f"/stores/{store.id}", f"/experiences/{shop['archived'].id}"]
    seen = 0
    for path in anonymous:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        _assert_nothing_external(path, _html(response))
        seen += 1
    auth.login(shop["owner"].email)
    for path in owner:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_nothing_external(path, _html(response))
        seen += 1
    # A form sent back with errors renders the map again.
    response = auth.post(f"/merchant/businesses/{business.id}/stores/new", {"name": "X", "lat": "91", "lng": "0"})
    _assert_nothing_external("store form with errors", _html(response))
    assert seen == len(anonymous) + len(owner)


def test_every_local_asset_a_page_references_exists(auth, shop):
    auth.login(shop["owner"].email)
    html = _html(auth.client.get(f"/merchant/businesses/{shop['business'].id}/stores/new"))
    html += _html(auth.client.get(f"/stores/{shop['store'].id}"))
    parser = _Urls()
    parser.feed(html)
    static = {url for tag, url in parser.urls if url.startswith("/static/")}
    assert static
    for url in sorted(static):
        response = auth.client.get(url)
        assert response.status_code == 200, url
        response.close()


# -- the store form ----------------------------------------------------------------

def _stores_of(db, business) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Store).where(Store.business_id == business.id))


@pytest.mark.parametrize("lat, lng, errors", [
    ("91", "120.1", {"lat": ["must be between -90 and 90."]}),
    ("30.2", "-181", {"lng": ["must be between -180 and 180."]}),
    ("NaN", "120.1", {"lat": ["must be a finite number."]}),
    ("30.2", "inf", {"lng": ["must be a finite number."]}),
    ("abc", "120.1", {"lat": ["must be a number."]}),
    ("30,25", "120.1", {"lat": ["must be a number."]}),
    ("", "", {"lat": ["Click the map or type a latitude."], "lng": ["Click the map or type a longitude."]}),
    ("-90.0001", "180.0001", {"lat": ["must be between -90 and 90."], "lng": ["must be between -180 and 180."]}),
], ids=["lat-91", "lng-minus-181", "lat-nan", "lng-inf", "lat-text", "lat-comma", "empty", "both-out"])
def test_store_form_refuses_bad_coordinates_and_keeps_input(auth, shop, db, lat, lng, errors):
    auth.login(shop["owner"].email)
    business = shop["business"]
    before = _stores_of(db, business)
    response = auth.post(f"/merchant/businesses/{business.id}/stores/new", {
        "name": "Second studio", "address": "8 Hubin Road", "lat": lat, "lng": lng, "timezone": "Asia/Shanghai",
        "geofence_m": "200"})
    html = _html(response)
    assert response.status_code == 422
    for field in ("lat", "lng"):
        assert _field_errors(html, field) == errors.get(field, [])
    assert _input_value(html, "lat") == lat and _input_value(html, "lng") == lng
    assert _input_value(html, "name") == "Second studio"
    assert _input_value(html, "address") == "8 Hubin Road"
    assert _input_value(html, "geofence_m") == "200"
    assert _stores_of(db, business) == before


def test_store_form_refuses_unknown_time_zone_and_keeps_input(auth, shop, db):
    auth.login(shop["owner"].email)
    business = shop["business"]
    response = auth.post(f"/merchant/businesses/{business.id}/stores/new", {
        "name": "Mars base", "lat": "30.2", "lng": "120.1", "timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert "must be an IANA time zone" in _html(response)
    assert _input_value(_html(response), "timezone") == "Mars/Olympus"
    assert _stores_of(db, business) == 1


def test_store_form_creates_the_store_exactly_where_typed(auth, shop, db):
    auth.login(shop["owner"].email)
    business = shop["business"]
    response = auth.post(f"/merchant/businesses/{business.id}/stores/new", {
        "name": "Wulin branch", "address": "1 Wulin Square", "lat": "30.274084", "lng": "120.155070",
        "timezone": "Asia/Shanghai", "geofence_m": "120"})
    assert response.status_code == 302
    db.session.expire_all()
    store = db.session.scalar(select(Store).where(Store.business_id == business.id, Store.name == "Wulin branch"))
    assert response.headers["Location"] == f"/merchant/stores/{store.id}/hours"
    point = LngLat.from_element(store.location)
    assert (point.lng, point.lat) == (120.15507, 30.274084)
    x, y = db.session.execute(select(func.ST_X(func.ST_GeomFromWKB(func.ST_AsBinary(Store.location))),
                                     func.ST_Y(func.ST_GeomFromWKB(func.ST_AsBinary(Store.location))))
                              .where(Store.id == store.id)).one()
    assert (x, y) == (120.15507, 30.274084)
    assert store.geofence_m == 120 and store.timezone == "Asia/Shanghai" and store.address == "1 Wulin Square"


def test_store_edit_with_bad_coordinates_changes_nothing(auth, shop, db):
    auth.login(shop["owner"].email)
    store = shop["store"]
    response = auth.post(f"/merchant/stores/{store.id}/edit", {
        "name": "Renamed", "lat": "95", "lng": "120.1", "timezone": "Asia/Shanghai"})
    assert response.status_code == 422
    assert _field_errors(_html(response), "lat") == ["must be between -90 and 90."]
    db.session.expire_all()
    fresh = db.session.get(Store, store.id)
    assert fresh.name == "Lakeside Studio"
    assert LngLat.from_element(fresh.location) == LngLat(lng=120.1552, lat=30.2741)


def test_store_edit_moves_the_store_and_its_experiences(auth, shop, db):
    auth.login(shop["owner"].email)
    store = shop["store"]
    response = auth.post(f"/merchant/stores/{store.id}/edit", {
        "name": "Lakeside Studio", "lat": "30.2500", "lng": "120.1700", "timezone": "Asia/Shanghai"})
    assert response.status_code == 302
    db.session.expire_all()
    assert LngLat.from_element(db.session.get(Store, store.id).location) == LngLat(lng=120.17, lat=30.25)
    for offering in db.session.scalars(select(Offering).where(Offering.store_id == store.id)):
        assert LngLat.from_element(offering.location) == LngLat(lng=120.17, lat=30.25)


# -- the offering form ----------------------------------------------------------------

OFFERING_FORM = {"title": "Tea ceremony", "category": "food_tasting", "description": "Longjing tea",
                 "price_amount": "128", "currency": "CNY", "duration_min": "45", "capacity": "6",
                 "cancel_cutoff_hours": "12", "policy_text": "Arrive 5 minutes early."}


def _offerings_of(db, store) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Offering).where(Offering.store_id == store.id))


def test_offering_form_creates_an_experience(auth, shop, db):
    auth.login(shop["owner"].email)
    store = shop["store"]
    response = auth.post(f"/merchant/stores/{store.id}/experiences/new", OFFERING_FORM)
    assert response.status_code == 302
    db.session.expire_all()
    offering = db.session.scalar(select(Offering).where(Offering.title == "Tea ceremony"))
    assert response.headers["Location"] == f"/experiences/{offering.id}"
    assert offering.price_amount == Decimal("128.00") and offering.capacity == 6 and offering.duration_min == 45
    assert LngLat.from_element(offering.location) == LngLat.from_element(db.session.get(Store, store.id).location)
    assert "Pay at the store: ¥128.00" in _html(auth.client.get(f"/experiences/{offering.id}"))


def test_offering_form_free_checkbox_makes_it_free(auth, shop, db):
    auth.login(shop["owner"].email)
    response = auth.post(f"/merchant/stores/{shop['store'].id}/experiences/new",
                         {**OFFERING_FORM, "is_free": "y", "price_amount": "50"})
    assert response.status_code == 302
    offering = db.session.scalar(select(Offering).where(Offering.title == "Tea ceremony"))
    assert offering.price_amount == Decimal("0.00") and offering.is_free


@pytest.mark.parametrize("price, message", [
    ("abc", "must be an amount such as 88 or 88.50"),
    ("-1", "must be an amount from 0 to 99999999.99"),
    ("1.234", "has at most two decimals"),
    ("NaN", "must be an amount from 0 to 99999999.99"),
    ("1e12", "must be an amount from 0 to 99999999.99"),
    ("", "must be an amount such as 88 or 88.50"),
], ids=["text", "negative", "three-decimals", "nan", "huge", "empty"])
def test_offering_form_refuses_bad_price_and_keeps_input(auth, shop, db, price, message):
    auth.login(shop["owner"].email)
    store = shop["store"]
    before = _offerings_of(db, store)
    response = auth.post(f"/merchant/stores/{store.id}/experiences/new", {**OFFERING_FORM, "price_amount": price})
    html = _html(response)
    assert response.status_code == 422
    assert _field_errors(html, "price_amount") == [message]
    assert _input_value(html, "price_amount") == price
    assert _input_value(html, "title") == "Tea ceremony"
    assert _offerings_of(db, store) == before


def test_offering_edit_with_bad_price_changes_nothing(auth, shop, db):
    auth.login(shop["owner"].email)
    offering = shop["paid"]
    response = auth.post(f"/merchant/experiences/{offering.id}/edit",
                         {**OFFERING_FORM, "title": "Renamed", "price_amount": "1.234"})
    assert response.status_code == 422
    db.session.expire_all()
    fresh = db.session.get(Offering, offering.id)
    assert fresh.title == "Pottery for beginners" and fresh.price_amount == Decimal("88.00")


@pytest.mark.parametrize("path, data", [
    ("/auth/login", {"email": "a\x00b@test.onsite", "password": "password123"}),
    ("/auth/register", {"display_name": "N\x00", "email": "n@test.onsite", "password": "password123",
                        "confirm": "password123", "role": "resident"}),
    ("/merchant/businesses/new", {"name": "Nul\x00shop", "category": "food"}),
], ids=["login", "register", "new-business"])
def test_forms_with_nul_characters_are_refused_cleanly(auth, shop, db, path, data):
    auth.login(shop["owner"].email)
    before = db.session.scalar(select(func.count()).select_from(Store))
    response = auth.post(path, data)
    assert response.status_code in (302, 422)
    follow = auth.client.get(response.headers["Location"]) if response.status_code == 302 else response
    assert "cannot be stored" in _html(follow) or "must not contain" in _html(follow)
    assert db.session.scalar(select(func.count()).select_from(Store)) == before


def test_store_form_with_nul_in_name_creates_nothing(auth, shop, db):
    auth.login(shop["owner"].email)
    business = shop["business"]
    response = auth.post(f"/merchant/businesses/{business.id}/stores/new", {
        "name": "Nul\x00store", "lat": "30.2", "lng": "120.1", "timezone": "Asia/Shanghai"})
    assert response.status_code < 500
    assert _stores_of(db, business) == 1
