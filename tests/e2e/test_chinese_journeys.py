"""Journey 1 (find and book) and the counter's check-in, in a Chinese browser: every label the test
touches is read from the zh_CN catalogue and must be Chinese, and so are the dates the pages show."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.support import Translations
from playwright.sync_api import Browser, expect

from tests.e2e.checkin_setup import DEMO_RESIDENT, DEMO_STAFF, archive, demo_studio, open_visit, token_of
from tests.e2e.conftest import new_context
from tests.e2e.test_booking_journey import own_experience

pytestmark = pytest.mark.e2e
TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"
HAN = re.compile(r"[\u4e00-\u9fff]")


@cache
def _catalogue() -> Translations:
    return Translations.load(str(TRANSLATIONS), ["zh_CN"])


def zh(msgid: str, **params) -> str:
    """The Chinese of an English msgid, as the pages show it; fails when it is not translated."""
    text = _catalogue().gettext(msgid)
    assert text != msgid and HAN.search(text), f"{msgid!r} has no Chinese translation"
    return text % params if params else text


def log_in_in_chinese(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/auth/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_label(zh("E-mail")).fill(email)
    page.get_by_label(zh("Password")).fill(password)
    page.get_by_role("button", name=zh("Log in")).click()
    expect(page.get_by_role("button", name=zh("Log out"))).to_be_visible()


def test_a_chinese_resident_finds_and_books_a_visit(browser: Browser, live_server: str):
    title, offering_id, (booked, *_rest) = own_experience(live_server)
    context = new_context(browser, locale="zh-CN")
    try:
        page = context.new_page()
        log_in_in_chinese(page, live_server, *DEMO_RESIDENT)
        expect(page.get_by_role("link", name=zh("My visits"))).to_be_visible()

        page.goto(live_server + "/explore")
        page.get_by_label(zh("Search")).fill(title)
        page.get_by_label(zh("Search")).press("Enter")
        page.get_by_test_id("results").get_by_role("link", name=title).click()
        expect(page).to_have_url(re.compile(rf"/experiences/{offering_id}$"))

        day = page.locator(f"nav a[data-day='{booked['starts_at'][:10]}']")
        expect(day).to_contain_text("月")  # 12月1日 周二, not "Tue 01 Dec"
        day.click()
        page.locator(f"#slot-{booked['id']}").check(force=True)
        page.get_by_label(zh("People")).fill("2")
        page.get_by_role("button", name=zh("Book"), exact=True).click()

        expect(page).to_have_url(re.compile(r"/bookings/\d+$"))
        expect(page.get_by_test_id("status")).to_have_text(zh("Confirmed"))
        when = page.get_by_test_id("when").inner_text()
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", when) and booked["starts_at"][11:16] in when, when
        expect(page.locator("main")).to_contain_text("¥")
        page.get_by_role("button", name=zh("Cancel booking")).click()
        expect(page.get_by_test_id("status")).to_have_text(HAN)
    finally:
        context.close()


def test_staff_check_a_visitor_in_at_a_chinese_counter(browser: Browser, live_server: str):
    studio = demo_studio(live_server)
    due = open_visit(live_server, studio, token_of(live_server, *DEMO_RESIDENT), minutes_ahead=10)
    context = new_context(browser, locale="zh-CN", timezone_id="UTC")
    try:
        page = context.new_page()
        log_in_in_chinese(page, live_server, *DEMO_STAFF)
        day = due.booking["slot"]["starts_at"][:10]
        page.goto(f"{live_server}/merchant/stores/{due.store['id']}/checkin?day={day}")
        result = page.get_by_test_id("checkin-result")
        page.get_by_role("button", name=zh("Check in"), exact=True).click()
        expect(result).to_have_text(HAN)  # an empty code is answered, in Chinese

        title = due.booking["offering"]["title"]
        expect(page.get_by_test_id("roster-expected")).to_contain_text(title)
        page.get_by_label(zh("Visitor's code")).fill(due.code)
        page.get_by_role("button", name=zh("Check in"), exact=True).click()
        expect(result).to_contain_text(zh("Checked in"))
        expect(page.get_by_test_id("roster-arrived")).to_contain_text(title)
    finally:
        context.close()
        archive(live_server, studio, due)
