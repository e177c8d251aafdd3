"""The catalogue's pages in Chinese (issue 12): /explore, an experience, a store, the merchant's pages and the
messages their services and APIs answer with, for a browser that asks for zh-CN (or ?lang=zh_CN)."""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from html import unescape

import pytest

from app.offerings.models import CATEGORY_LABELS, Category, category_names
from tests import factories as f

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


def text_of(response) -> str:
    """What the page says: its tags taken out, entities read, spaces folded."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def studio(db):
    owner = f.create_merchant(display_name="Lin Mei")
    store = f.create_store(f.create_business(owner, name="湖畔陶艺"), name="湖畔陶艺 · 南山路")
    offering = f.create_offering(store, title="拉坯体验", category=Category.CLASS, duration_min=90, capacity=6,
                                 price_amount=Decimal("168.00"))
    free = f.create_offering(store, title="茶艺分享", category=Category.FOOD, price_amount=Decimal("0"))
    return {"owner": owner, "store": store, "offering": offering, "free": free}


def test_explore_in_chinese(client, studio):
    page = text_of(client.get("/explore", headers=ZH))
    for words in ("附近的体验", "距离最近", "最佳匹配", "营业中", "免费", "什么时候去？", "全部类别", "美食品鉴",
                  "课程工作坊", "搜索此区域", "2 人"):
        assert words in page, words
    for english in ("Best match", "Nearest", "All categories", "When can I go?", "Search this area"):
        assert english not in page, english


def test_explore_with_lang_in_the_url(client, studio):
    page = text_of(client.get("/explore?lang=zh_CN", headers={"Accept-Language": "en"}))
    assert "附近的体验" in page and "距离最近" in page


def test_an_experience_page_in_chinese(client, studio, clock):
    offering = studio["offering"]
    page = text_of(client.get(f"/experiences/{offering.id}", headers=ZH))
    for words in ("课程工作坊", "到店付款：¥168.00", "90 分钟", "每场最多 6 人", "预约须知", "小时可免费取消",
                  "线上无需付款，到店付款即可。"):
        assert words in page, words
    assert "营业中" in page or "已打烊" in page
    assert "Booking policy" not in page and "per slot" not in page

    free = text_of(client.get(f"/experiences/{studio['free'].id}", headers=ZH))
    assert "免费" in free and "美食品鉴" in free


def test_a_store_page_in_chinese(client, studio):
    store = studio["store"]
    f.set_hours(store, [(0, time(18), time(2)), (1, time(10), time(20))])
    page = text_of(client.get(f"/stores/{store.id}", headers=ZH))
    for words in ("营业时间", "周一", "18:00–02:00（次日）", "周三 休息", "体验", "拉坯体验"):
        assert words in page, words


def test_the_merchant_pages_in_chinese(auth, studio):
    store = studio["store"]
    auth.login(studio["owner"].email)
    dashboard = text_of(auth.client.get("/merchant/", headers=ZH))
    for words in ("我的门店", "新建商家", "编辑门店", "营业时间", "店员", "上架体验", "下架"):
        assert words in dashboard, words

    hours = text_of(auth.client.get(f"/merchant/stores/{store.id}/hours", headers=ZH))
    for words in ("营业时间 · 湖畔陶艺 · 南山路", "开门时间", "关门时间", "全天休息", "添加特殊日期", "保存营业时间"):
        assert words in hours, words

    form = text_of(auth.client.get(f"/merchant/stores/{store.id}/experiences/new", headers=ZH))
    for words in ("上架体验", "标题", "到店付款金额", "每场人数", "预约须知", "照片（可选）"):
        assert words in form, words

    refused = auth.post(f"/merchant/businesses/{store.business_id}/stores/new",
                        {"name": "", "lat": "", "lng": "", "timezone": "Asia/Shanghai"}, headers=ZH)
    assert refused.status_code == 422
    assert "请在地图上点选，或输入纬度。" in text_of(refused)


def test_a_resident_reads_what_becoming_a_merchant_means_in_chinese(auth, db):
    resident = f.create_user()
    auth.login(resident.email)
    page = text_of(auth.client.get("/merchant/businesses/new", headers=ZH))
    assert "成为商家意味着什么" in page and "创建你的商家" in page and "商家名称" in page


def test_flash_messages_in_chinese(auth, studio):
    store = studio["store"]
    auth.login(studio["owner"].email)
    saved = auth.post(f"/merchant/stores/{store.id}/exceptions",
                      {"day": "2031-12-23", "opens": "12:00", "closes": "16:00"}, headers=ZH,
                      follow_redirects=True)
    assert "特殊营业时间已保存。" in text_of(saved)
    refused = auth.post(f"/merchant/stores/{store.id}/exceptions",
                        {"day": "2031-12-24", "is_closed": "y", "opens": "12:00", "closes": "16:00"}, headers=ZH,
                        follow_redirects=True)
    assert "全天休息的日子没有营业时间" in text_of(refused)


def test_api_messages_follow_accept_language(client, studio):
    owner, store = studio["owner"], studio["store"]
    headers = {**f.token_for(owner), **ZH}
    answer = client.patch(f"/api/v1/stores/{store.id}", headers=headers,
                          json={"hours": [{"weekday": 0, "opens": "10:00", "closes": "20:00"},
                                          {"weekday": 0, "opens": "12:00", "closes": "14:00"}]})
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "validation_failed"
    assert answer.json["error"]["details"] == {"hours": "周一的时段有重叠"}

    # geo/ speaks English; the API answers in the caller's language.
    box = client.get("/api/v1/offerings/in-view?min_lng=120.2&max_lng=120.1&min_lat=30.2&max_lat=30.3",
                     headers=ZH)
    assert box.status_code == 422
    assert box.json["error"]["details"] == {"max_lng": ["必须大于 min_lng。"]}

    # A price typed in the explore page's box.
    price = client.get("/api/v1/offerings/nearby?lat=30.25&lng=120.15&max_price=abc", headers=ZH)
    assert price.status_code == 422
    assert price.json["error"]["details"] == {"max_price": ["不是有效的数字。"]}


def test_categories_have_names_in_both_languages(app):
    with app.test_request_context(headers=ZH):
        assert str(CATEGORY_LABELS[Category.FOOD]) == "美食品鉴"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert str(CATEGORY_LABELS[Category.FOOD]) == "Food & tasting"
        for category in Category:
            english, chinese = category_names(category)
            assert english != chinese and re.search(r"[\u4e00-\u9fff]", chinese), category


def test_an_experience_is_found_by_its_category_in_chinese(client, studio):
    found = client.get(f"/api/v1/offerings/nearby?lat={30.2460}&lng={120.1490}&q=课程").json["items"]
    assert [item["id"] for item in found] == [studio["offering"].id]
