"""How times, days and distances read in each language (app.i18n), whatever the machine's zone."""

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale

from app.i18n import format_day, format_distance, format_when, normalise

AT = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 14:00 in Hangzhou, a Saturday


@pytest.mark.parametrize(("value", "locale"), [
    ("zh", "zh_CN"), ("zh-CN", "zh_CN"), ("zh_cn", "zh_CN"), ("zh-Hans-CN", "zh_CN"), ("en", "en"),
    ("en-GB", "en"), ("fr", None), ("", None), (None, None), ("zh-TW", None), ("x" * 40, None),
])
def test_what_a_url_cookie_or_browser_says_maps_to_a_locale(value, locale):
    assert normalise(value) == locale


@pytest.mark.parametrize(("style", "english", "chinese"), [
    ("time", "14:00", "14:00"),
    ("day", "Sat 28 Nov", "11月28日 周六"),
    ("daytime", "Sat 28 Nov, 14:00", "11月28日 周六 14:00"),
    ("date", "28 Nov 2026", "2026年11月28日"),
    ("long", "Saturday 28 November 2026, 14:00", "2026年11月28日 星期六 14:00"),
])
def test_an_instant_reads_on_the_stores_clock_in_each_language(app, style, english, chinese):
    with app.test_request_context():
        with force_locale("en"):
            assert format_when(AT, "Asia/Shanghai", style) == english
        with force_locale("zh_CN"):
            assert format_when(AT, "Asia/Shanghai", style) == chinese


def test_the_same_instant_reads_in_each_stores_own_zone(app):
    with app.test_request_context(), force_locale("en"):
        assert format_when(AT, "America/New_York", "daytime") == "Sat 28 Nov, 01:00"
        assert format_when(AT, "Asia/Shanghai", "time") == "14:00"


def test_a_calendar_day_in_each_language(app):
    with app.test_request_context():
        with force_locale("en"):
            assert format_day(date(2026, 12, 31), "long") == "Thursday 31 December 2026"
            assert format_day(date(2026, 12, 31), "day") == "Thu 31 Dec"
        with force_locale("zh_CN"):
            assert format_day(date(2026, 12, 31), "long") == "2026年12月31日 星期四"
            assert format_day(date(2026, 12, 31), "day") == "12月31日 周四"


@pytest.mark.parametrize(("metres", "english", "chinese"), [
    (42, "42 m", "42 米"), (349, "350 m", "350 米"), (1234, "1.2 km", "1.2 公里"), (15000, "15 km", "15 公里"),
])
def test_distances_in_each_language(app, metres, english, chinese):
    with app.test_request_context():
        with force_locale("en"):
            assert format_distance(metres) == english
        with force_locale("zh_CN"):
            assert format_distance(metres) == chinese
