"""The booking pages in Chinese: a visit's page, the store's day, the counter and the inbox read in zh_CN,
dates as Chinese readers write them, on the store's clock; notices go out in the recipient's language."""

from __future__ import annotations

import re
from datetime import date
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bookings.models import Notification
from tests import factories as f
from tests.web._bookings_world import World, build_world

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = "一二三四五六日"


@pytest.fixture
def world(db) -> World:
    return build_world()


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return unescape(response.get_data(as_text=True))


def zh_day(moment) -> str:
    """11月28日 周六, as the zh_CN pages write a day."""
    local = moment.astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日 周{WEEKDAYS[local.weekday()]}"


def test_a_visit_page_in_chinese(client, auth, world):
    auth.login(world.resident.email)
    html = html_of(client.get(f"/bookings/{world.booking.id}", headers=ZH))
    start = world.booking.slot.starts_at.astimezone(SHANGHAI)
    assert '<html lang="zh-CN"' in html
    assert f"{start.year}年{start.month}月{start.day}日 星期" in html and f"{start:%H:%M}" in html
    assert "已确认" in html  # the status
    assert "到店付款" in html and "你的核销码" in html
    assert "取消预约" in html
    assert "Pay at the store" not in html and "Confirmed" not in html


def test_the_store_day_and_the_counter_in_chinese(client, auth, world):
    auth.login(world.owner.email)
    day = world.booking.slot.starts_at.astimezone(SHANGHAI).date()
    store_day = html_of(client.get(f"/merchant/stores/{world.store.id}/bookings?day={day.isoformat()}&lang=zh_CN"))
    assert f"{day.year}年{day.month}月{day.day}日 星期" in store_day
    assert "预约" in store_day and "前一天" in store_day and "已确认" in store_day

    counter = html_of(client.get(f"/merchant/stores/{world.store.id}/checkin", headers=ZH))
    roster_day = date.fromisoformat(re.search(r'data-day="([\d-]+)"', counter).group(1))
    assert f"{roster_day.month}月{roster_day.day}日 周{WEEKDAYS[roster_day.weekday()]}" in counter
    assert "顾客核销码" in counter and "记录收款" in counter and "待到店" in counter
    assert "Visitor's code" not in counter and "Expected" not in counter


def test_the_booking_widget_and_my_visits_in_chinese(client, auth, world):
    auth.login(world.resident.email)
    day = world.slot.starts_at.astimezone(SHANGHAI).date()
    widget = html_of(client.get(f"/experiences/{world.offering.id}?day={day.isoformat()}", headers=ZH))
    assert "预约到店" in widget and "人数" in widget and f"{day.month}月{day.day}日" in widget
    visits = html_of(client.get("/me/visits", headers=ZH))
    assert "我的预约" in visits and zh_day(world.booking.slot.starts_at) in visits


def test_notices_are_written_in_the_recipients_language(client, auth, world, db):
    world.owner.locale = "zh_CN"  # the merchant reads Chinese; the resident books from an English page
    db.session.flush()
    auth.login(world.users["other_resident"].email)
    response = auth.post("/bookings", {"offering_id": world.offering.id, "slot_id": world.free_slot.id,
                                       "party_size": "1"}, headers={"Accept-Language": "en"})
    assert response.status_code == 302
    to_owner = db.session.scalar(select(Notification).where(Notification.user_id == world.owner.id)
                                 .order_by(Notification.id.desc()))
    to_resident = db.session.scalar(select(Notification).where(
        Notification.user_id == world.users["other_resident"].id).order_by(Notification.id.desc()))
    start = world.free_slot.starts_at.astimezone(SHANGHAI)
    assert to_owner.title.startswith("新预约") and f"{start.year}年{start.month}月{start.day}日 星期" in to_owner.body
    assert to_resident.title.startswith("Booked: ")
    inbox = html_of(client.get("/me/inbox", headers=ZH))
    assert "消息" in inbox and "(Asia/Shanghai)" in inbox


def test_api_messages_follow_accept_language(client, world):
    answer = client.post("/api/v1/checkins", json={"code": "ZZZZZZZZ", "store_id": world.store.id},
                         headers={**f.token_for(world.owner), **ZH})
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_code"  # codes stay English identifiers
    assert error["message"] == "这个核销码无效。"
