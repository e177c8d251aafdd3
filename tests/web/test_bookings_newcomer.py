"""Issue 11, as a newcomer meets it in the booking pages: the inbox's times are on a store's clock, and the
waitlist button sends the party the resident chose."""

from __future__ import annotations

from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from bookings.models import Notification, WaitlistEntry
from tests import factories as f
from tests.web._bookings_world import World, build_world, hour


@pytest.fixture
def world(db) -> World:
    return build_world()


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return unescape(response.get_data(as_text=True))


# -- the inbox: each notice's time on its store's clock, labelled -----------------------------------

def test_inbox_times_are_on_the_store_clock_labelled_not_utc(client, auth, world):
    new_york = f.create_store(f.create_business(world.owner), name="Hudson Clay", timezone="America/New_York")
    booking = f.create_booking(f.create_slot(f.create_offering(new_york), hour(days=3)), world.resident)
    at = datetime(2026, 11, 28, 13, 30, tzinfo=UTC)  # 08:30 in New York, 21:30 in Shanghai
    db.session.add_all([
        Notification(user_id=world.resident.id, kind="confirmed", title="About the visit", body="b",
                     booking_id=booking.id, created_at=at),
        Notification(user_id=world.resident.id, kind="account", title="About the account", body="b", created_at=at),
    ])
    db.session.flush()
    auth.login(world.resident.email)
    html = html_of(client.get("/me/inbox"))
    assert "UTC" not in html
    assert "Sat 28 Nov, 08:30 (America/New_York)" in html  # the booking's store
    assert "Sat 28 Nov, 21:30 (Asia/Shanghai)" in html  # no booking: the site's city, as a new store gets


# -- the waitlist button sends the party chosen in the booking form ------------------------------------

class _Forms(HTMLParser):
    """The fields a browser would submit: each form's named inputs, and every submit button with its form."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, list[tuple[str, str]]] = {}
        self.buttons: list[dict[str, str]] = []
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = a.get("id") or f"form-{len(self.fields)}"
            self.fields.setdefault(self._open, [])
        elif tag == "input" and a.get("name") and "disabled" not in a:
            owner = a.get("form") or self._open
            if a.get("type") in ("radio", "checkbox") and "checked" not in a:
                return
            self.fields.setdefault(owner, []).append((a["name"], a.get("value", "")))
        elif tag == "button" and a.get("type", "submit") == "submit":
            self.buttons.append({**a, "form": a.get("form") or self._open or ""})

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def test_the_waitlist_button_sends_the_party_chosen_in_the_form(client, auth, world):
    full = f.create_slot(world.offering, hour(days=8, hours=2), capacity=4)
    f.create_booking(full, party_size=4)
    db.session.flush()
    auth.login(world.users["other_resident"].email)
    day = full.starts_at.astimezone(ZoneInfo(world.store.timezone)).date()
    forms = _Forms()
    forms.feed(html_of(client.get(f"/experiences/{world.offering.id}?day={day.isoformat()}")))
    # The resident types 3 in "People" (the booking form's party_size), then presses "Wait for …":
    # the browser sends the button's form, with what was typed there, and the button's own name=value.
    typed = {"book-form": {"party_size": "3"}}
    action = f"/slots/{full.id}/waitlist"
    button = next(b for b in forms.buttons if b.get("formaction") == action)
    data = {name: typed.get(button["form"], {}).get(name, value) for name, value in forms.fields[button["form"]]}
    if button.get("name"):
        data[button["name"]] = button.get("value", "")
    response = client.post(action, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.slot_id == full.id))
    assert entry is not None and entry.party_size == 3
