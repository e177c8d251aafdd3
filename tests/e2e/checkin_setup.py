"""Set-up for the check-in tests against the live server, through its real API and pages.

A visit to check in is made the way a merchant and a resident would: the demo merchant lists a fresh
experience at a demo store, adds a slot a few minutes from now (an ``extra_slot`` at the store-local
time, no minimum notice), and the demo resident books it. Each visit gets its own experience, so reruns
never meet an earlier booking; ``archive`` takes it out of the listings afterwards.
"""

from __future__ import annotations

import http.cookiejar
import io
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from PIL import Image

from app import clock

DEMO_MERCHANT = ("merchant@demo.onsite", "demo-merchant-pass")
DEMO_STAFF = ("staff@demo.onsite", "demo-staff-pass")
DEMO_RESIDENT = ("resident@demo.onsite", "demo-resident-pass")
VISIT_PRICE = "168.00"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Reply:
    status: int
    headers: Message
    body: Any


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None,
         timeout: float = 30) -> Reply:
    """One JSON request on its own connection."""
    headers = {"Accept": "application/json", "Connection": "close"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, method=method, headers=headers,  # noqa: S310 (the live server)
                                     data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the live server)
            return Reply(response.status, response.headers, _json(response.read()))
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, _json(error.read()))


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def token_of(base: str, email: str, password: str) -> str:
    reply = call(base, "POST", "/api/v1/auth/tokens", {"email": email, "password": password})
    assert reply.status == 201, reply.body
    return reply.body["token"]


@dataclass
class Studio:
    """The demo merchant's business: its first store (where the demo staff work) and its second."""

    merchant_token: str
    first: dict
    second: dict


def demo_studio(base: str) -> Studio:
    token = token_of(base, *DEMO_MERCHANT)
    businesses = call(base, "GET", "/api/v1/businesses", token=token)
    assert businesses.status == 200, businesses.body
    business = next(b for b in businesses.body if b["name"].startswith("Onsite Demo Studio"))
    stores = call(base, "GET", f"/api/v1/stores?business_id={business['id']}&limit=200")
    assert stores.status == 200, stores.body
    first, second = sorted(stores.body["items"], key=lambda s: s["id"])[:2]
    return Studio(token, first, second)


@dataclass
class Visit:
    booking: dict
    offering_id: int
    store: dict

    @property
    def code(self) -> str:
        return self.booking["code"]


def open_visit(base: str, studio: Studio, resident_token: str, *, store: dict | None = None,
               minutes_ahead: int = 10, party_size: int = 1) -> Visit:
    """A confirmed booking by the token's resident whose slot starts within its check-in window."""
    store = store or studio.first
    offering = call(base, "POST", "/api/v1/offerings", {
        "store_id": store["id"], "title": f"E2E check-in visit {uuid.uuid4().hex[:8]}", "category": "class_workshop",
        "price_amount": VISIT_PRICE, "currency": "CNY", "duration_min": 60, "capacity": 4,
    }, token=studio.merchant_token)
    assert offering.status == 201, offering.body
    offering_id = offering.body["id"]
    local = (clock.now() + timedelta(minutes=minutes_ahead)).astimezone(ZoneInfo(store["timezone"]))
    schedule = call(base, "PUT", f"/api/v1/offerings/{offering_id}/schedule", {
        "weekly": [], "min_notice_minutes": 0, "requires_approval": False,
        "exceptions": [{"date": local.date().isoformat(), "kind": "extra_slot", "time": local.strftime("%H:%M")}],
    }, token=studio.merchant_token)
    assert schedule.status == 200 and schedule.body["created"] == 1, schedule.body
    slots = call(base, "GET", f"/api/v1/offerings/{offering_id}/slots?from={local.date().isoformat()}")
    assert slots.status == 200 and len(slots.body["items"]) == 1, slots.body
    slot = slots.body["items"][0]
    assert slot["starts_at"].startswith(local.strftime("%Y-%m-%dT%H:%M")), slot
    booking = call(base, "POST", "/api/v1/bookings", {"slot_id": slot["id"], "party_size": party_size},
                   token=resident_token)
    assert booking.status == 201 and booking.body["status"] == "confirmed", booking.body
    return Visit(booking.body, offering_id, store)


