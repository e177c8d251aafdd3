"""Bad inputs on every parameter of every API operation: a 4xx with a registered code, never a 500.

Every operation of /openapi.json, every path, query and body parameter of it, gets each of BAD_NUMBERS (non-finite,
out-of-range, huge and negative: coordinates, limits, ids) and BAD_TEXT (NUL, an unpaired surrogate, wrong JSON
types); every operation with a body also gets a 1 MB body, a body in each wrong content type and malformed JSON.
A value the document allows may be answered 2xx; anything else must be a 4xx whose ``error.code`` is in
app/error_codes.py. Inputs are bounded (1 MB at most), so no request can take long; nothing times them.
"""

from __future__ import annotations

import json
import re

import jsonschema_rs

from app.error_codes import ERROR_CODES
from tests import factories as f
from tests.conftest import IsolatedClient, rolled_back
from tests.web._bookings_world import build_world

# JSON literals, written into the body as they are: Python's json reads NaN, Infinity and 1e309 (as inf).
BAD_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e309", "-1e309", "-1", "0", "-999999999999999999999",
               "99999999999999999999999", "1e-400", "2147483648", "-91", "181", "1.5"]
BAD_TEXT = ['"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"\\udfff x"', '""', "null", "true", "[]", "{}",
            '"NaN"', '"inf"', '"1e309"', '"-1"', '"<img src=x onerror=alert(1)>"']
# Query strings and path segments carry text: the same values as a client would type them.
BAD_QUERY = ["NaN", "nan", "inf", "-inf", "Infinity", "1e309", "-1", "0", "-999999999999999999999",
             "99999999999999999999999", "1e-400", "%00", "a%00b", "%ED%A0%80", "%FF", "", "[]", "true",
             "9999-12-31", "0001-01-01", "2026-02-30"]
BAD_PATH = ["-1", "0", "NaN", "inf", "99999999999999999999999", "2147483648", "%00", "1.5", "%ED%A0%80"]
ONE_MB = "x" * (1024 * 1024)
RESIDENT_PATHS = ("/api/v1/bookings", "/api/v1/slots/{slot_id}/waitlist", "/api/v1/waitlist/{entry_id}",
                  "/api/v1/bookings/{booking_id}/self-checkin", "/api/v1/bookings/{booking_id}/qr")


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict):
                yield path, method.upper(), operation


