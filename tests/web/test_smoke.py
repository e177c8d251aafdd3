import json
import re

from tests import factories as f


def test_home_lists_nearby_offerings_and_their_pages_render(client, db):
    offering = f.create_offering(title="Tea ceremony 茶道")
    page = client.get("/").get_data(as_text=True)
    initial = json.loads(re.search(r'id="initial-results">(.*?)</script>', page, re.S).group(1))
    assert offering.id in [item["id"] for item in initial["items"]]
    assert client.get(f"/experiences/{offering.id}").status_code == 200
    assert client.get(f"/stores/{offering.store_id}").status_code == 200
