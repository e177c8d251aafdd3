"""Pure domain rules: prices, image sniffing, opening hours, settings. No database.

Redirect targets: tests/unit/test_safe_redirect.py."""

from __future__ import annotations

import importlib.util
import stat
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from app.errors import ValidationFailed
from app.merchants.hours import intervals_on, is_open_at
from app.merchants.models import HoursException, OpeningHours, Store
from app.merchants.services import _clean_hours, parse_time
from app.offerings.services import clean_price

# -- clean_price -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("88", Decimal("88.00")),
        ("88.5", Decimal("88.50")),
        ("88.50", Decimal("88.50")),
        (" 88 ", Decimal("88.00")),
        ("0", Decimal("0.00")),
        ("0.00", Decimal("0.00")),
        ("-0", Decimal("0.00")),
        ("1e3", Decimal("1000.00")),
        ("0.01", Decimal("0.01")),
        ("99999999.99", Decimal("99999999.99")),
        (88, Decimal("88.00")),
        (0, Decimal("0.00")),
        (88.5, Decimal("88.50")),
        (Decimal("12.3"), Decimal("12.30")),
    ],
)
def test_clean_price_accepts_amounts(value, expected):
    amount = clean_price(value)
    assert amount == expected
    assert str(amount) == str(expected)  # two decimals, and never "-0.00"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "must be an amount such as 88 or 88.50"),
        ("", "must be an amount such as 88 or 88.50"),
        ("88,50", "must be an amount such as 88 or 88.50"),
        ("¥88", "must be an amount such as 88 or 88.50"),
        (None, "must be an amount such as 88 or 88.50"),
        (True, "must be an amount such as 88 or 88.50"),
        ([88], "must be an amount such as 88 or 88.50"),
        ("-1", "must be an amount from 0 to 99999999.99"),
        ("-0.01", "must be an amount from 0 to 99999999.99"),
        (-5, "must be an amount from 0 to 99999999.99"),
        ("100000000", "must be an amount from 0 to 99999999.99"),
        ("1e400", "must be an amount from 0 to 99999999.99"),
        (10**30, "must be an amount from 0 to 99999999.99"),
        ("9" * 500, "must be an amount from 0 to 99999999.99"),
        ("NaN", "must be an amount from 0 to 99999999.99"),
        ("sNaN", "must be an amount from 0 to 99999999.99"),
        ("Infinity", "must be an amount from 0 to 99999999.99"),
        (float("nan"), "must be an amount from 0 to 99999999.99"),
        (float("inf"), "must be an amount from 0 to 99999999.99"),
        ("1.234", "has at most two decimals"),
        ("99999999.985", "has at most two decimals"), ("0.001", "has at most two decimals"),
        ("1e-3", "has at most two decimals"),
        (0.1 + 0.2, "has at most two decimals"),
    ],
)
def test_clean_price_refuses(value, message):
    with pytest.raises(ValueError) as excinfo:
        clean_price(value)
    assert str(excinfo.value) == message


# -- parse_time ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10:00", time(10)),
        ("09:30", time(9, 30)),
        ("00:00", time(0)),
        ("23:59", time(23, 59)),
        ("10:00:30", time(10, 0, 30)),
        (" 08:15 ", time(8, 15)),
        (time(7, 45), time(7, 45)),
    ],
)
def test_parse_time_accepts_hh_mm(value, expected):
    parsed = parse_time(value)
    assert parsed == expected
    assert parsed.tzinfo is None


@pytest.mark.parametrize(
    "value",
    [
        "24:00", "25:00", "10:60", "9:30", "10h", "10.30", "noon", "", "  ", "10:00 am",
        # Other ISO 8601 spellings Python accepts: not HH:MM, and the offsets would make
        # the time aware, which cannot be compared with the naive store-local times.
        "10", "1000", "T10:00", "10:00Z", "10Z", "10:00+08:00", "10:00:00.5",
        None, 1000, 10.5, ["10:00"],
        time(10, tzinfo=UTC),
    ],
)
def test_parse_time_refuses(value):
    with pytest.raises(ValueError):
        parse_time(value)


# -- _clean_hours ----------------------------------------------------------------

def _hours(*rows: tuple) -> list[dict]:
    return [{"weekday": w, "opens": o, "closes": c} for w, o, c in rows]


def test_clean_hours_accepts_a_week():
    cleaned = _clean_hours(_hours(*((d, "10:00", "20:00") for d in range(7))))
    assert cleaned == [(d, time(10), time(20)) for d in range(7)]


def test_clean_hours_lunch_break_gives_two_intervals():
    cleaned = _clean_hours(_hours((2, "14:00", "18:00"), (2, "09:00", "12:00")))
    assert sorted(cleaned) == [(2, time(9), time(12)), (2, time(14), time(18))]