def _resolve(document, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _path(path: str, world, bad: tuple[str, str] | None = None) -> str:
    ids = {"booking_id": world.booking.id, "store_id": world.store.id, "offering_id": world.offering.id,
           "business_id": world.store.business_id, "slot_id": world.slot.id, "entry_id": world.entry.id,
           "user_id": world.users["staff"].id, "invitation_id": 2**31 - 1}
    # A parameter this world has no row for (a new route's) gets an id nothing has: still swept, answered 404.
    return re.sub(r"{(\w+)}", lambda m: bad[1] if bad and bad[0] == m.group(1)
                  else str(ids.get(m.group(1), 2**31 - 1)), path)


class Sweep:
    def __init__(self, client, document, world):
        self.client, self.document, self.world = client, document, world
        self.tried = 0
        self.problems: list[str] = []

    def send(self, path: str, method: str, label: str, allowed=None, **kwargs):
        headers = f.token_for(self.world.users["resident" if path.startswith(RESIDENT_PATHS) and method != "GET"
                                                else "owner"])
        url = _path(path, self.world, kwargs.pop("bad_path", None))
        response = self.client.open(url + kwargs.pop("query", ""), method=method,
                                    headers={**headers, **kwargs.pop("headers", {})}, **kwargs)
        self.tried += 1
        status = response.status_code
        if status >= 500:
            self.problems.append(f"{method} {path} {label}: {status} {response.get_data()[:200]!r}")
        elif status >= 400:
            body = response.get_json(silent=True) if response.is_json else None
            code = (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None
            if code not in ERROR_CODES:
                self.problems.append(f"{method} {path} {label}: {status} without a registered code: "
                                     f"{response.get_data()[:200]!r}")
        elif allowed is not None and not allowed():
            self.problems.append(f"{method} {path} {label}: {status} for a value the document does not allow")
        response.close()


def _valid(schema: dict, text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return False
    try:
        return jsonschema_rs.validator_for(schema).is_valid(value)
    except (ValueError, OverflowError):
        return False


def _sweep_operation(sweep: Sweep, document: dict, path: str, method: str, operation: dict) -> None:
    components = document["components"]
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if parameter["in"] == "path":
            for value in BAD_PATH:
                sweep.send(path, method, f"path {name}={value}", bad_path=(name, value))
        elif parameter["in"] == "query":
            for value in BAD_QUERY:
                sweep.send(path, method, f"query {name}={value}", query=f"?{name}={value}")
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return
    body = _resolve(document, content["schema"])
    for name, prop in body.get("properties", {}).items():
        schema = {**_resolve(document, prop), "components": components}
        for literal in BAD_NUMBERS + BAD_TEXT:
            text = f'{{"{name}": {literal}}}'
            sweep.send(path, method, f"body {name}={literal}", data=text, content_type="application/json",
                       allowed=lambda s=schema, v=literal, r=set(body.get("required", [])) - {name}: (
                           _valid(s, v) and not r))
        sweep.send(path, method, f"body {name}=1 MB", json={name: ONE_MB})
    for text, kind in [("{", "application/json"), ('{"a": 1', "application/json"), ("[]", "application/json"),
                       ('"text"', "application/json"), ("", "application/json"), ("\x00", "application/json"),
                       ("a=1", "application/x-www-form-urlencoded"), ("<a/>", "application/xml"),
                       ('{"a": 1}', "text/plain"), (ONE_MB, "application/octet-stream"),
                       ('{"a": ' * 100_000, "application/json")]:
        sweep.send(path, method, f"{kind} body {text[:12]!r}", data=text, content_type=kind)


def test_bad_inputs_are_refused_with_a_registered_code_and_never_a_500(app, capsys):
    app.test_client_class = IsolatedClient
    client = app.test_client()
    with rolled_back(app):
        document = client.get("/openapi.json").get_json()
    tried, problems = 0, []
    # Each operation in a transaction of its own: thousands of requests in one would pile up versions of the
    # same rows (every bearer request touches its token), which no vacuum may remove while it runs, and every
    # query would read them all (the sweep slowed from seconds to most of an hour as operations were added).
    for path, method, operation in _operations(document):
        with rolled_back(app) as db:
            world = build_world()
            db.session.commit()
            sweep = Sweep(client, document, world)
            _sweep_operation(sweep, document, path, method, operation)
            tried, problems = tried + sweep.tried, problems + sweep.problems
    with capsys.disabled():
        print(f"\nbad inputs: {tried} requests, {len(problems)} problems")
    assert not problems, "\n".join(problems[:60])


def test_raw_bytes_that_are_not_utf8_in_a_query_string_are_read_percent_encoded(client):
    # A client need not escape a query string's bytes; a WSGI server hands them on as latin-1 text.
    raw = {"QUERY_STRING": "lat=30.25&lng=120.16&q=caf\xe9\xff&lang=\xed\xa0\x80"}
    nearby = client.get("/api/v1/offerings/nearby", environ_overrides=raw)
    assert nearby.status_code == 200 and nearby.get_json()["items"] == []  # no title holds "caf%E9%FF"
    page = client.get("/explore", environ_overrides=raw)
    assert page.status_code == 200
    assert "caf%E9%FF" in page.get_data(as_text=True)  # the search box and the page's own links keep it
    refused = client.get("/api/v1/offerings/nearby", environ_overrides={"QUERY_STRING": "lat=\xff&lng=120.16"})
    assert refused.status_code == 422 and refused.get_json()["error"]["details"]["lat"]