def _database_url() -> str:
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", os.environ["E2E_DATABASE_URL"])


def move_visit_into_the_past(booking_id: int, hours: int = 1) -> None:
    """Shift the visit's slot, booking and check-in ``hours`` back, as if it had happened earlier."""
    shift = f"{hours} hours"
    with psycopg.connect(_database_url()) as connection:
        connection.execute("UPDATE slots SET starts_at = starts_at - %s::interval, ends_at = ends_at - %s::interval "
                           "WHERE id = (SELECT slot_id FROM bookings WHERE id = %s)", (shift, shift, booking_id))
        connection.execute("UPDATE bookings SET starts_at = starts_at - %s::interval WHERE id = %s",
                           (shift, booking_id))
        connection.execute("UPDATE check_ins SET checked_in_at = checked_in_at - %s::interval WHERE booking_id = %s",
                           (shift, booking_id))


def checked_in_visit(base: str, studio: Studio, resident_token: str, *, hours_ago: int = 1) -> Visit:
    """A visit of the token's resident that the demo staff checked in (staff-verified), ``hours_ago`` back."""
    visit = open_visit(base, studio, resident_token)
    checked = call(base, "POST", "/api/v1/checkins", {"code": visit.code, "store_id": visit.store["id"]},
                   token=token_of(base, *DEMO_STAFF))
    assert checked.status == 200 and checked.body["check_in"]["verification"] == "staff_verified", checked.body
    move_visit_into_the_past(visit.booking["id"], hours_ago)
    return visit


def create_admin(email: str, password: str) -> None:
    """An operator account, made as a deployment makes one: ``flask users create-admin``."""
    env = {**os.environ, "DATABASE_URL": os.environ["E2E_DATABASE_URL"], "FLASK_APP": "wsgi:app"}
    done = subprocess.run([sys.executable, "-m", "flask", "users", "create-admin", "--email", email, "--password",
                           password, "--name", "E2E Operator"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def photo_bytes(colour: tuple[int, int, int] = (60, 90, 180)) -> bytes:
    """A small JPEG to upload."""
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG")
    return out.getvalue()


def archive(base: str, studio: Studio, visit: Visit) -> None:
    """Take the visit's experience out of the listings (its bookings and check-ins stay)."""
    reply = call(base, "DELETE", f"/api/v1/offerings/{visit.offering_id}", token=studio.merchant_token)
    assert reply.status == 204, reply.body


class Browserless:
    """A cookie session that fills the real forms, for pages without an API."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def post(self, path: str, fields: dict[str, str]) -> str:
        token = re.search(r'name="csrf-token" content="([^"]+)"', self.get(path))
        assert token, f"no CSRF token on {path}"
        data = urllib.parse.urlencode({**fields, "csrf_token": token.group(1)}).encode()
        with self.opener.open(self.base + path, data=data, timeout=30) as response:
            return response.read().decode()

    def log_in(self, email: str, password: str) -> None:
        page = self.post("/auth/login", {"email": email, "password": password})
        assert "Log out" in page, "log-in failed"


def new_staff_account(base: str, studio: Studio, store: dict) -> tuple[str, str]:
    """Sign a new account up, invite it on the demo merchant's staff page, and accept through the API.

    Returns (e-mail, bearer token).
    """
    email = f"counter-{uuid.uuid4().hex[:10]}@e2e.onsite"
    reply = call(base, "POST", "/api/v1/auth/register", {
        "email": email, "password": "e2e-till-pass-7", "display_name": "E2E Counter", "role": "resident"})
    assert reply.status == 201, reply.body
    merchant = Browserless(base)
    merchant.log_in(*DEMO_MERCHANT)
    page = merchant.post(f"/merchant/stores/{store['id']}/staff", {"email": email})
    assert f"Invitation sent to {email}" in page, "the staff page does not confirm the invitation"
    token = token_of(base, email, "e2e-till-pass-7")
    pending = call(base, "GET", "/api/v1/me/invitations", token=token)
    assert pending.status == 200, pending.body
    (invitation,) = [i for i in pending.body if i["store_id"] == store["id"]]
    accepted = call(base, "POST", f"/api/v1/invitations/{invitation['id']}/accept", token=token)
    assert accepted.status == 200 and accepted.body["status"] == "accepted", accepted.body
    return email, token
