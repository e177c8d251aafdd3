"""Journey 5 (disputes) in real Chromium: a resident whose visit was checked in reports a problem from the
booking's page with a photo; the merchant contests it on the dispute's page; the operator (an admin made with
``flask users create-admin``) upholds it with compensation on the operator page; the resident's "My
compensation" and the business's ledger both show what is owed.

The visit is set up through the API (tests/e2e/checkin_setup.py) and checked in by the demo staff; a dispute
opens at the slot's start, which is minutes away, so the slot is moved an hour into the past in the live
server's database, as if the visit had happened then.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.checkin_setup import (
    DEMO_MERCHANT,
    DEMO_RESIDENT,
    archive,
    call,
    checked_in_visit,
    create_admin,
    demo_studio,
    photo_bytes,
    token_of,
)
from tests.e2e.conftest import new_context
from tests.e2e.test_checkin_journey import guard_outside, log_in

pytestmark = pytest.mark.e2e


def test_a_resident_disputes_the_merchant_contests_the_operator_upholds_with_compensation(
        browser: Browser, page: Page, live_server: str, outside_requests):
    studio = demo_studio(live_server)
    visit = checked_in_visit(live_server, studio, token_of(live_server, *DEMO_RESIDENT))
    operator_email, operator_password = f"operator-{uuid.uuid4().hex[:8]}@e2e.onsite", "harbour-lantern-57"
    create_admin(operator_email, operator_password)
    words = f"The class ended after twenty minutes {uuid.uuid4().hex[:6]}."
    merchant_context, operator_context = new_context(browser), new_context(browser)
    outside = [guard_outside(merchant_context), guard_outside(operator_context)]
    try:
        # The resident reports a problem from the visit's page.
        log_in(page, live_server, *DEMO_RESIDENT, "Demo Resident 示范居民")
        page.goto(f"{live_server}/bookings/{visit.booking['id']}")
        page.get_by_test_id("dispute-link").get_by_role("link", name="Report a problem").click()
        expect(page.get_by_role("heading", name="Report a problem with your visit")).to_be_visible()
        page.get_by_label("What went wrong?").select_option("not_as_described")
        page.get_by_label("What happened").fill(words)
        page.get_by_label("A refund at the store").check()
        page.get_by_label("Amount (CNY)").fill("100")
        page.get_by_label("Photos (optional)").set_input_files(
            files=[{"name": "clock.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}])
        page.get_by_role("button", name="Open dispute").click()
        expect(page.get_by_text("Your dispute is open.")).to_be_visible()
        expect(page.get_by_test_id("dispute-status")).to_have_text("Waiting for the store's answer")
        expect(page.get_by_test_id("deadline")).to_contain_text("(store time)")
        expect(page.get_by_test_id("resident-side").locator("img")).to_have_count(1)
        dispute_url = page.url
        dispute_id = int(dispute_url.rstrip("/").rsplit("/", 1)[1])

        # The merchant contests it from the store's disputes.
        merchant = merchant_context.new_page()
        log_in(merchant, live_server, *DEMO_MERCHANT, "Demo Merchant 示范商家")
        merchant.goto(f"{live_server}/merchant/stores/{visit.store['id']}/disputes")
        merchant.locator(f"a[href='/disputes/{dispute_id}']").click()
        form = merchant.get_by_test_id("answer-form")
        form.get_by_label("Contest: give your side; Onsite decides").check()
        form.get_by_label("Your message to the resident (required to contest)").fill(
            "The class ran the full hour; the sign-in sheet shows it.")
        form.get_by_role("button", name="Send answer").click()
        expect(merchant.get_by_text("Your side is sent: Onsite's operator will decide.")).to_be_visible()
        expect(merchant.get_by_test_id("dispute-status")).to_have_text("With Onsite for a decision")

        # The operator upholds it with compensation.
        operator = operator_context.new_page()
        log_in(operator, live_server, operator_email, operator_password, "E2E Operator")
        operator.goto(f"{live_server}/operator/disputes")
        operator.locator(f"a[href='/disputes/{dispute_id}']").click()
        expect(operator.get_by_test_id("store-side")).to_contain_text("sign-in sheet")
        decide = operator.get_by_test_id("decide-form")
        decide.get_by_label("Uphold").check()
        decide.get_by_label(re.compile("Compensation Onsite pays now")).fill("60")
        decide.get_by_label("Reasons (both sides see them)").fill("The store's own records show a short class.")
        decide.get_by_role("button", name="Record decision").click()
        expect(operator.get_by_text("Decision recorded; both sides are told.")).to_be_visible()
        expect(operator.locator(f"a[href='/disputes/{dispute_id}']")).to_have_count(0)

        # Both ledgers show it.
        page.goto(f"{live_server}/me/compensation")
        expect(page.get_by_test_id("balances")).to_contain_text("You are owed")
        expect(page.get_by_test_id("balances")).to_contain_text("60")
        mine = page.get_by_test_id("entry").filter(has_text="advance compensation")
        expect(mine).to_have_count(1)
        page.goto(dispute_url)
        expect(page.get_by_test_id("dispute-status")).to_have_text("Upheld by Onsite")
        expect(page.get_by_test_id("decision")).to_contain_text("short class")

        merchant.goto(f"{live_server}/merchant/stores/{visit.store['id']}/disputes")
        merchant.get_by_role("link", name="Your business's ledger").click()
        expect(merchant.get_by_test_id("balances")).to_contain_text("Your business owes")
        expect(merchant.get_by_test_id("entry").filter(has_text="recovery of advance compensation")).to_have_count(1)
        owed = call(live_server, "GET", "/api/v1/me/compensation", token=token_of(live_server, *DEMO_RESIDENT))
        assert any(e["dispute_id"] == dispute_id and e["reason"] == "advance_compensation" and e["amount"] == "60.00"
                   for e in owed.body["entries"]), owed.body
    finally:
        merchant_context.close()
        operator_context.close()
        archive(live_server, studio, visit)
    assert outside_requests == []
    assert outside == [[], []]
