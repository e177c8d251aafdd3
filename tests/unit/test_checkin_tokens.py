"""Check-in codes without a database: the QR token's shape and signature, the refusals decided before any
lookup, short-code normalisation, and the rotating 6-digit store code (HOTP, RFC 4226 vectors).

Verification against stored bookings (round trip, tampering, revocation) and the window rules need
PostGIS: they are in tests/integration/test_checkin.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from app.errors import ValidationFailed
from app.merchants.models import Store
from bookings import checkin
from bookings.errors import CheckInError
from bookings.models import Booking, Slot

KEY = b"unit-test-key-" + b"k" * 18
SECRET = "5f" * 16
ENDS = datetime(2030, 3, 5, 7, 0, tzinfo=UTC)
NOW = datetime(2030, 3, 5, 6, 0, 30, tzinfo=UTC)
RFC4226_SECRET = b"12345678901234567890".hex()
RFC4226_HOTP = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
                "520489"]


def booking(booking_id: int = 41, secret: str = SECRET, ends_at: datetime = ENDS) -> Booking:
    """A transient booking: enough for issue_token, never added to a session."""
    row = Booking(id=booking_id, qr_secret=secret)
    row.slot = Slot(starts_at=ends_at - timedelta(hours=1), ends_at=ends_at)
    return row


def parts(token: str) -> tuple[str, str, str]:
    assert token.startswith("ONS1:")
    booking_id, expires, signature = token[len("ONS1:"):].split(".")
    return booking_id, expires, signature


def refused_code(excinfo) -> str:
    return excinfo.value.code


# -- the QR token ------------------------------------------------------------------------------------

def test_token_carries_booking_expiry_and_an_hmac_over_them():
    token = checkin.issue_token(booking(), KEY)
    booking_id, expires, signature = parts(token)
    assert booking_id == "41"
    assert int(expires) == int((ENDS + timedelta(hours=12)).timestamp())
    message = f"onsite-checkin|41|{SECRET}|{expires}".encode()
    expected = base64.urlsafe_b64encode(hmac.new(KEY, message, hashlib.sha256).digest()).rstrip(b"=").decode()
    assert signature == expected[:27]
    assert token == checkin.issue_token(booking(), KEY)  # deterministic: the QR is stable until reissued


@pytest.mark.parametrize("change", ["key", "secret", "booking", "slot_end"])
def test_signature_depends_on_key_secret_booking_and_validity(change):
    original = parts(checkin.issue_token(booking(), KEY))
    other = {
        "key": lambda: checkin.issue_token(booking(), b"another-key-" + b"x" * 20),
        "secret": lambda: checkin.issue_token(booking(secret="a0" * 16), KEY),
        "booking": lambda: checkin.issue_token(booking(booking_id=42), KEY),
        "slot_end": lambda: checkin.issue_token(booking(ends_at=ENDS + timedelta(minutes=1)), KEY),
    }[change]()
    assert parts(other)[2] != original[2]


@pytest.mark.parametrize("token", [
    "ONS1:", "ONS1:41", "ONS1:41.1900000000", "ONS1:41.1900000000.sig.extra", "ONS1:abc.1900000000.sig",
    "ONS1:41.soon.sig", "ONS1:0.1900000000.sig", "ONS1:-41.1900000000.sig", "ONS1:2147483648.1900000000.sig",
    "ONS1:41..sig", "ONS1:.1900000000.sig",
])
def test_malformed_tokens_are_invalid_before_any_lookup(token):
    # No app context here: touching db.session would raise RuntimeError instead of CheckInError.
    with pytest.raises(CheckInError) as excinfo:
        checkin.verify_token(token, KEY, NOW)
    assert refused_code(excinfo) == "invalid_code"
    assert excinfo.value.http_status == 404


def test_expired_token_is_invalid_without_a_lookup():
    token = checkin.issue_token(booking(ends_at=NOW - timedelta(hours=12, seconds=1)), KEY)
    with pytest.raises(CheckInError) as excinfo:
        checkin.verify_token(token, KEY, NOW)
    assert refused_code(excinfo) == "invalid_code"


# -- short codes -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "expected"), [
    ("k7qx2m9p", "K7QX2M9P"),
    ("k7qx-2m9p", "K7QX2M9P"),
    (" K7QX 2M9P ", "K7QX2M9P"),
    ("k7-qx 2m-9p", "K7QX2M9P"),
    ("K7QX2M9P", "K7QX2M9P"),
])
def test_normalise_code_accepts_lower_case_dashes_and_spaces(typed, expected):
    assert checkin.normalise_code(typed) == expected


@pytest.mark.parametrize("code", ["K7QX2M9", "K7QX2M9PA", "K7QX2M0P", "K7QX2MOP", "K7QX2M1P", "K7QX2MIP", "!!!!!!!!"])
def test_short_code_of_wrong_length_or_alphabet_is_invalid_without_a_lookup(code):
    with pytest.raises(CheckInError) as excinfo:
        checkin.find_by_code(code, KEY, NOW)
    assert refused_code(excinfo) == "invalid_code"


@pytest.mark.parametrize("code", ["", "   ", None, 12345678, "K" * 201])
def test_missing_or_oversized_code_is_a_validation_error(code):
    with pytest.raises(ValidationFailed) as excinfo:
        checkin.find_by_code(code, KEY, NOW)
    assert "code" in excinfo.value.details


# -- the rotating store code ----------------------------------------------------------------------------

def test_store_code_is_hotp_over_60_second_steps():
    store = Store(checkin_secret=RFC4226_SECRET)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for counter, expected in enumerate(RFC4226_HOTP):
        assert checkin.store_code(store, epoch + timedelta(seconds=60 * counter)) == expected


def test_store_code_is_six_digits_stable_within_a_step_and_changes_across_steps():
    store = Store(checkin_secret="c0ffee" * 5 + "00")
    step_start = datetime(2030, 3, 5, 6, 0, 0, tzinfo=UTC)
    codes = []
    for step in range(30):
        start = step_start + timedelta(minutes=step)
        code = checkin.store_code(store, start)
        assert len(code) == 6 and code.isdigit()
        assert checkin.store_code(store, start + timedelta(seconds=59, microseconds=999_999)) == code
        codes.append(code)
    assert all(a != b for a, b in zip(codes, codes[1:], strict=False))
    assert len(set(codes)) >= 28  # a collision among 30 random 6-digit codes is possible, not common


def test_store_code_offset_is_the_previous_step():
    store = Store(checkin_secret=RFC4226_SECRET)
    at = datetime(1970, 1, 1, 0, 3, 20, tzinfo=UTC)  # step 3
    assert checkin.store_code(store, at) == RFC4226_HOTP[3]
    assert checkin.store_code(store, at, -1) == RFC4226_HOTP[2]


def test_store_codes_differ_between_stores():
    one, two = Store(checkin_secret="11" * 20), Store(checkin_secret="22" * 20)
    assert [checkin.store_code(one, NOW + timedelta(minutes=m)) for m in range(5)] != \
        [checkin.store_code(two, NOW + timedelta(minutes=m)) for m in range(5)]


@pytest.mark.parametrize(("second", "left"), [(0, 60), (1, 59), (30, 30), (59, 1)])
def test_seconds_left_counts_down_the_step(second, left):
    assert checkin.seconds_left(datetime(2030, 3, 5, 6, 0, second, tzinfo=UTC)) == left