def test_clean_hours_back_to_back_intervals_do_not_overlap():
    cleaned = _clean_hours(_hours((0, "09:00", "12:00"), (0, "12:00", "18:00")))
    assert len(cleaned) == 2


def test_clean_hours_same_times_on_different_days_do_not_overlap():
    assert len(_clean_hours(_hours((0, "09:00", "18:00"), (1, "09:00", "18:00")))) == 2


def test_clean_hours_empty_list_means_closed_all_week():
    assert _clean_hours([]) == []


@pytest.mark.parametrize(
    "rows",
    [
        ((0, "09:00", "13:00"), (0, "12:00", "18:00")),
        ((0, "12:00", "18:00"), (0, "09:00", "13:00")),  # order given does not matter
        ((0, "09:00", "18:00"), (0, "10:00", "11:00")),  # contained
        ((0, "09:00", "18:00"), (0, "09:00", "18:00")),  # duplicated
    ],
)
def test_clean_hours_refuses_overlap(rows):
    with pytest.raises(ValidationFailed) as excinfo:
        _clean_hours(_hours(*rows))
    assert excinfo.value.code == "validation_failed"
    assert excinfo.value.details == {"hours": "intervals overlap on Mon"}


def test_clean_hours_names_the_day_of_the_overlap():
    with pytest.raises(ValidationFailed) as excinfo:
        _clean_hours(_hours((0, "09:00", "12:00"), (6, "09:00", "13:00"), (6, "12:30", "18:00")))
    assert excinfo.value.details == {"hours": "intervals overlap on Sun"}


@pytest.mark.parametrize(("opens", "closes"), [("18:00", "10:00"), ("10:00", "10:00"), ("10:00", "00:00")])
def test_clean_hours_takes_closing_at_or_before_opening_as_the_next_day(opens, closes):
    # Overnight and 24-hour intervals: tests/unit/test_opening_hours.py.
    assert _clean_hours(_hours((0, "09:00", "12:00"), (3, opens, closes)))[1] == (3, parse_time(opens),
                                                                               parse_time(closes))


@pytest.mark.parametrize("weekday", [7, -1, 100, True, "1", 1.0, None])
def test_clean_hours_refuses_weekday_outside_monday_to_sunday(weekday):
    with pytest.raises(ValidationFailed) as excinfo:
        _clean_hours(_hours((weekday, "09:00", "12:00")))
    assert excinfo.value.details == {"hours[0]": "weekday must be 0 (Monday) to 6 (Sunday)"}


@pytest.mark.parametrize(
    ("opens", "closes"),
    [("25:00", "26:00"), ("9am", "5pm"), ("", "18:00"), ("09:00", None), (900, 1800),
     ("10:00Z", "18:00"), ("10:00+08:00", "18:00+08:00"), ("10:00", "24:00")],
)
def test_clean_hours_refuses_bad_time_strings(opens, closes):
    with pytest.raises(ValidationFailed) as excinfo:
        _clean_hours(_hours((0, opens, closes)))
    assert list(excinfo.value.details) == ["hours[0]"]


def test_clean_hours_reports_every_bad_row_and_missing_keys():
    with pytest.raises(ValidationFailed) as excinfo:
        _clean_hours([
            {"weekday": 0, "opens": "09:00", "closes": "12:00"},
            {"weekday": 9, "opens": "09:00", "closes": "12:00"},
            {"weekday": 1, "closes": "12:00"},
            {"weekday": 2, "opens": "13:00", "closes": "24:00"},
        ])
    assert excinfo.value.details == {
        "hours[1]": "weekday must be 0 (Monday) to 6 (Sunday)",
        "hours[2]": "'opens' is required",
        "hours[3]": "must be a time HH:MM",
    }


# -- is_open_at / intervals_on on in-memory stores ---------------------------------

MONDAY = date(2026, 1, 5)


def _store(tz: str, weekdays=range(7), opens=time(10), closes=time(20), exceptions=()) -> Store:
    """A transient store: relationships set in memory, nothing touches a database."""
    return Store(
        name="In memory",
        timezone=tz,
        hours=[OpeningHours(weekday=d, opens_at=opens, closes_at=closes) for d in weekdays],
        exceptions=list(exceptions),
    )


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_transient_store_needs_no_database():
    store = _store("Asia/Shanghai")
    assert store.id is None
    assert len(store.hours) == 7
    assert store.exceptions == []


def test_open_at_ten_shanghai_time_which_is_two_utc():
    store = _store("Asia/Shanghai")
    assert MONDAY.weekday() == 0
    assert is_open_at(store, _utc(2026, 1, 5, 2, 0)) is True  # 10:00 local
    assert is_open_at(store, _utc(2026, 1, 5, 1, 59)) is False  # 09:59 local
    assert is_open_at(store, _utc(2026, 1, 5, 11, 59)) is True  # 19:59 local
    assert is_open_at(store, _utc(2026, 1, 5, 12, 0)) is False  # 20:00 local: closing is exclusive


