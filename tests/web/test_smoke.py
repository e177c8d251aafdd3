from tests import factories as f


def test_home_renders_offerings(client, db):
    offering = f.create_offering(title="Tea ceremony 茶道")
    response = client.get("/")
    assert response.status_code == 200
    assert "Tea ceremony 茶道" in response.get_data(as_text=True)
    assert client.get(f"/experiences/{offering.id}").status_code == 200
    assert client.get(f"/stores/{offering.store_id}").status_code == 200
