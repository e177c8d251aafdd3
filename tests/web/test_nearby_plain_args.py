"""The commonest nearby searches skip NearbyArgs' load: their arguments must come out exactly as the schema's."""

from __future__ import annotations

import random
from urllib.parse import urlencode

from apiflask.schema_adapters.marshmallow import parser

from app.discovery import api, services
from app.offerings.models import Category

CATEGORIES = [str(c) for c in Category]
# Well formed, at the edges, and malformed: the plain parser must agree with the schema or leave it to it.
NUMBERS = ["30.25", "-90", "90", "90.0", "-180", "180", "0", "-0", "120.123456789012345", "91", "-181", "1e1",
           " 30", "30.", ".5", "+1", "nan", "inf", "", "30,5", "1_0", "0030.5"]
COUNTS = ["1", "20", "50", "51", "0", "3000", "50000", "50001", "020", "2.0", "-1", "", "x"]
SORTS = [*services.SORTS, "nearest", ""]


def schema_args(app, query: str):
    with app.test_request_context("/api/v1/offerings/nearby?" + query):
        try:
            return parser.parse(api.NearbyArgs(), location="query")
        except Exception:  # noqa: BLE001 - the schema refuses it (422): the plain parser must not accept it
            return None


def plain_args(app, query: str):
    with app.test_request_context("/api/v1/offerings/nearby?" + query):
        return api._plain_nearby_args()


def test_plain_arguments_are_the_schemas_or_none(app):
    rng = random.Random(17)
    accepted = 0
    for _ in range(600):
        pairs = [("lat", rng.choice(NUMBERS if rng.random() < 0.3 else ["30.25", "30.2", "29.9"])),
                 ("lng", rng.choice(NUMBERS if rng.random() < 0.3 else ["120.16", "120.1"]))]
        if rng.random() < 0.5:
            pairs.append(("radius_m", rng.choice(COUNTS)))
        if rng.random() < 0.5:
            pairs.append(("limit", rng.choice(COUNTS)))
        if rng.random() < 0.5:
            pairs.append(("sort", rng.choice(SORTS)))
        for _ in range(rng.choice([0, 0, 1, 2])):
            pairs.append(("category", rng.choice([*CATEGORIES, "nope"])))
        if rng.random() < 0.1:
            pairs.append(rng.choice([("lat", "30.1"), ("open_now", "true"), ("q", "tea"), ("lang", "zh")]))
        rng.shuffle(pairs)
        query = urlencode(pairs)
        plain = plain_args(app, query)
        if plain is not None:
            accepted += 1
            assert plain == schema_args(app, query), query
    assert accepted > 100  # the well-formed ones take the plain path (130 of these 600)


def test_a_search_answers_the_same_whichever_parser_reads_it(client):
    plain = client.get("/api/v1/offerings/nearby?lat=30.25&lng=120.16&limit=2&sort=distance")
    parsed = client.get("/api/v1/offerings/nearby?lat=30.25&lng=120.16&limit=2&sort=distance&open_now=false")
    assert plain.status_code == parsed.status_code == 200
    assert plain.get_json()["items"] == parsed.get_json()["items"]
    refused = client.get("/api/v1/offerings/nearby?lat=91&lng=120.16")  # out of range: the schema says so
    assert refused.status_code == 422 and "lat" in refused.get_json()["error"]["details"]
