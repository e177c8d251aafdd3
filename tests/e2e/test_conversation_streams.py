"""100 live conversation streams held open against the live server (gunicorn, 2 workers) while a resident
searches nearby: the streams hold threads (gunicorn.conf.py: gthread), not workers, so search still answers.

The thread and a bearer token are made in the live server's database by a short process of their own
(the factories, committed); every stream is a real HTTP connection from its own loopback address.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

STREAMS = 100

MAKE_THREAD = """
import json
from app import clock, create_app
from app.conversations import services
from app.extensions import db
from tests import factories as f
app = create_app()
with app.app_context():
    store = f.create_store(lng=120.1485, lat=30.2465, name="Stream test store")
    f.create_offering(store)
    resident = f.create_user(email="streams-resident@live.test")
    thread = services.start_enquiry(resident, store.id, clock.now())
    services.send_message(resident, thread.id, "Is the 14:00 in English?", clock.now())
    headers = f.token_for(resident)
    db.session.commit()
    print(json.dumps({"thread": thread.id, "auth": headers["Authorization"]}))
"""


def _connection(base: str, n: int) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=20,
                                      source_address=(f"127.88.{n // 250}.{n % 250 + 1}", 0))


def test_a_hundred_open_streams_do_not_starve_search(live_server):
    made = subprocess.run([sys.executable, "-c", MAKE_THREAD], check=True, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": os.environ["E2E_DATABASE_URL"]}, timeout=60)
    setup = json.loads(made.stdout.strip().splitlines()[-1])
    streams = []
    try:
        for n in range(STREAMS):
            connection = _connection(live_server, n)
            connection.request("GET", f"/api/v1/conversations/{setup['thread']}/stream",
                               headers={"Authorization": setup["auth"], "Accept": "text/event-stream"})
            response = connection.getresponse()
            assert response.status == 200, response.read()[:300]
            assert response.read(6) == b"retry:"  # the stream is live: its first event has arrived
            streams.append((connection, response))
        for n in range(5):  # several searches, as the map would send them, while all 100 streams stay open
            search = _connection(live_server, STREAMS + n)
            search.request("GET", "/api/v1/offerings/nearby?lat=30.2465&lng=120.1485&radius_m=2000")
            answer = search.getresponse()
            body = json.loads(answer.read())
            search.close()
            assert answer.status == 200
            assert any(item["store"]["name"] == "Stream test store" for item in body["items"]), body
    finally:
        for connection, _response in streams:
            connection.close()