def test_the_moment_may_be_given_in_any_zone():
    store = _store("Asia/Shanghai")
    from zoneinfo import ZoneInfo

    assert is_open_at(store, datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))) is True
    assert is_open_at(store, datetime(2026, 1, 4, 21, 0, tzinfo=ZoneInfo("America/New_York"))) is True
    assert is_open_at(store, datetime(2026, 1, 5, 9, 59, tzinfo=ZoneInfo("Asia/Shanghai"))) is False


def test_weekday_is_taken_in_store_local_time():
    # Monday 02:00 UTC is Monday 10:00 in Shanghai but Sunday 21:00 in New York.
    moment = _utc(2026, 1, 5, 2, 0)
    shanghai_mondays = _store("Asia/Shanghai", weekdays=[0])
    new_york_sunday_evenings = _store("America/New_York", weekdays=[6], opens=time(20), closes=time(22))
    new_york_mondays = _store("America/New_York", weekdays=[0], opens=time(0), closes=time(23, 59))
    assert is_open_at(shanghai_mondays, moment) is True
    assert is_open_at(new_york_sunday_evenings, moment) is True
    assert is_open_at(new_york_mondays, moment) is False


def test_same_instant_different_zones():
    moment = _utc(2026, 1, 5, 2, 0)
    assert is_open_at(_store("Asia/Shanghai"), moment) is True
    assert is_open_at(_store("America/New_York"), moment) is False  # 21:00 the evening before
    later = _utc(2026, 1, 5, 15, 0)  # 10:00 in New York (EST), 23:00 in Shanghai
    assert is_open_at(_store("America/New_York"), later) is True
    assert is_open_at(_store("Asia/Shanghai"), later) is False


def test_closed_exception_overrides_weekly_hours():
    store = _store("Asia/Shanghai", exceptions=[HoursException(day=MONDAY, is_closed=True, note="Holiday")])
    assert intervals_on(store, MONDAY) == []
    assert is_open_at(store, _utc(2026, 1, 5, 4, 0)) is False  # Monday 12:00 local
    assert intervals_on(store, date(2026, 1, 6)) == [(time(10), time(20))]
    assert is_open_at(store, _utc(2026, 1, 6, 4, 0)) is True  # Tuesday is untouched


def test_closed_exception_applies_to_the_local_date_not_the_utc_date():
    # 2026-01-05 17:00 UTC is already 2026-01-06 01:00 in Shanghai.
    store = _store("Asia/Shanghai", opens=time(0), closes=time(23, 59),
                   exceptions=[HoursException(day=date(2026, 1, 6), is_closed=True)])
    assert is_open_at(store, _utc(2026, 1, 5, 15, 0)) is True  # Monday 23:00 local
    assert is_open_at(store, _utc(2026, 1, 5, 17, 0)) is False  # Tuesday 01:00 local


def test_special_hours_exception_replaces_the_day():
    special = HoursException(day=MONDAY, is_closed=False, opens_at=time(12), closes_at=time(14))
    store = _store("Asia/Shanghai", exceptions=[special])
    assert intervals_on(store, MONDAY) == [(time(12), time(14))]
    assert is_open_at(store, _utc(2026, 1, 5, 2, 30)) is False  # 10:30 local: usually open
    assert is_open_at(store, _utc(2026, 1, 5, 4, 0)) is True  # 12:00 local
    assert is_open_at(store, _utc(2026, 1, 5, 5, 59)) is True  # 13:59 local
    assert is_open_at(store, _utc(2026, 1, 5, 6, 0)) is False  # 14:00 local


def test_special_hours_can_open_a_day_the_store_is_usually_closed():
    sunday = date(2026, 1, 4)
    special = HoursException(day=sunday, is_closed=False, opens_at=time(9), closes_at=time(11))
    store = _store("Asia/Shanghai", weekdays=range(6), exceptions=[special])
    assert intervals_on(store, date(2025, 12, 28)) == []  # an ordinary Sunday
    assert intervals_on(store, sunday) == [(time(9), time(11))]
    assert is_open_at(store, _utc(2026, 1, 4, 1, 30)) is True  # 09:30 local


def test_intervals_on_returns_the_lunch_break():
    store = Store(timezone="Europe/Paris", hours=[
        OpeningHours(weekday=0, opens_at=time(9), closes_at=time(12)),
        OpeningHours(weekday=0, opens_at=time(14), closes_at=time(18)),
        OpeningHours(weekday=1, opens_at=time(10), closes_at=time(11)),
    ])
    assert intervals_on(store, MONDAY) == [(time(9), time(12)), (time(14), time(18))]
    assert is_open_at(store, _utc(2026, 1, 5, 12, 0)) is False  # 13:00 CET, lunch
    assert is_open_at(store, _utc(2026, 1, 5, 13, 0)) is True  # 14:00 CET


