"""The operator's console in real Chromium: an admin (made with ``flask users create-admin``) finds an escalated
dispute in the console's queue and decides it, then suspends a city merchant from its console page: its
experience's page answers 404 to a resident and drops out of the resident's search; reinstating brings it back.

The dispute is set up through the API: the demo resident's checked-in visit (moved an hour into the past),
disputed and contested by the demo merchant, which sends it to the operator.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.checkin_setup import (
    DEMO_RESIDENT,
    archive,
    call,
    checked_in_visit,
    create_admin,
    demo_studio,
    token_of,
)
from tests.e2e.conftest import new_context
from tests.e2e.test_checkin_journey import guard_outside, log_in

pytestmark = pytest.mark.e2e


def escalated_dispute(base: str, studio, resident_token: str):
    visit = checked_in_visit(base, studio, resident_token)
    opened = call(base, "POST", f"/api/v1/bookings/{visit.booking['id']}/dispute",
                  {"reason": "not_as_described", "description": "Half the class was missing.", "asks": "apology"},
                  token=resident_token)
    assert opened.status == 201, opened.body
    dispute_id = opened.body["id"]
    contested = call(base, "POST", f"/api/v1/disputes/{dispute_id}/answer",
                     {"action": "contest", "message": "The class ran the full hour as listed."},
                     token=studio.merchant_token)
    assert contested.status == 200 and contested.body["status"] == "escalated", contested.body  # contesting escalates
    return visit, dispute_id


def city_merchant(base: str, admin_token: str) -> tuple[dict, dict]:
    """An active city merchant (not the demo studio) and one of its listed experiences."""
    merchants = call(base, "GET", "/api/v1/admin/merchants?status=active&q=%20", token=admin_token)
    assert merchants.status == 200, merchants.body
    for merchant in merchants.body["items"]:
        if merchant["name"].startswith("Onsite Demo Studio"):
            continue
        stores = call(base, "GET", f"/api/v1/stores?business_id={merchant['id']}&limit=10").body["items"]
        for store in stores:
            offerings = call(base, "GET", f"/api/v1/offerings?store_id={store['id']}").body
            items = offerings["items"] if isinstance(offerings, dict) else offerings
            if items:
                return merchant, items[0]
    raise AssertionError("no city merchant with a listed experience")


def listed(page: Page, base: str, offering: dict) -> bool:
    near = page.request.get(f"{base}/api/v1/offerings/nearby?lng={offering['lng']}&lat={offering['lat']}"
                            f"&radius_m=300&limit=50")
    assert near.ok, near.text()
    return offering["id"] in [item["id"] for item in near.json()["items"]]


def test_an_admin_decides_a_dispute_and_suspends_then_reinstates_a_merchant(
        browser: Browser, page: Page, live_server: str, outside_requests):
    studio = demo_studio(live_server)
    resident_token = token_of(live_server, *DEMO_RESIDENT)
    visit, dispute_id = escalated_dispute(live_server, studio, resident_token)
    email, password = f"console-{uuid.uuid4().hex[:8]}@e2e.onsite", "quiet-harbour-93"
    create_admin(email, password)
    admin_token = token_of(live_server, email, password)
    merchant, offering = city_merchant(live_server, admin_token)
    admin_context = new_context(browser)
    outside = guard_outside(admin_context)
    try:
        log_in(page, live_server, *DEMO_RESIDENT, "Demo Resident 示范居民")
        assert page.goto(f"{live_server}/experiences/{offering['id']}").status == 200
        assert listed(page, live_server, offering)

        admin = admin_context.new_page()
        log_in(admin, live_server, email, password, "E2E Operator")
        admin.goto(f"{live_server}/admin")
        admin.get_by_test_id("admin-nav").get_by_role("link", name="Queues").click()
        admin.get_by_test_id("queue-disputes-list").locator(f"a[href='/disputes/{dispute_id}']").click()
        decide = admin.get_by_test_id("decide-form")
        decide.get_by_label("Reject").check()
        decide.get_by_label("Reasons (both sides see them)").fill("The sign-in sheet shows the full hour.")
        decide.get_by_role("button", name="Record decision").click()
        expect(admin.get_by_text("Decision recorded; both sides are told.")).to_be_visible()

        admin.goto(f"{live_server}/admin/merchants")
        admin.get_by_role("searchbox").fill(merchant["name"])
        admin.get_by_role("button", name="Search").click()
        admin.get_by_test_id("merchants").get_by_role("link", name=merchant["name"]).click()
        expect(admin).to_have_url(f"{live_server}/admin/merchants/{merchant['id']}")
        suspend = admin.get_by_test_id("form-suspend")
        suspend.get_by_role("textbox").fill("Charged residents more than the listed price.")
        suspend.get_by_role("button", name="Suspend").click()
        expect(admin.get_by_test_id("suspended-badge")).to_be_visible()
        expect(admin.get_by_test_id("audit-log")).to_contain_text("Charged residents more")

        assert page.goto(f"{live_server}/experiences/{offering['id']}").status == 404
        assert not listed(page, live_server, offering)

        reinstate = admin.get_by_test_id("form-reinstate")
        reinstate.get_by_role("textbox").fill("Refunds made; promised to keep to listed prices.")
        reinstate.get_by_role("button", name="Reinstate").click()
        expect(admin.get_by_test_id("suspended-badge")).to_have_count(0)

        assert page.goto(f"{live_server}/experiences/{offering['id']}").status == 200
        assert listed(page, live_server, offering)
    finally:
        now = call(live_server, "GET", f"/api/v1/admin/merchants/{merchant['id']}", token=admin_token)
        if now.body["merchant"]["status"] == "suspended":  # never leave the shared city with a merchant hidden
            call(live_server, "POST", f"/api/v1/admin/merchants/{merchant['id']}/reinstate",
                 {"reason": "end of the journey"}, token=admin_token)
        admin_context.close()
        archive(live_server, studio, visit)
    assert outside_requests == []
    assert outside == []
