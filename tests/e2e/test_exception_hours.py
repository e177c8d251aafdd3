"""Issue 11, bug 2 in real Chromium: a dated exception with special hours saves those hours (it used to save
"closed": the "Closed all day" box was ticked by default), and closed-all-day with hours typed is refused
with a message while what was typed stays in the form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

HALF_DAY = "2031-12-23"  # far after the run's instant: no other test's day changes
REFUSED_DAY = "2031-12-24"


def log_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_be_visible()


def test_exception_hours_are_saved_and_contradictions_refused_without_losing_input(page: Page, live_server: str,
                                                                                  outside_requests):
    log_in(page, live_server, "merchant@demo.onsite", "demo-merchant-pass")
    page.goto(live_server + "/merchant/")
    page.get_by_role("link", name="Hours", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/merchant/stores/\d+/hours$"))
    hours_url = page.url

    form = page.locator("#exception-form")
    closed = form.get_by_label("Closed all day")
    expect(closed).not_to_be_checked()  # typed hours are never overridden by a default

    form.get_by_label("Date").fill(HALF_DAY)
    form.get_by_label("Opens", exact=True).fill("12:00")
    form.get_by_label("Closes", exact=True).fill("16:00")
    form.get_by_label("Note").fill("Half day test")
    form.get_by_role("button", name="Add exception").click()

    expect(page.get_by_text("Exception saved.")).to_be_visible()
    saved = page.locator(f'[data-exception-day="{HALF_DAY}"]')
    expect(saved).to_contain_text("12:00–16:00")
    expect(saved).to_contain_text("Half day test")
    expect(saved).not_to_contain_text("closed")

    # Closed all day and hours typed: refused, said why, and the form still holds everything typed.
    form.get_by_label("Date").fill(REFUSED_DAY)
    form.get_by_label("Opens", exact=True).fill("10:00")
    form.get_by_label("Closes", exact=True).fill("14:00")
    form.get_by_label("Note").fill("Christmas Eve")
    closed.check()
    form.get_by_role("button", name="Add exception").click()

    expect(page.get_by_role("alert").filter(has_text="A day closed all day has no hours")).to_be_visible()
    expect(form.get_by_label("Date")).to_have_value(REFUSED_DAY)
    expect(form.get_by_label("Opens", exact=True)).to_have_value("10:00")
    expect(form.get_by_label("Closes", exact=True)).to_have_value("14:00")
    expect(form.get_by_label("Note")).to_have_value("Christmas Eve")
    expect(closed).to_be_checked()
    expect(page.locator(f'[data-exception-day="{REFUSED_DAY}"]')).to_have_count(0)
    expect(page.locator(f'[data-exception-day="{HALF_DAY}"]')).to_contain_text("12:00–16:00")  # untouched

    # Leave the demo store as it was.
    page.goto(hours_url)
    page.locator(f'[data-exception-day="{HALF_DAY}"]').get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Exception removed.")).to_be_visible()
    expect(page.locator(f'[data-exception-day="{HALF_DAY}"]')).to_have_count(0)
