"""What /openapi.json promises, one fix at a time (each of these failed before the spec or the code was fixed)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.merchants.models import Business
from app.openapi import TEXT_PATTERN
from tests import factories as f
from tests.web._bookings_world import build_world, read


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").get_json()


@pytest.fixture
def world(db):
    return build_world()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict):
                yield f"{method.upper()} {path}", operation


def _schema(spec, node):
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _body(spec, operation):
    return _schema(spec, operation["requestBody"]["content"]["application/json"]["schema"])


def _query(operation, name):
    return next(p["schema"] for p in operation["parameters"] if p["name"] == name)


def test_decimal_bounds_are_numbers(spec):
    nearby = spec["paths"]["/api/v1/offerings/nearby"]["get"]
    for name in ("min_price", "max_price"):
        assert _query(nearby, name)["maximum"] == 99999999 and _query(nearby, name)["minimum"] == 0
    price = _body(spec, spec["paths"]["/api/v1/offerings"]["post"])["properties"]["price_amount"]
    assert price["maximum"] == 99999999.99 and price["multipleOf"] == 0.01
    text = repr(spec)
    assert not re.search(r"'(minimum|maximum|multipleOf)': '", text), "a bound is still a string"


def test_error_answers_are_the_envelope(spec):
    assert "HTTPError" not in spec["components"]["schemas"]
    assert "ValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["Error"]["required"] == ["error"]
    unauthorised = spec["paths"]["/api/v1/bookings"]["post"]["responses"]["401"]
    assert unauthorised["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_what_happens_before_a_view_is_documented(spec):
    limited = {"POST /api/v1/auth/register", "POST /api/v1/auth/tokens", "POST /api/v1/checkins",
               "POST /api/v1/bookings/{booking_id}/self-checkin"}
    for label, operation in _operations(spec):
        responses = operation["responses"]
        assert "414" in responses, label
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(responses), label
        if label in limited:
            assert "429" in responses, label
    assert spec["components"]["responses"]["UriTooLong"]["content"] == {"text/html": {"schema": {"type": "string"}}}


def test_a_body_is_required_unless_every_field_is_optional_on_a_post(spec):
    required = {label: operation["requestBody"]["required"] for label, operation in _operations(spec)
                if "requestBody" in operation}
    assert required["PATCH /api/v1/offerings/{offering_id}"] is True
    assert required["PATCH /api/v1/stores/{store_id}"] is True
    assert required["PUT /api/v1/offerings/{offering_id}/schedule"] is True
    assert required["POST /api/v1/bookings"] is True
    assert required["POST /api/v1/bookings/{booking_id}/cancel"] is False  # the reason is optional
    assert required["POST /api/v1/slots/{slot_id}/waitlist"] is False


def test_the_calendar_file_is_documented_as_text_calendar(spec, client, db, world):
    ok = spec["paths"]["/api/v1/bookings/{booking_id}.ics"]["get"]["responses"]["200"]
    assert list(ok["content"]) == ["text/calendar"]
    answer = client.get(f"/api/v1/bookings/{world.booking.id}.ics", headers=f.token_for(world.resident))
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"


def test_free_text_says_it_holds_no_nul_and_nul_is_refused(spec, client, db, world):
    note = _body(spec, spec["paths"]["/api/v1/bookings"]["post"])["properties"]["note"]
    assert note["pattern"] == TEXT_PATTERN
    assert _query(spec["paths"]["/api/v1/places"]["get"], "q")["pattern"] == TEXT_PATTERN
    assert re.fullmatch(TEXT_PATTERN, "a\x00b") is None and re.fullmatch(TEXT_PATTERN, "Ann's note ✓")
    answer = client.post("/api/v1/bookings", json={"slot_id": world.free_slot.id, "note": "a\x00b"},
                         headers=f.token_for(world.resident))
    assert answer.status_code == 422 and answer.json["error"]["code"] == "validation_failed"


@pytest.mark.parametrize("day", ["0183-07-16", "1969-12-31", "9999-01-01", "2026-1-05", "2026-02-30"])
def test_days_outside_1970_to_9998_break_the_pattern_and_are_refused(spec, client, db, world, day):
    pattern = _query(spec["paths"]["/api/v1/stores/{store_id}/roster"]["get"], "day")["pattern"]
    if day != "2026-02-30":  # a day the pattern lets through; format: date refuses it
        assert re.fullmatch(pattern, day) is None
    answer = client.get(f"/api/v1/stores/{world.store.id}/roster?day={day}", headers=f.token_for(world.owner))
    assert answer.status_code == 422 and answer.json["error"]["code"] == "validation_failed"


@pytest.mark.parametrize("day", ["1970-01-01", "9998-12-31"])
def test_the_first_and_last_days_are_answered(spec, client, db, world, day):
    pattern = _query(spec["paths"]["/api/v1/stores/{store_id}/roster"]["get"], "day")["pattern"]
    assert re.fullmatch(pattern, day)
    answer = client.get(f"/api/v1/stores/{world.store.id}/roster?day={day}", headers=f.token_for(world.owner))
    assert answer.status_code == 200, answer.json


def test_a_whole_number_written_as_a_float_is_an_integer(client, db, world):
    headers = f.token_for(world.users["other_resident"])
    answer = client.post("/api/v1/bookings", json={"slot_id": float(world.free_slot.id), "party_size": 2.0},
                         headers=headers)
    assert answer.status_code == 201, answer.json
    assert answer.json["party_size"] == 2


@pytest.mark.parametrize("party_size", ["2", 1.5, True, None])
def test_other_numbers_are_not_integers(client, db, world, party_size):
    answer = client.post("/api/v1/bookings", json={"slot_id": world.free_slot.id, "party_size": party_size},
                         headers=f.token_for(world.users["other_resident"]))
    assert answer.status_code == 422
    assert "party_size" in answer.json["error"]["details"]


@pytest.mark.parametrize("price", ["88.5", 88.5, 88, "0", 99999999.99])
def test_a_price_is_a_number_or_a_decimal_string(client, db, world, price):
    answer = client.patch(f"/api/v1/offerings/{world.offering.id}", json={"price_amount": price},
                          headers=f.token_for(world.owner))
    assert answer.status_code == 200, answer.json


@pytest.mark.parametrize("price", ["1e2", " 5", "-1", 88.555, "88.555", -1, 100000000, True, "NaN"])
def test_a_price_in_any_other_shape_is_refused(client, db, world, price):
    answer = client.patch(f"/api/v1/offerings/{world.offering.id}", json={"price_amount": price},
                          headers=f.token_for(world.owner))
    assert answer.status_code == 422
    assert "price_amount" in answer.json["error"]["details"]


@pytest.mark.parametrize("send", [
    pytest.param({}, id="no-body"),
    pytest.param({"data": "name=Renamed"}, id="form"),
    pytest.param({"data": '{"name": "Renamed"}', "content_type": "text/plain"}, id="json-as-text"),
])
def test_a_patch_without_a_json_body_is_refused_and_changes_nothing(client, db, world, send):
    before = read(select(Business.name).where(Business.id == world.store.business_id))
    answer = client.patch(f"/api/v1/businesses/{world.store.business_id}", headers=f.token_for(world.owner), **send)
    if send:
        assert (answer.status_code, answer.json["error"]["code"]) == (415, "unsupported_media_type")
    else:
        assert (answer.status_code, answer.json["error"]["code"]) == (422, "validation_failed")
        assert answer.json["error"]["details"] == {"body": ["A JSON body is required."]}
    assert read(select(Business.name).where(Business.id == world.store.business_id)) == before


def test_an_optional_body_may_be_left_out_but_not_sent_as_a_form(client, db, world):
    headers = f.token_for(world.resident)
    form = client.post(f"/api/v1/bookings/{world.booking.id}/cancel", data={"reason": "x"}, headers=headers)
    assert (form.status_code, form.json["error"]["code"]) == (415, "unsupported_media_type")
    assert client.post(f"/api/v1/bookings/{world.booking.id}/cancel", headers=headers).status_code == 200


def test_malformed_json_is_a_documented_400(client, db, world):
    answer = client.post("/api/v1/bookings", data="{", content_type="application/json",
                         headers=f.token_for(world.resident))
    assert (answer.status_code, answer.json["error"]["code"]) == (400, "malformed_json")


@pytest.mark.parametrize("path", ["/api/v1/bookings", "/api/v1/offerings/nearby", "/stores/1"])
def test_a_405_says_which_methods_the_path_takes(client, db, path):
    answer = client.open(path, method="TRACE")
    assert answer.status_code == 405
    allowed = {method.strip() for method in answer.headers["Allow"].split(",")}
    assert "GET" in allowed and "TRACE" not in allowed


def test_self_check_in_needs_a_position_and_says_so(spec, client, db, world):
    body = _body(spec, spec["paths"]["/api/v1/bookings/{booking_id}/self-checkin"]["post"])
    assert {"lat", "lng", "accuracy", "store_code"} <= set(body["required"])
    answer = client.post(f"/api/v1/bookings/{world.booking.id}/self-checkin", json={"store_code": "123456"},
                         headers=f.token_for(world.resident))
    assert (answer.status_code, answer.json["error"]["code"]) == (422, "missing_position")


def test_a_time_zone_is_one_of_the_documented_names(spec):
    zones = _body(spec, spec["paths"]["/api/v1/stores"]["post"])["properties"]["timezone"]["enum"]
    assert "Asia/Shanghai" in zones and "America/New_York" in zones and "Mars/Olympus" not in zones


def test_an_extra_slot_needs_a_time_in_the_document_too(spec):
    exception = spec["components"]["schemas"]["ExceptionIn"]
    assert exception["then"] == {"required": ["time"]}
    assert exception["if"]["properties"]["kind"] == {"const": "extra_slot"}