def test_dst_does_not_move_opening_hours():
    # Europe/Paris springs forward on Sunday 2026-03-29 (CET +01:00 -> CEST +02:00).
    store = _store("Europe/Paris", opens=time(10), closes=time(18))
    # Saturday before: 10:30 local is 09:30 UTC.
    assert is_open_at(store, _utc(2026, 3, 28, 9, 30)) is True
    assert is_open_at(store, _utc(2026, 3, 28, 8, 30)) is False  # 09:30 CET
    # Monday after: 10:30 local is 08:30 UTC.
    assert is_open_at(store, _utc(2026, 3, 30, 8, 30)) is True
    assert is_open_at(store, _utc(2026, 3, 30, 7, 30)) is False  # 09:30 CEST
    assert is_open_at(store, _utc(2026, 3, 30, 15, 30)) is True  # 17:30 CEST
    assert is_open_at(store, _utc(2026, 3, 30, 16, 30)) is False  # 18:30 CEST (17:30 under a fixed +01:00)


def test_unknown_time_zone_is_never_open():
    assert is_open_at(_store("Mars/Olympus_Mons"), _utc(2026, 1, 5, 12, 0)) is False


# -- Config ------------------------------------------------------------------------

CONFIG_PY = Path(__file__).resolve().parents[2] / "app" / "config.py"
STRONG_SECRET = "s" * 40


def _fresh_config_module(name: str):
    """Execute app/config.py as a new module, so class bodies read the environment now.

    A separate module object leaves ``app.config`` (imported everywhere else) untouched.
    """
    spec = importlib.util.spec_from_file_location(f"_onsite_config_{name}", CONFIG_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("ONSITE_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@localhost:5432/onsite")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("ONSITE_ENV", raising=False)
    monkeypatch.delenv("ONSITE_CLOCK_OFFSET", raising=False)  # set by a run at another instant (--at)
    return monkeypatch


def test_production_refuses_to_start_without_secret_key(env, tmp_path):
    env.setenv("ONSITE_ENV", "production")
    config = _fresh_config_module("prod_no_secret")
    assert config.Config.IS_PRODUCTION is True
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set when ONSITE_ENV=production"):
        config.Config()
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_refuses_an_empty_or_short_secret_key(env):
    env.setenv("ONSITE_ENV", "production")
    config = _fresh_config_module("prod_short_secret")
    env.setenv("SECRET_KEY", "")
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        config.Config()
    env.setenv("SECRET_KEY", "too-short")
    with pytest.raises(RuntimeError, match="at least 32 characters"):
        config.Config()


def test_production_with_a_real_secret_key_uses_secure_cookies(env):
    env.setenv("ONSITE_ENV", "production")
    env.setenv("SECRET_KEY", STRONG_SECRET)
    config = _fresh_config_module("prod_ok").Config()
    assert config.SECRET_KEY == STRONG_SECRET
    assert config.SESSION_COOKIE_SECURE is True
    assert config.REMEMBER_COOKIE_SECURE is True
    assert config.SESSION_COOKIE_HTTPONLY is True
    assert config.SESSION_COOKIE_SAMESITE == "Lax"
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@localhost:5432/onsite"


def test_production_refuses_a_clock_offset(env):
    env.setenv("ONSITE_ENV", "production")
    env.setenv("SECRET_KEY", STRONG_SECRET)
    env.setenv("ONSITE_CLOCK_OFFSET", "3600")
    with pytest.raises(RuntimeError, match="ONSITE_CLOCK_OFFSET is for tests"):
        _fresh_config_module("prod_clock").Config()


def test_outside_production_the_app_runs_at_the_configured_offset(env, clock):
    env.setenv("ONSITE_CLOCK_OFFSET", "-86400")
    config = _fresh_config_module("dev_clock").Config()
    assert config.CLOCK_OFFSET_SECONDS == -86400
    from app import create_app

    clock.reset()
    create_app(config)
    assert clock.offset_seconds() == -86400


def test_development_generates_a_secret_once_into_the_instance_folder(env, tmp_path):
    module = _fresh_config_module("dev")
    first = module.Config()
    key_file = tmp_path / "instance" / "secret_key"
    assert first.SESSION_COOKIE_SECURE is False
    assert len(first.SECRET_KEY) == 64
    assert key_file.read_text() == first.SECRET_KEY
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert module.Config().SECRET_KEY == first.SECRET_KEY


def test_missing_database_url_is_refused_with_a_hint(env):
    env.delenv("DATABASE_URL")
    env.setenv("SECRET_KEY", STRONG_SECRET)
    with pytest.raises(RuntimeError, match="DATABASE_URL is not set"):
        _fresh_config_module("no_db").Config()
