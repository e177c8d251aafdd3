"""Overnight hours through the pages and the API: the hours form and the exception form take an evening that ends
after midnight and refuse contradictory input with a message; the store page says "(next day)"; the JSON API
takes and shows them, 422 with per-field details otherwise; "open now" and the roster follow the night.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from html import unescape

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.merchants.models import HoursException, Store
from tests import factories as f

MONDAY_NIGHT = datetime(2026, 1, 5, 17, 30, tzinfo=UTC)  # Tuesday 2026-01-06 01:30 in Shanghai


@pytest.fixture
def bar(db):
    owner = f.create_merchant(email="owner@test.onsite")
    store = f.create_store(f.create_business(owner, name="Night Owl KTV"), name="Night Owl", timezone="Asia/Shanghai")
    offering = f.create_offering(store, title="Private room")
    return {"owner": owner, "store": store, "offering": offering, "headers": f.token_for(owner)}


def html_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def weekly(db, store: Store) -> list[tuple[int, str, str]]:
    db.session.expire_all()
    return [(h.weekday, f"{h.opens_at:%H:%M}", f"{h.closes_at:%H:%M}") for h in db.session.get(Store, store.id).hours]


def exceptions(db, store: Store) -> list[tuple[str, bool, str | None, str | None]]:
    db.session.expire_all()
    rows = db.session.scalars(select(HoursException).where(HoursException.store_id == store.id))
    return [(e.day.isoformat(), e.is_closed, e.opens_at and f"{e.opens_at:%H:%M}",
             e.closes_at and f"{e.closes_at:%H:%M}") for e in rows]


# -- the weekly hours form --------------------------------------------------------------------------------

def test_the_hours_form_takes_an_evening_that_ends_after_midnight(auth, bar, db):
    store = bar["store"]
    auth.login(bar["owner"].email)
    response = auth.post(f"/merchant/stores/{store.id}/hours", {
        "d0_0_opens": "18:00", "d0_0_closes": "02:00", "d4_0_opens": "00:00", "d4_0_closes": "00:00",
        "d5_0_opens": "11:00", "d5_0_closes": "14:00", "d5_1_opens": "20:00", "d5_1_closes": "00:00"})
    assert response.status_code == 302
    assert weekly(db, store) == [(0, "18:00", "02:00"), (4, "00:00", "00:00"), (5, "11:00", "14:00"),
                                 (5, "20:00", "00:00")]
    form = html_of(auth.client.get(f"/merchant/stores/{store.id}/hours"))
    assert re.findall(r'data-testid="next-day">([^<]*)<', form) == ["next day", "24 hours", "next day"]
    page = html_of(auth.client.get(f"/stores/{store.id}"))
    for text in ("18:00–02:00 (next day)", "00:00–00:00 (24 hours)", "11:00–14:00, 20:00–00:00 (midnight)"):
        assert text in page


@pytest.mark.parametrize(("form", "message"), [
    ({"d0_0_opens": "18:00", "d0_0_closes": "02:00", "d1_0_opens": "01:00", "d1_0_closes": "10:00"},
     "intervals overlap on Tue (Mon 18:00–02:00 (next day) runs into it)"),
    ({"d6_0_opens": "22:00", "d6_0_closes": "04:00", "d0_0_opens": "03:00", "d0_0_closes": "12:00"},
     "intervals overlap on Mon (Sun 22:00–04:00 (next day) runs into it)"),
    ({"d2_0_opens": "00:00", "d2_0_closes": "00:00", "d2_1_opens": "20:00", "d2_1_closes": "23:00"},
     "intervals overlap on Wed"),
    ({"d2_0_opens": "18:00", "d2_0_closes": "03:00", "d2_1_opens": "20:00", "d2_1_closes": "01:00"},
     "intervals overlap on Wed"),
    ({"d3_0_opens": "18:00", "d3_0_closes": ""}, "Thu: must be a time HH:MM"),
    ({"d3_1_opens": "", "d3_1_closes": "02:00"}, "Thu: must be a time HH:MM"),
], ids=["monday-night-into-tuesday", "sunday-night-into-monday", "24-hours-and-more", "two-nights",
        "no-closing-time", "no-opening-time"])
def test_the_hours_form_refuses_contradictory_hours_with_a_message(auth, bar, db, form, message):
    store = bar["store"]
    auth.login(bar["owner"].email)
    response = auth.post(f"/merchant/stores/{store.id}/hours", form)
    assert response.status_code == 422
    html = html_of(response)
    assert re.search(r'class="alert alert-danger" role="alert">([^<]*)<', html).group(1) == message
    for name, value in form.items():  # what was typed is still there
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"', html)
    assert weekly(db, store) == [(d, "10:00", "20:00") for d in range(7)]


# -- dated exceptions --------------------------------------------------------------------------------------

def test_an_exception_may_cross_midnight(auth, bar, db):
    store = bar["store"]
    auth.login(bar["owner"].email)
    response = auth.post(f"/merchant/stores/{store.id}/exceptions",
                         {"day": "2031-12-31", "opens": "20:00", "closes": "03:00", "note": "New Year's Eve"})
    assert response.status_code == 302
    assert exceptions(db, store) == [("2031-12-31", False, "20:00", "03:00")]
    assert "2031-12-31: 20:00–03:00 (next day)" in html_of(auth.client.get(f"/stores/{store.id}"))


@pytest.mark.parametrize(("form", "message"), [
    ({"day": "2031-10-01", "is_closed": "y", "opens": "20:00", "closes": "03:00"},
     "A day closed all day has no hours"),
    ({"day": "2031-10-01", "opens": "20:00"}, "Give opening and closing times"),
    ({"day": "2031-10-01", "opens": "8pm", "closes": "03:00"}, "Times must look like 09:30."),
], ids=["closed-with-hours", "no-closing-time", "words"])
def test_the_exception_form_refuses_contradictory_input_with_a_message(auth, bar, db, form, message):
    store = bar["store"]
    auth.login(bar["owner"].email)
    response = auth.post(f"/merchant/stores/{store.id}/exceptions", form, follow_redirects=True)
    assert response.status_code == 200
    assert message in html_of(response)
    assert exceptions(db, store) == []


# -- the store page and open now --------------------------------------------------------------------------

def test_the_store_is_open_at_half_past_one_on_mondays_hours(client, bar, clock):
    store = bar["store"]
    f.set_hours(store, [(0, time(18), time(2))], [(date(2026, 1, 6), True, None, None)])
    clock.travel(MONDAY_NIGHT, tick=False)
    page = html_of(client.get(f"/stores/{store.id}"))
    assert re.search(r'data-testid="open-state">([^<]*)<', page).group(1) == "Open now"
    assert "Mon</th>\n    <td>18:00–02:00 (next day)" in page
    nearby = client.get(f"/api/v1/offerings/nearby?lat={30.2460}&lng={120.1490}&open_now=true")
    assert [item["id"] for item in nearby.json["items"]] == [bar["offering"].id]


# -- the JSON API -------------------------------------------------------------------------------------------

def test_the_api_takes_and_shows_overnight_hours(client, bar):
    store = bar["store"]
    hours = [{"weekday": 4, "opens": "18:00", "closes": "02:00"}, {"weekday": 5, "opens": "18:00", "closes": "02:00"},
             {"weekday": 6, "opens": "12:00", "closes": "12:00"}]
    response = client.patch(f"/api/v1/stores/{store.id}", headers=bar["headers"], json={"hours": hours})
    assert response.status_code == 200, response.json
    assert response.json["hours"] == hours
    assert client.get(f"/api/v1/stores/{store.id}").json["hours"] == hours


def test_the_api_creates_a_store_open_overnight(client, bar):
    body = {"business_id": bar["store"].business_id, "name": "Late branch", "lat": 30.25, "lng": 120.16,
            "timezone": "America/New_York", "hours": [{"weekday": 5, "opens": "22:00", "closes": "03:00"}]}
    response = client.post("/api/v1/stores", headers=bar["headers"], json=body)
    assert response.status_code == 201, response.json
    assert response.json["hours"] == body["hours"]


@pytest.mark.parametrize(("hours", "details"), [
    ([{"weekday": 0, "opens": "18:00", "closes": "02:00"}, {"weekday": 1, "opens": "01:00", "closes": "10:00"}],
     {"hours": "intervals overlap on Tue (Mon 18:00–02:00 (next day) runs into it)"}),
    ([{"weekday": 6, "opens": "22:00", "closes": "03:00"}, {"weekday": 0, "opens": "02:59", "closes": "09:00"}],
     {"hours": "intervals overlap on Mon (Sun 22:00–03:00 (next day) runs into it)"}),
    ([{"weekday": 3, "opens": "09:00", "closes": "09:00"}, {"weekday": 3, "opens": "10:00", "closes": "11:00"}],
     {"hours": "intervals overlap on Thu"}),
], ids=["monday-night-into-tuesday", "sunday-night-into-monday", "24-hours-and-more"])
def test_the_api_refuses_overlapping_nights_with_422(client, bar, db, hours, details):
    store = bar["store"]
    response = client.patch(f"/api/v1/stores/{store.id}", headers=bar["headers"], json={"hours": hours})
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"
    assert response.json["error"]["details"] == details
    assert weekly(db, store) == [(d, "10:00", "20:00") for d in range(7)]


@pytest.mark.parametrize("closes", ["24:00", "2am", "02:00+08:00", "", None, 200])
def test_the_api_refuses_a_bad_closing_time_with_422(client, bar, closes):
    response = client.patch(f"/api/v1/stores/{bar['store'].id}", headers=bar["headers"],
                            json={"hours": [{"weekday": 0, "opens": "18:00", "closes": closes}]})
    assert response.status_code == 422, response.json
    assert "hours" in response.json["error"]["details"]


# -- the counter's roster -------------------------------------------------------------------------------

def test_the_roster_at_half_past_one_is_the_evening_before(client, bar, clock):
    store, offering = bar["store"], bar["offering"]
    f.set_hours(store, [(0, time(18), time(2))])
    staff = f.add_staff(store, f.create_user(Role.STAFF))
    late_visit = f.create_booking(f.create_slot(offering, datetime(2026, 1, 5, 17, 45, tzinfo=UTC)))  # Tue 01:45
    clock.travel(MONDAY_NIGHT, tick=False)
    body = client.get(f"/api/v1/stores/{store.id}/roster", headers=f.token_for(staff)).json
    assert body["day"] == "2026-01-05"
    assert [visit["id"] for visit in body["expected"]] == [late_visit.id]
    tuesday = client.get(f"/api/v1/stores/{store.id}/roster?day=2026-01-06", headers=f.token_for(staff)).json
    assert tuesday["expected"] == []
