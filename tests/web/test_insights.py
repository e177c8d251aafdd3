"""The radar and dashboard pages: who may open them, that they show only k-anonymous aggregates, and that
each chart's CSV holds exactly the table under it."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import text

from app.auth.models import Role
from app.discovery.models import SearchLog
from app.insights import dashboard
from app.insights import services as s
from bookings.models import CheckIn, OfflinePayment
from tests import factories as f

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # Monday noon in Shanghai
WEST_LAKE = (30.2460, 120.1490)


@pytest.fixture
def shop(db, clock):
    clock.travel(NOW, tick=False)
    db.session.execute(text("DELETE FROM search_logs"))
    db.session.execute(text("DELETE FROM demand_counts"))
    db.session.execute(text("DELETE FROM rollup_marks"))
    owner = f.create_merchant()
    store = f.create_store(f.create_business(owner), lat=WEST_LAKE[0], lng=WEST_LAKE[1])
    offering = f.create_offering(store, category="class_workshop")
    staff = f.add_staff(store)
    return {"owner": owner, "store": store, "offering": offering, "staff": staff}


def searches(db, people: int, *, lat=WEST_LAKE[0], lng=WEST_LAKE[1], each: int = 2, category="class_workshop",
             found: int = 0, who_from: int = 5000):
    for who in range(people):
        for i in range(each):
            db.session.add(SearchLog(searched_at=NOW - timedelta(hours=3 + who + i), kind="nearby", lat=lat, lng=lng,
                                     radius_m=3000, categories=[category], result_count=found, has_more=False,
                                     searcher=who_from + who))
    db.session.flush()
    s.roll_up_searches(zone=s.ZoneInfo("Asia/Shanghai"), k=10)


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return unescape(response.get_data(as_text=True))


# -- access ---------------------------------------------------------------------------

@pytest.mark.parametrize("view", ["store_demand", "store_dashboard", "csv"])
def test_only_the_stores_owner_staff_and_admins_open_its_figures(client, auth, shop, view):
    store = shop["store"]
    url = {"store_demand": f"/merchant/stores/{store.id}/demand",
           "store_dashboard": f"/merchant/stores/{store.id}/dashboard",
           "csv": f"/merchant/stores/{store.id}/dashboard/bookings.csv"}[view]
    assert client.get(url).status_code == 302  # to the login page
    for user, status in ((shop["owner"], 200), (shop["staff"], 200), (f.create_user(Role.ADMIN), 200),
                         (f.create_merchant(), 403), (f.create_user(), 403)):
        auth.login(user.email)
        assert client.get(url).status_code == status, user.email
        client.post("/auth/logout", data={"csrf_token": auth.csrf("/")})


def test_a_merchant_sees_only_its_own_dashboards_and_not_an_unknown_store(client, auth, shop):
    other = f.create_store(f.create_business(f.create_merchant()))
    auth.login(shop["owner"].email)
    assert client.get(f"/merchant/stores/{other.id}/dashboard").status_code == 403
    assert client.get("/merchant/stores/2147483647/dashboard").status_code == 404
    assert client.get(f"/merchant/stores/{shop['store'].id}/dashboard/nonsense.csv").status_code == 404


def test_demand_home_opens_the_first_store_and_the_city_page_is_the_operators(client, auth, shop):
    auth.login(shop["owner"].email)
    response = client.get("/merchant/demand")
    assert response.headers["Location"].endswith(f"/merchant/stores/{shop['store'].id}/demand")
    assert client.get("/admin/demand").status_code == 403
    auth.login(f.create_user(Role.ADMIN).email)
    assert client.get("/admin/demand").status_code == 200


# -- only aggregates --------------------------------------------------------------------

def test_the_radar_shows_hexagons_and_opportunities_once_k_people_searched(client, auth, db, shop):
    searches(db, 12, each=2)
    auth.login(shop["owner"].email)
    html = page(client, f"/merchant/stores/{shop['store'].id}/demand")
    assert html.count("radar-cell") >= 1
    (item,) = re.findall(r'<li class="list-group-item" data-category="class_workshop">(.*?)</li>', html, re.S)
    item = " ".join(re.sub(r"<[^>]+>", " ", item).split())
    assert "25 searches, 1 offers nearby, 0 found every seat taken" in item
    assert shop["offering"].title in item


def test_a_cell_with_k_minus_1_searchers_is_not_on_any_page(client, auth, db, shop):
    searches(db, 9, each=30)  # 270 searches by 9 people
    auth.login(shop["owner"].email)
    for radius in (1000, 3000, 5000, 5000):  # the last view is the answer kept for this version of the counts
        html = page(client, f"/merchant/stores/{shop['store'].id}/demand?days=90&radius={radius}")
        assert "radar-cell" not in html
        assert 'data-testid="no-opportunities"' in html
    auth.login(f.create_user(Role.ADMIN).email)
    assert "radar-cell" not in page(client, "/admin/demand?days=90")


def test_no_page_shows_a_searcher_hash_or_a_searchs_exact_position(client, auth, db, shop):
    searches(db, 12, each=1, lat=30.24612, lng=120.14937, who_from=987654321012)
    auth.login(shop["owner"].email)
    html = page(client, f"/merchant/stores/{shop['store'].id}/demand")
    assert "radar-cell" in html
    assert "98765432101" not in html
    assert "30.24612" not in html and "120.14937" not in html


# -- dashboard --------------------------------------------------------------------------

def test_every_chart_is_drawn_and_each_csv_is_its_table(client, auth, db, shop):
    store, offering = shop["store"], shop["offering"]
    slot = f.create_slot(offering, starts_at=NOW - timedelta(days=2), capacity=4)
    visited = f.create_booking(slot, status="completed")
    f.create_booking(slot, status="no_show")
    db.session.add(CheckIn(booking_id=visited.id, store_id=store.id, method="staff_typed",
                           verification="staff_verified", checked_in_at=NOW - timedelta(days=2)))
    db.session.add(OfflinePayment(booking_id=visited.id, amount=Decimal("168.00"), currency="CNY",
                                  method="mobile_wallet_at_store", recorded_by_id=shop["owner"].id,
                                  recorded_at=NOW - timedelta(days=2)))
    db.session.flush()
    auth.login(shop["staff"].email)
    html = page(client, f"/merchant/stores/{store.id}/dashboard?days=7")
    for key in dashboard.CHARTS:  # every chart there is, a new one included
        assert f'data-chart="{key}"' in html
        table = re.search(rf'<table class="table table-sm" data-table="{key}">(.*?)</table>', html, re.S).group(1)
        cells = [[" ".join(re.sub(r"<[^>]+>", "", c).split()) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr,
                                                                                       re.S)]
                 for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
        response = client.get(f"/merchant/stores/{store.id}/dashboard/{key}.csv?days=7")
        assert response.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        if len(cells) == 2 and len(cells[1]) == 1:  # "Nothing recorded": the CSV has the headers only
            cells = cells[:1]
        assert rows == cells, key
    takings = list(csv.reader(io.StringIO(client.get(
        f"/merchant/stores/{store.id}/dashboard/takings.csv?days=7").get_data(as_text=True))))
    assert takings[1] == ["Mobile wallet at the store", "CNY", "168.00", "1"]
    rates = list(csv.reader(io.StringIO(client.get(
        f"/merchant/stores/{store.id}/dashboard/rates.csv?days=7").get_data(as_text=True))))
    assert ["50.0%"] == [row[1] for row in rates[1:] if row[1] != "–"]
    bookings = list(csv.reader(io.StringIO(client.get(
        f"/merchant/stores/{store.id}/dashboard/bookings.csv?days=7").get_data(as_text=True))))
    assert sum(int(row[1]) for row in bookings[1:]) == 2 and sum(int(row[2]) for row in bookings[1:]) == 1
