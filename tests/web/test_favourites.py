"""Favourites through HTTP: the API's PUT/DELETE, privacy of the lists, the heart form (anonymous users log
in and come back) and the Saved page."""

from __future__ import annotations

from tests import factories as f


def test_api_save_follow_and_privacy(client, db):
    store = f.create_store(name="Glaze studio")
    offering = f.create_offering(store, title="Throw a bowl")
    resident, other = f.create_user(), f.create_user()
    for _ in range(2):
        assert client.put(f"/api/v1/saved-experiences/{offering.id}", headers=f.token_for(resident)).status_code == 204
        assert client.put(f"/api/v1/followed-stores/{store.id}", headers=f.token_for(resident)).status_code == 204
    mine = client.get(f"/api/v1/residents/{resident.id}/favourites", headers=f.token_for(resident))
    assert [s["title"] for s in mine.json["saved_experiences"]] == ["Throw a bowl"]
    assert [s["name"] for s in mine.json["followed_stores"]] == ["Glaze studio"]
    theirs = client.get(f"/api/v1/residents/{resident.id}/favourites", headers=f.token_for(other))
    assert theirs.status_code == 404 and theirs.json["error"]["code"] == "not_found"
    assert client.put("/api/v1/saved-experiences/2000000000", headers=f.token_for(resident)).status_code == 404
    assert client.put(f"/api/v1/saved-experiences/{offering.id}").status_code == 401
    assert client.delete(f"/api/v1/saved-experiences/{offering.id}", headers=f.token_for(resident)).status_code == 204
    mine = client.get(f"/api/v1/residents/{resident.id}/favourites", headers=f.token_for(resident))
    assert mine.json["saved_experiences"] == [] and len(mine.json["followed_stores"]) == 1


def test_heart_form_saves_and_saved_page_lists_it(client, auth, db):
    store = f.create_store(name="Glaze studio")
    offering = f.create_offering(store, title="Throw a bowl")
    resident = f.create_user()
    page = f"/experiences/{offering.id}"
    anonymous = auth.post(f"/experiences/{offering.id}/save", {"next": page})
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.location and "next=" in anonymous.location
    auth.login(resident.email)
    saved = auth.post(f"/experiences/{offering.id}/save", {"next": page})
    assert saved.status_code == 302 and saved.location.endswith(page)
    listing = client.get("/saved").get_data(as_text=True)
    assert "Throw a bowl" in listing and 'aria-pressed="true"' in listing
    auth.post(f"/stores/{store.id}/follow", {"next": "/saved"})
    assert "Glaze studio" in client.get("/saved").get_data(as_text=True)
    auth.post(f"/experiences/{offering.id}/save", {"next": "/saved"})
    assert "Throw a bowl" not in client.get("/saved").get_data(as_text=True)


def test_saved_page_needs_login(client, db):
    response = client.get("/saved")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_experience_page_has_the_heart_and_the_owner_sees_followers(client, auth, db):
    store = f.create_store(name="Glaze studio")
    offering = f.create_offering(store, title="Throw a bowl")
    resident = f.create_user()
    page = client.get(f"/experiences/{offering.id}").get_data(as_text=True)
    assert f'action="/experiences/{offering.id}/save"' in page and 'aria-pressed="false"' in page
    auth.login(resident.email)
    auth.post(f"/stores/{store.id}/follow", {"next": f"/stores/{store.id}"})
    assert "Following" in client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert 'data-testid="follower-count"' not in client.get(f"/stores/{store.id}").get_data(as_text=True)
    auth.logout()
    auth.login(store.business.owner.email)
    owner_view = client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert "1 follower<" in owner_view


def test_saved_page_shows_free_times_today_or_offers_the_waitlist(client, auth, db, clock):
    from datetime import UTC, datetime, timedelta

    now = datetime(2030, 3, 5, 1, 0, tzinfo=UTC)  # 09:00 in the store's zone
    clock.travel(now, tick=False)
    store = f.create_store()
    open_one = f.create_offering(store, title="Throw a bowl")
    f.create_slot(open_one, starts_at=now + timedelta(hours=4))
    full_one = f.create_offering(store, title="Raku firing")
    full_slot = f.create_slot(full_one, starts_at=now + timedelta(days=2), capacity=2, seats_taken=2)
    resident = f.create_user()
    auth.login(resident.email)
    for offering in (open_one, full_one):
        auth.post(f"/experiences/{offering.id}/save", {"next": "/saved"})
    page = client.get("/saved").get_data(as_text=True)
    assert page.count('data-testid="free-today"') == 1
    assert f'action="/slots/{full_slot.id}/waitlist"' in page


def test_merchant_dashboard_counts_followers(client, auth, db):
    store = f.create_store(name="Glaze studio")
    for _ in range(2):
        auth.login(f.create_user().email)
        auth.post(f"/stores/{store.id}/follow", {"next": "/saved"})
        auth.logout()
    auth.login(store.business.owner.email)
    assert "2 followers" in client.get("/merchant/").get_data(as_text=True)


def test_seat_request_from_the_saved_page_and_the_api(client, auth, db):
    offering = f.create_offering(f.create_store(), title="Raku firing")  # no times: nothing to book or wait for
    booked_out = f.create_offering(f.create_store(), title="Open kiln")
    f.create_slot(booked_out)  # a time with room
    resident = f.create_user()
    auth.login(resident.email)
    for experience in (offering, booked_out):
        auth.post(f"/experiences/{experience.id}/save", {"next": "/saved"})
    listing = client.get("/saved").get_data(as_text=True)
    assert listing.count('data-testid="seat-request"') == 1 and "Tell me when a seat frees" in listing
    asked = auth.post(f"/experiences/{offering.id}/seat-request", {"next": "/saved"})
    assert asked.status_code == 302 and asked.location.endswith("/saved")
    assert "We will tell you when a seat frees." in client.get("/saved").get_data(as_text=True)
    auth.post(f"/experiences/{offering.id}/seat-request", {"next": "/saved"})  # asked again: withdrawn
    assert "We will tell you when a seat frees." not in client.get("/saved").get_data(as_text=True)

    put = client.put(f"/api/v1/seat-requests/{offering.id}", headers=f.token_for(resident))
    assert put.status_code == 200 and put.json["offering_id"] == offering.id
    free = client.put(f"/api/v1/seat-requests/{booked_out.id}", headers=f.token_for(resident))
    assert free.status_code == 409 and free.json["error"]["code"] == "seats_free"
    assert client.put("/api/v1/seat-requests/2000000000", headers=f.token_for(resident)).status_code == 404
    assert client.delete(f"/api/v1/seat-requests/{offering.id}", headers=f.token_for(resident)).status_code == 204
