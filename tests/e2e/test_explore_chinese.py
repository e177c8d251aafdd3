"""The explore page in a Chinese browser (issue 12): what its script writes (the result summary, the map's
count, each result's distance, price and open state, the days offered) comes from the page's zh_CN catalogue,
with numbers and prices formatted for zh-CN."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import new_context

pytestmark = pytest.mark.e2e

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_the_explore_script_speaks_chinese(browser: Browser, live_server: str, outside_requests):
    context = new_context(browser, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(live_server + "/explore")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        summary = page.locator("#result-summary")
        expect(summary).to_have_text(re.compile(r"^[\d.]+ (米|公里) ?内有 \d+\+? 个体验$"))
        expect(page.locator("#map-summary")).to_have_text(re.compile(r"^当前范围内有 [\d,]+ 个体验$"))

        first = page.get_by_test_id("results").locator("li").first
        expect(first).to_contain_text(re.compile(r"\d+(\.\d)? (米|公里)"))
        expect(first).to_contain_text(re.compile("营业中|已打烊"))
        expect(first).to_contain_text(re.compile(r"免费|¥[\d,]+\.\d\d"))

        page.get_by_role("button", name="使用我的位置").click()
        expect(summary).to_contain_text("你附近")
        day = page.get_by_label("什么时候去？")
        expect(day.locator("option").nth(1)).to_have_text("今天")
        expect(day.locator("option").nth(2)).to_have_text("明天")
        expect(day.locator("option").nth(3)).to_have_text(re.compile(r"\d{1,2}月\d{1,2}日"))

        page.get_by_label("地点").fill("Qwxzzy")
        expect(page.locator("#place-results")).to_have_text("没有找到“Qwxzzy”")
        page.get_by_label("最高价格").fill("abc")
        expect(page.locator("#error")).to_contain_text("最高价格：")
        expect(summary).to_have_text("没有结果：请修改上方的搜索条件。")
        for english in ("experiences within", "experiences in view", "Open now", "Closed now", "No results"):
            assert english not in page.locator("body").inner_text(), english
        assert HAN.search(page.locator("#filters").inner_text())
    finally:
        context.close()
