"""The escaping walk: markup and script stored in every user text field, every page that shows it opened in
Chromium with a dialog listener: no dialog ever opens, no injected element exists, the text reads literally.

The rows go straight into the live server's database (this run's own, see conftest.py) through
tests/factories.py, each text field holding its own label and PAYLOAD: display names, business and store
names, addresses, descriptions, experience titles, descriptions and policy text, booking notes, cancel
reasons, hours-exception notes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page

from app import clock

pytestmark = pytest.mark.e2e

PAYLOAD = "<img src=x onerror=alert(1)></script>${alert(2)}"  # fits the shortest field (names: 80)


def tainted(label: str) -> str:
    return f"{label} {PAYLOAD}"


@dataclass
class Planted:
    owner_email: str
    resident_email: str
    business_id: int
    store_id: int
    offering_id: int
    booking_id: int


@pytest.fixture(scope="module")
def planted(live_server) -> Planted:
    """Write the tainted rows into the live server's database, committed."""
    from app import create_app
    from app.auth.models import Role
    from app.config import TestConfig
    from app.extensions import db
    from app.merchants.models import HoursException
    from tests import factories as f

    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = os.environ["E2E_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
    app = create_app(config)
    tag = os.getpid()
    with app.app_context():
        owner = f.create_merchant(email=f"escape-owner-{tag}@e2e.onsite", display_name=tainted("Owner"))
        business = f.create_business(owner, name=tainted("Business"), description=tainted("Business description"))
        store = f.create_store(business, name=tainted("Store"), address=tainted("Address"))
        db.session.add(HoursException(store_id=store.id, day=date(2031, 2, 1), is_closed=True,
                                      note=tainted("Holiday note")))
        offering = f.create_offering(store, title=tainted("Title"), description=tainted("Description"),
                                     policy_text=tainted("Policy"), capacity=6)
        f.add_staff(store, f.create_user(Role.STAFF, email=f"escape-staff-{tag}@e2e.onsite",
                                         display_name=tainted("Staff")))
        resident = f.create_user(email=f"escape-resident-{tag}@e2e.onsite", display_name=tainted("Resident"))
        day = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
        booking = f.create_booking(f.create_slot(offering, day), resident, note=tainted("Note"))
        f.create_booking(f.create_slot(offering, day + timedelta(days=1)), resident, status="cancelled_by_merchant",
                         note=tainted("Cancelled note"), cancel_reason=tainted("Cancel reason"))
        db.session.commit()
        result = Planted(owner.email, resident.email, business.id, store.id, offering.id, booking.id)
        db.session.remove()  # give back the connection reading those ids took, then close the pool
        db.engine.dispose()
    return result


def _login(page: Page, base: str, email: str) -> None:
    page.goto(base + "/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "password123")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/auth/login" not in page.url, f"could not log in as {email}"


def _walk(page: Page, base: str, paths: list[str]) -> list[str]:
    """Open each page; return what went wrong (dialogs, injected elements, payload not shown literally)."""
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(f"{page.url}: {dialog.type} {dialog.message!r}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    problems = []
    for path in paths:
        response = page.goto(base + path)
        page.wait_for_load_state("networkidle")
        status = response.status if response else None
        if status != 200:
            problems.append(f"{path}: status {status}")
            continue
        injected = page.locator("img[src='x']").count()
        if injected:
            problems.append(f"{path}: {injected} injected element(s)")
        text = page.locator("body").inner_text() + " ".join(
            page.locator("input, textarea").evaluate_all("els => els.map(e => e.value)"))
        if PAYLOAD not in text:
            problems.append(f"{path}: the stored text is not shown literally")
    page.remove_listener("dialog", on_dialog)
    return problems + dialogs


def test_residents_and_visitors_see_stored_markup_as_text(page: Page, live_server: str, planted: Planted):
    public = [f"/experiences/{planted.offering_id}", f"/stores/{planted.store_id}",
              f"/explore?q={planted.offering_id}"]
    problems = _walk(page, live_server, public[:2])
    _login(page, live_server, planted.resident_email)
    problems += _walk(page, live_server, [*public[:2], f"/bookings/{planted.booking_id}", "/me/visits",
                                          "/auth/account"])
    assert not problems, "\n".join(problems)


def test_the_store_sees_stored_markup_as_text(page: Page, live_server: str, planted: Planted):
    _login(page, live_server, planted.owner_email)
    problems = _walk(page, live_server, [
        "/merchant/", f"/merchant/businesses/{planted.business_id}/edit", f"/merchant/stores/{planted.store_id}/edit",
        f"/merchant/stores/{planted.store_id}/hours", f"/merchant/stores/{planted.store_id}/staff",
        f"/merchant/stores/{planted.store_id}/bookings", f"/merchant/stores/{planted.store_id}/checkin",
        f"/merchant/experiences/{planted.offering_id}/edit", f"/merchant/experiences/{planted.offering_id}/schedule",
        f"/bookings/{planted.booking_id}", f"/stores/{planted.store_id}", f"/experiences/{planted.offering_id}"])
    assert not problems, "\n".join(problems)
