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
