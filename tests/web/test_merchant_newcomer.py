"""Issue 11, what a newcomer to the merchant pages meets: names too long for the database are refused on the
server with a message (the browser's maxlength used to cut them silently), and a resident opening the business
form first reads what becoming a merchant means."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from app.merchants.models import Business, Store
from app.offerings.models import Offering
from tests import factories as f

LONG = "Lakeside Pottery " * 18  # 306 characters


def html_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def field_errors(html: str, name: str) -> list[str]:
    return re.findall(rf'data-field="{name}">([^<]*)<', html)


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_300_character_business_name_is_refused_on_the_form_and_nothing_is_saved(auth, db):
    resident = f.create_user()
    auth.login(resident.email)
    name = LONG[:300]

    response = auth.post("/merchant/businesses/new", {"name": name, "category": "crafts"})

    assert response.status_code == 422
    assert field_errors(html_of(response), "name") == ["At most 120 characters (this has 300)."]
    assert count(db, Business, Business.owner_id == resident.id) == 0


@pytest.mark.parametrize("path", ["/merchant/businesses/new", "store", "experience"])
def test_name_fields_carry_no_maxlength_for_the_browser_to_cut_with(auth, db, path):
    owner = f.create_merchant()
    store = f.create_store(f.create_business(owner))
    auth.login(owner.email)
    url = {"store": f"/merchant/businesses/{store.business_id}/stores/new",
           "experience": f"/merchant/stores/{store.id}/experiences/new"}.get(path, path)
    html = html_of(auth.client.get(url))
    field = "title" if path == "experience" else "name"
    tag = re.search(rf'<input[^>]*name="{field}"[^>]*>', html).group(0)
    assert "maxlength" not in tag


def test_a_long_store_name_is_refused_and_nothing_is_saved(auth, db):
    owner = f.create_merchant()
    business = f.create_business(owner)
    auth.login(owner.email)

    response = auth.post(f"/merchant/businesses/{business.id}/stores/new",
                         {"name": LONG, "address": "", "lat": "30.25", "lng": "120.15", "timezone": "Asia/Shanghai",
                          "geofence_m": "150"})

    assert response.status_code == 422
    assert field_errors(html_of(response), "name") == [f"At most 120 characters (this has {len(LONG)})."]
    assert count(db, Store, Store.business_id == business.id) == 0


def test_a_long_experience_title_is_refused_and_nothing_is_saved(auth, db):
    owner = f.create_merchant()
    store = f.create_store(f.create_business(owner))
    auth.login(owner.email)

    response = auth.post(f"/merchant/stores/{store.id}/experiences/new",
                         {"title": LONG, "category": "class_workshop", "price_amount": "88", "currency": "CNY",
                          "duration_min": "60", "capacity": "4", "cancel_cutoff_hours": "24"})

    assert response.status_code == 422
    assert field_errors(html_of(response), "title") == [f"At most 140 characters (this has {len(LONG)})."]
    assert count(db, Offering, Offering.store_id == store.id) == 0


def test_a_resident_first_reads_what_becoming_a_merchant_means(auth, db):
    resident = f.create_user()
    auth.login(resident.email)

    html = html_of(auth.client.get("/merchant/businesses/new"))

    explanation = html.index('data-testid="becoming-a-merchant"')
    assert explanation < html.index('name="name"')  # before the form
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[explanation:html.index("</section>", explanation)]))
    for words in ("place your stores on the map", "list experiences", "check visitors in",
                  "Your bookings as a resident stay as they are"):
        assert words in text


def test_a_merchant_adding_a_business_is_not_told_again(auth, db):
    owner = f.create_merchant()
    auth.login(owner.email)
    assert 'data-testid="becoming-a-merchant"' not in html_of(auth.client.get("/merchant/businesses/new"))
