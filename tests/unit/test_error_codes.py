"""The one registry of error codes: every code the code base can answer with is in it, with a status
and a one-line meaning. No database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.error_codes import ERROR_CODES
from app.errors import _HTTP_CODES, Conflict, DomainError, NotFound, document_error_codes, error_codes_markdown
from bookings.checkin import refused
from bookings.errors import CheckInError, IdempotencyKeyReused, InvalidTransition, SlotNotFound

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("app", "bookings", "geo", "trust")
# Where a code is named in the source: code="x" / code = "x", refused("x", …), error_body("x", …).
CODE_SITES = re.compile(r'\bcode\s*=\s*"(\w+)"|\brefused\(\s*"(\w+)"|\berror_body\(\s*"(\w+)"')


def codes_in_source() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for match in CODE_SITES.finditer(path.read_text(encoding="utf-8")):
                code = next(group for group in match.groups() if group)
                found.setdefault(code, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_code_raised_in_the_code_base_is_registered():
    found = codes_in_source()
    assert {"slot_full", "invalid_code", "wrong_store", "outside_window", "invalid_credentials",
            "past_cutoff"} <= set(found)
    missing = {code: sorted(paths) for code, paths in found.items() if code not in ERROR_CODES}
    assert missing == {}, "add these codes to app/error_codes.py"


def test_the_http_fallback_codes_are_registered_with_their_status():
    for status, code in _HTTP_CODES.items():
        assert ERROR_CODES[code].http_status == status, code


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_each_code_has_a_status_and_a_one_line_meaning(code):
    entry = ERROR_CODES[code]
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code)
    assert 400 <= entry.http_status <= 599
    assert entry.description.strip() and "\n" not in entry.description and len(entry.description) <= 120


def test_errors_take_their_status_from_the_registry():
    assert (SlotNotFound().http_status, IdempotencyKeyReused().http_status, InvalidTransition().http_status) == (
        404, 422, 409)
    assert Conflict("x", code="already_staff").http_status == 409
    assert NotFound("x", code="slot_not_found").http_status == 404
    for code, status in [("invalid_code", 404), ("wrong_store", 403), ("missing_position", 422),
                         ("already_checked_in", 409), ("outside_window", 409), ("not_checked_in", 409)]:
        error = refused(code, "…")
        assert isinstance(error, CheckInError) and (error.code, error.http_status) == (code, status)


def test_an_error_class_with_an_unregistered_code_cannot_be_defined():
    with pytest.raises(KeyError):
        type("Unlisted", (DomainError,), {"code": "not_in_the_registry"})


def test_the_api_description_and_the_error_schema_list_every_code():
    spec = document_error_codes({"info": {"description": "Onsite."}})
    assert spec["info"]["description"].startswith("Onsite.\n\n")
    table = error_codes_markdown()
    for code, entry in ERROR_CODES.items():
        assert f"| `{code}` | {entry.http_status} | {entry.description} |" in table
    assert spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"] == sorted(
        ERROR_CODES)
