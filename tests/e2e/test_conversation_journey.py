"""Two browsers on one conversation against the live server (2 workers): the resident asks from the experience
page, the merchant's open thread page shows it without a reload, the merchant answers, the resident sees the
answer live; each message shows once on each side. Then the resident books, and the talk goes on in the
booking's own thread: "running 10 minutes late" reaches the merchant live."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.checkin_setup import call, photo_bytes, token_of
from tests.e2e.conftest import new_context
from tests.e2e.test_checkin_journey import guard_outside, log_in

pytestmark = pytest.mark.e2e

MAKE_SHOP = """
import json, sys
from datetime import timedelta
from zoneinfo import ZoneInfo
from app import clock, create_app
from app.auth.models import Role
from app.extensions import db
from tests import factories as f
tag = sys.argv[1]
app = create_app()
with app.app_context():
    owner = f.create_user(Role.MERCHANT, email=f"owner-{tag}@chat.test", display_name="Chat Owner")
    store = f.create_store(f.create_business(owner), name="Chat pottery")
    offering = f.create_offering(store, capacity=4)
    local = (clock.now() + timedelta(days=2)).astimezone(ZoneInfo(store.timezone)).replace(minute=0)
    f.create_schedule(offering, [], min_notice_minutes=0, requires_approval=False, exceptions=[
        {"date": local.date().isoformat(), "kind": "extra_slot", "time": local.strftime("%H:%M")}])
    resident = f.create_user(email=f"ann-{tag}@chat.test", display_name="Chat Ann")
    db.session.commit()
    print(json.dumps({"offering": offering.id, "store": store.id, "day": local.date().isoformat(), "owner": owner.email,
                      "resident": resident.email}))
"""


def make_shop() -> dict:
    made = subprocess.run([sys.executable, "-c", MAKE_SHOP, uuid.uuid4().hex[:8]], check=True, capture_output=True,
                          text=True, env={**os.environ, "DATABASE_URL": os.environ["E2E_DATABASE_URL"]}, timeout=60)
    return json.loads(made.stdout.strip().splitlines()[-1])


def test_resident_and_merchant_talk_live(browser: Browser, live_server):
    shop = make_shop()
    resident_ctx, merchant_ctx = new_context(browser), new_context(browser)
    try:
        outside = [guard_outside(resident_ctx), guard_outside(merchant_ctx)]
        resident, merchant = resident_ctx.new_page(), merchant_ctx.new_page()
        log_in(resident, live_server, shop["resident"], "password123", "Chat Ann")
        log_in(merchant, live_server, shop["owner"], "password123", "Chat Owner")
        experience = f"{live_server}/experiences/{shop['offering']}"
        resident.goto(experience)
        resident.get_by_test_id("ask-shop").click()
        resident.wait_for_url("**/conversations/*")
        merchant.goto(resident.url)
        resident.locator("#send-body").fill("Is the 14:00 class in English?")
        resident.get_by_role("button", name="Send").click()
        expect(merchant.locator("#thread [data-seq]")).to_have_count(1)  # no reload
        expect(merchant.locator("#thread")).to_contain_text("Is the 14:00 class in English?")
        merchant.locator("#send-body").fill("Yes, in English and Chinese.")
        merchant.get_by_role("button", name="Send").click()
        expect(resident.locator("#thread")).to_contain_text("Yes, in English and Chinese.")
        resident.wait_for_timeout(1500)  # a stream event arriving after the send's own answer must not repeat it
        expect(resident.locator("#thread [data-seq]")).to_have_count(2)
        expect(merchant.locator("#thread [data-seq]")).to_have_count(2)

        # The resident books; the booking has its own thread, and the talk goes on there, live.
        resident.goto(f"{experience}?day={shop['day']}#book")
        resident.locator("#book-form").get_by_role("button", name="Book").click()
        resident.wait_for_url("**/bookings/*")
        resident.get_by_test_id("booking-messages").click()
        resident.wait_for_url("**/conversations/*")
        merchant.goto(resident.url)
        resident.locator("#send-body").fill("Running 10 minutes late, sorry!")
        resident.locator("#send-photos").set_input_files(
            files=[{"name": "traffic.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}])
        resident.get_by_role("button", name="Send").click()
        expect(merchant.locator("#thread")).to_contain_text("Running 10 minutes late, sorry!")  # no reload
        expect(merchant.locator("#thread [data-seq]")).to_have_count(1)
        expect(merchant.locator("#thread .msg-photos img")).to_have_count(1)  # the photo came with it
        assert outside == [[], []]  # nothing left this machine
    finally:
        resident_ctx.close()
        merchant_ctx.close()


def test_the_merchants_inbox_lists_a_new_conversation_live(browser: Browser, live_server):
    shop = make_shop()
    merchant_ctx = new_context(browser)
    try:
        outside = guard_outside(merchant_ctx)
        merchant = merchant_ctx.new_page()
        log_in(merchant, live_server, shop["owner"], "password123", "Chat Owner")
        merchant.goto(f"{live_server}/merchant/stores/{shop['store']}/conversations")
        threads = merchant.get_by_test_id("threads")
        expect(threads).to_contain_text("No conversations yet.")
        merchant.wait_for_timeout(1000)  # the page's stream is open
        token = token_of(live_server, shop["resident"], "password123")
        started = call(live_server, "POST", "/api/v1/conversations",
                       {"store_id": shop["store"], "offering_id": shop["offering"]}, token=token)
        assert started.status in (200, 201), started.body
        sent = call(live_server, "POST", f"/api/v1/conversations/{started.body['id']}/messages",
                    {"body": "Do you have a class for two on Sunday?"}, token=token)
        assert sent.status == 201, sent.body
        row = threads.locator(f"[data-conversation-id='{started.body['id']}']")
        expect(row).to_contain_text("Chat Ann")  # no reload
        expect(row.get_by_test_id("unread")).to_be_visible()
        assert outside == []
    finally:
        merchant_ctx.close()
